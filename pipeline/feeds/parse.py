"""Turn a fetched feed body into FeedItems, whatever the format.

RSS 0.9x/1.0/2.0 and Atom go through feedparser, which also copes with wrong or missing charsets
and neutralises entity declarations (no billion laughs, no external entities: see the tests).
JSON Feed and Google News sitemaps are read in feed_formats.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from datetime import UTC, datetime

import feedparser

from pipeline.models import FeedItem

from .formats import ParsedFeed, feed_item, parse_json_feed, parse_news_sitemap, plain, sniff, storable
from .identity import identify_guidless
from .prune import without_known

__all__ = ["ParsedFeed", "parse_feed"]
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _no_impossible_characters(body: bytes) -> bytes:
    """Character references to a surrogate or past U+10FFFF replaced by U+FFFD: feedparser raises on
    them, which would cost the whole feed for one bad character."""
    if b"&#" not in body:
        return body

    def fix(match: re.Match[bytes]) -> bytes:
        code = int(match[1], 16) if match[1] else int(match[2])
        return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match[0]

    return _CHAR_REF.sub(fix, body)


def _published(entry: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError):
                continue
    return None


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None,
               known_guids: frozenset[str] = frozenset(), *, prune: bool = True) -> ParsedFeed:
    """Every entry with a usable link or some text, and why the others were skipped; a feed we
    cannot read at all gives an error, not an exception.

    RSS and Atom entries whose GUID is in `known_guids` (this feed's, from the store) are left out
    before any work on their links and text: the store would find them known anyway, and most
    polls of a changed feed bring one new entry among twenty (issue 23). Where `prune.without_known`
    can tell which they are, they are cut from the body before feedparser reads it; `prune=False`
    makes feedparser read the whole body, as the tests do to show the two give the same feed."""
    headers = headers or {}
    kind = sniff(body, headers.get("content-type", ""))
    if kind == "json":
        parsed = parse_json_feed(body, url)
    elif kind == "sitemap":
        parsed = parse_news_sitemap(body, url)
    else:
        parsed = _parse_xml_feed(body, url, headers, known_guids, prune)
    return replace(parsed, items=identify_guidless(parsed.items))


def _parse_xml_feed(body: bytes, url: str, headers: dict[str, str], known_guids: frozenset[str],
                    prune: bool) -> ParsedFeed:
    known = 0
    pruned = without_known(body, headers, known_guids) if prune else None
    if pruned is not None:
        body, known = pruned
    try:
        parsed = feedparser.parse(_no_impossible_characters(body), response_headers=headers, sanitize_html=False)
    except Exception as exc:  # its loose parser raises KeyError and friends on some broken bytes
        return ParsedFeed(items=[], error=f"malformed feed: the parser failed: {type(exc).__name__}: {exc}"
                          .splitlines()[0])
    items: list[FeedItem] = []
    skipped: list[str] = []
    for entry in parsed.entries:
        guid = entry.get("id") or None
        if guid and known_guids and storable(guid) in known_guids:
            known += 1
            continue
        author = entry.get("author") or None
        # A GUID is a link only when it looks like one; "urn:uuid:..." or "id-2" is just an identity.
        guid_link = guid if isinstance(guid, str) and guid.strip().lower().startswith("http") else None
        item = feed_item(
            (entry.get("link"), guid_link), url,
            guid=guid,
            title=plain(entry.get("title", "")),
            summary=plain(entry.get("summary", "")),
            published=_published(entry),
            author=plain(author) if author else None,
        )
        if isinstance(item, str):
            skipped.append(item)
        else:
            items.append(item)
    error = None
    benign = isinstance(parsed.get("bozo_exception"), _BENIGN)  # a charset or MIME-type quibble, not a broken feed
    if not items and not skipped and not known and parsed.get("bozo") and not benign:
        error = f"malformed feed: {parsed.get('bozo_exception')}".splitlines()[0]
    elif not items and not skipped and not known and not parsed.get("version"):
        error = "not a feed: no RSS or Atom content found"
    ttl = parsed.feed.get("ttl")
    ttl_seconds = int(ttl) * 60 if isinstance(ttl, str) and ttl.strip().isdigit() else None
    return ParsedFeed(items=items, title=plain(parsed.feed.get("title", "")), ttl_seconds=ttl_seconds, error=error,
                      format=parsed.get("version") or "", skipped=tuple(skipped))
