"""Turn a fetched feed body into FeedItems (feedparser does the format work)."""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from .models import FeedItem
from .urls import canonical_url

_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ParsedFeed:
    items: list[FeedItem]
    title: str = ""
    ttl_seconds: int | None = None  # RSS <ttl>: the publisher asks us not to poll more often
    error: str | None = None  # set when nothing usable could be read


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", text or ""))).strip()


def _published(entry: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError):
                continue
    return None


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Items with a usable link; a feed we cannot read at all gives an error, not an exception."""
    parsed = feedparser.parse(body, response_headers=headers or {}, sanitize_html=False)
    items: list[FeedItem] = []
    for entry in parsed.entries:
        link = entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else None)
        if not link:
            continue
        link = urljoin(url, link.strip())
        if not link.startswith(("http://", "https://")):
            continue
        author = entry.get("author") or None
        items.append(FeedItem(
            url=link,
            canonical_url=canonical_url(link),
            guid=entry.get("id") or None,
            title=_plain(entry.get("title", "")),
            summary=_plain(entry.get("summary", "")),
            published=_published(entry),
            author=_plain(author) if author else None,
        ))
    error = None
    if not items and parsed.get("bozo"):
        error = f"malformed feed: {parsed.get('bozo_exception')}".splitlines()[0]
    elif not items and not parsed.get("version"):
        error = "not a feed: no RSS or Atom content found"
    ttl = parsed.feed.get("ttl")
    ttl_seconds = int(ttl) * 60 if isinstance(ttl, str) and ttl.isdigit() else None
    return ParsedFeed(items=items, title=_plain(parsed.feed.get("title", "")), ttl_seconds=ttl_seconds, error=error)
