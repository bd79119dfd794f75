"""The feed formats feedparser does not read: JSON Feed 1.0/1.1 and Google News sitemaps.

Both give the same ParsedFeed as the RSS/Atom path in `parse`. XML is read with entity
resolution, DTD loading and network access switched off, so a hostile sitemap cannot expand
entities or make us read local files.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from lxml import etree

from pipeline.fetch import canonical_url, clean_url
from pipeline.models import FeedItem

_TAGS = re.compile(r"<[^>]+>")
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MAX_SUMMARY_CHARS = 5_000  # content_html can be a whole article; a summary is a summary


@dataclass(frozen=True)
class ParsedFeed:
    items: list[FeedItem]
    title: str = ""
    ttl_seconds: int | None = None  # RSS <ttl>: the publisher asks us not to poll more often
    error: str | None = None  # set when nothing usable could be read
    format: str = ""  # rss20, atom10, json1.1, news-sitemap, ... (feedparser's names where it has them)


def link_fields(link: str) -> dict[str, str]:
    """A FeedItem's two URLs: the clean one we fetch and show, and the identity key."""
    return {"url": clean_url(link), "canonical_url": canonical_url(link)}


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", text or ""))).strip()


def absolute_http(link: object, base: str) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return None
    link = urljoin(base, link.strip())
    return link if link.startswith(("http://", "https://")) else None


def parse_date(value: object) -> datetime | None:
    """RFC 3339 / ISO 8601 (JSON Feed and sitemaps use it); naive times are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


# -- JSON Feed (https://jsonfeed.org/version/1.1) ------------------------------------------------

def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))  # JSON Feed is UTF-8 by definition
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ParsedFeed(items=[], error=f"malformed JSON feed: {exc}", format="json")
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        return ParsedFeed(items=[], error="not a feed: JSON without a jsonfeed.org version", format="json")
    version = "json" + str(data["version"]).rsplit("/", 1)[-1]
    items: list[FeedItem] = []
    for entry in data.get("items") or []:
        if not isinstance(entry, dict):
            continue
        link = absolute_http(entry.get("url") or entry.get("external_url"), url)
        if not link:
            continue
        summary = entry.get("summary") or entry.get("content_text") or plain(str(entry.get("content_html") or ""))
        items.append(FeedItem(
            **link_fields(link),
            guid=str(entry["id"]) if entry.get("id") not in (None, "") else None,
            title=plain(str(entry.get("title") or "")),
            summary=plain(str(summary))[:MAX_SUMMARY_CHARS],
            published=parse_date(entry.get("date_published")) or parse_date(entry.get("date_modified")),
            author=_json_author(entry),
        ))
    return ParsedFeed(items=items, title=plain(str(data.get("title") or "")), format=version)


def _json_author(entry: dict) -> str | None:
    authors = entry.get("authors") or ([entry["author"]] if isinstance(entry.get("author"), dict) else [])
    names = [plain(str(a.get("name"))) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None


# -- Google News sitemaps (https://developers.google.com/search/docs/crawling-indexing/sitemaps/news-sitemap)

def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           recover=True)


def parse_news_sitemap(body: bytes, url: str) -> ParsedFeed:
    """The <url> entries that carry <news:news>: a plain sitemap lists every page ever, not news."""
    try:
        root = etree.fromstring(body, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        return ParsedFeed(items=[], error=f"malformed sitemap: {exc}", format="sitemap")
    if root is None:
        return ParsedFeed(items=[], error="malformed sitemap: no root element", format="sitemap")
    if etree.QName(root).localname == "sitemapindex":
        return ParsedFeed(items=[], error="a sitemap index: list the news sitemap itself as the feed",
                          format="sitemap")
    items: list[FeedItem] = []
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname != "url":
            continue
        news = node.find(f"{{{NEWS_NS}}}news")
        link = absolute_http(_child_text(node, "loc"), url)
        if news is None or not link:
            continue
        items.append(FeedItem(
            **link_fields(link),
            guid=None,
            title=plain(news.findtext(f"{{{NEWS_NS}}}title") or ""),
            summary="",
            published=parse_date(news.findtext(f"{{{NEWS_NS}}}publication_date")),
        ))
    error = None if items else "sitemap without news:news entries"
    publication = root.findtext(f".//{{{NEWS_NS}}}publication/{{{NEWS_NS}}}name") or ""
    return ParsedFeed(items=items, title=plain(publication), error=error, format="news-sitemap")


def _child_text(node: etree._Element, localname: str) -> str | None:
    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).localname == localname:
            return child.text
    return None


def sniff(body: bytes, content_type: str = "") -> str:
    """"json", "sitemap" or "xml" (RSS/Atom/anything else: feedparser's job)."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")) or ("json" in content_type.lower() and not head.startswith(b"<")):
        return "json"
    if re.search(rb"<(?:[\w-]+:)?(?:urlset|sitemapindex)\b", head):
        return "sitemap"
    return "xml"
