"""Which feed entries are the same entry when the feed gives no GUID.

The store knows an entry by its canonical URL, or by the GUID its feed gave it. Some feeds give no
GUID and put a fresh session or tracking segment into every link on every poll: by the link alone
the same story would be new each time. Such an entry is known by what it says instead — its
title, date and text — a fingerprint that stands in for the GUID, so the store's per-feed GUID
check recognises it on the next poll.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from datetime import datetime

from pipeline.models import FeedItem


def content_fingerprint(title: str, published: datetime | None, summary: str) -> str | None:
    """The stand-in GUID for an entry without one, or None when it says too little to be told apart
    from a different entry: at least two of title, date and text are needed ("Photos of the day",
    undated and without text, is a new item every day, not the same one)."""
    when = published.isoformat() if published else ""
    if sum(1 for part in (title, when, summary) if part) < 2:
        return None
    basis = f"content\n{title}\n{when}\n{summary}"
    return "content:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def identify_guidless(items: list[FeedItem]) -> list[FeedItem]:
    """`items` of one feed body, those with a link but no GUID given their content fingerprint as GUID.

    Two entries of the same body with the same fingerprint but different links are two entries
    the feed lists side by side, not one: they keep their links as their only identity. Entries
    without a usable link already have an identity made of their text (`formats.text_identity`).
    """
    prints = [content_fingerprint(i.title, i.published, i.summary) if i.url and not i.guid else None
              for i in items]
    counts = Counter(p for p in prints if p)
    return [replace(item, guid=p) if p and counts[p] == 1 else item for item, p in zip(items, prints, strict=True)]
