"""Wording every digest format shares, so the header and footer read the same everywhere."""

from __future__ import annotations

from datetime import datetime

from .build import Digest, DigestEntry

EARLIER = "Reported earlier"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def local_time(moment: datetime | None) -> str:
    """Moments are already in the digest's time zone; the abbreviation says which."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y %H:%M %Z}".strip()


def empty_line(digest: Digest) -> str:
    """What an empty digest says: "today" only when the period is the day it was made on."""
    line = "Nothing today: no items on this topic." if digest.covers_today else \
        f"Nothing on this topic for {digest.period}."
    if digest.published_elsewhere:
        line += (f" {plural(digest.published_elsewhere, 'item')} published then reached newswatch late: "
                 "in a later digest under Reported earlier, or backlog.")
    return line


def late_line(entry: DigestEntry) -> str:
    """Why a story is in this digest though published before it: its date and when we first saw it."""
    seen = entry.first_seen.astimezone(entry.published.tzinfo) if entry.published else entry.first_seen
    return " · ".join(p for p in (", ".join(entry.sources), f"published {local_time(entry.published)}",
                                  f"first seen {local_time(seen)}") if p)


def counts_line(digest: Digest) -> str:
    parts = [f"{plural(len(digest.stories), 'story', 'stories')} "
             f"and {plural(len(digest.mentions), 'mention')} from {plural(digest.outlets, 'outlet')}",
             f"{plural(digest.items, 'tagged item')}"]
    if digest.earlier:
        parts.append(f"{plural(len(digest.earlier), 'story', 'stories')} reported earlier")
    if digest.capped:
        parts.append(f"{digest.capped} more left out by the per-source cap")
    parts.append(f"times in {digest.timezone}")
    return " · ".join(parts)


def failing_line(digest: Digest) -> list[str]:
    """The footer's warning, so a feed that died silently is noticed; empty when all were well."""
    if not digest.failing:
        return []
    lines = ["Sources failing during the period:"]
    for f in digest.failing:
        error = f.error if len(f.error) <= 160 else f.error[:160] + "…"
        lines.append(f"{f.source} ({f.health}): {f.url}" + (f" — {error}" if error else ""))
    return lines


ROOM_LABEL = "Why tagged"  # the link to a story's page in the reading room
