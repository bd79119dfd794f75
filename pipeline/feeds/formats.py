"""The feed formats feedparser does not read: JSON Feed 1.0/1.1 and Google News sitemaps.

Both give the same ParsedFeed as the RSS/Atom path in `parse`. XML is read with entity
resolution, DTD loading and network access switched off, so a hostile sitemap cannot expand
entities or make us read local files.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from pipeline.fetch import BadUrl, Url, canonical_of_clean, clean_url, parse_url
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
    skipped: tuple[str, ...] = ()  # one reason per entry that gave nothing to store


def _shown(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def feed_item(links: Iterable[object], feed_url: str, *, guid: str | None, title: str, summary: str,
              published: datetime | None, author: str | None = None) -> FeedItem | str:
    """The FeedItem for one feed entry, or the reason it is skipped.

    `links` are the entry's candidate links in order of preference (its link, then a GUID that may
    be one); the first usable one wins. With none usable the entry is still an item when it has
    text: it is stored from that text, with an identity from its GUID or the text itself.
    """
    bad: BadUrl | None = None
    guid = storable(guid) if guid is not None else None
    author = storable(author) if author is not None else None
    for raw in links:
        if not isinstance(raw, str) or not raw.strip():
            continue
        link = parse_url(storable(raw), feed_url)
        if isinstance(link, Url):
            # clean_url only drops tracking parameters, but it must not turn a good link into a bad one
            # (parsed again only when cleaning changed it), and courlan runs once for link and key
            cleaned = clean_url(link.text)
            url = cleaned if cleaned == link.text or isinstance(parse_url(cleaned), Url) else link.text
            return FeedItem(url=url, canonical_url=canonical_of_clean(cleaned, link.text), guid=guid, title=title,
                            summary=summary, published=published, author=author)
        bad = bad or link
    problem = f"unusable link {_shown(bad.text)!r}: {bad.reason}" if bad else "no link"
    if not (title or summary):
        return f"{problem}, and no title or summary to store"
    return FeedItem(url="", canonical_url=text_identity(feed_url, guid, title, summary), guid=guid, title=title,
                    summary=summary, published=published, author=author, link_problem=problem)


def text_identity(feed_url: str, guid: str | None, title: str, summary: str) -> str:
    """The identity of an item without a usable link. A GUID is unique only within its feed (many
    feeds number their items 1, 2, 3), so it is keyed by the feed; the same text is the same item
    wherever it appears, like the same canonical URL."""
    basis = f"guid\n{feed_url}\n{guid}" if guid else f"text\n{title}\n{summary}"
    return "feed-text:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", storable(text or "")))).strip()


def storable(text: str) -> str:
    """`text` with lone surrogates (a JSON feed may escape one: "\\ud800") replaced: they cannot be
    written as UTF-8, so one would fail the whole write of the feed's items."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


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
    skipped: list[str] = []
    entries = data.get("items")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            skipped.append("item is not a JSON object")
            continue
        summary = entry.get("summary") or entry.get("content_text") or plain(str(entry.get("content_html") or ""))
        item = feed_item(
            (entry.get("url"), entry.get("external_url")), url,
            guid=str(entry["id"]) if entry.get("id") not in (None, "") else None,
            title=plain(str(entry.get("title") or "")),
            summary=plain(str(summary))[:MAX_SUMMARY_CHARS],
            published=parse_date(entry.get("date_published")) or parse_date(entry.get("date_modified")),
            author=_json_author(entry),
        )
        if isinstance(item, str):
            skipped.append(item)
        else:
            items.append(item)
    return ParsedFeed(items=items, title=plain(str(data.get("title") or "")), format=version,
                      skipped=tuple(skipped))


def _json_author(entry: dict) -> str | None:
    authors = entry.get("authors") or ([entry["author"]] if isinstance(entry.get("author"), dict) else [])
    if not isinstance(authors, list):  # a feed's JSON is whatever its publisher wrote: {"authors": 1} happens
        return None
    names = [plain(str(a.get("name"))) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None


# -- Google News sitemaps (https://developers.google.com/search/docs/crawling-indexing/sitemaps/news-sitemap)

def safe_xml_parser(*, recover: bool) -> etree.XMLParser:
    """lxml's XML parser with entities, DTDs, the network and huge trees refused: what every feed
    document we read with lxml goes through (`recover` for sitemaps, which may be sloppy; strict for
    `prune`, which must read exactly what feedparser reads)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           recover=recover)


def parse_news_sitemap(body: bytes, url: str) -> ParsedFeed:
    """The <url> entries that carry <news:news>: a plain sitemap lists every page ever, not news."""
    try:
        root = etree.fromstring(body, parser=safe_xml_parser(recover=True))
    except etree.XMLSyntaxError as exc:
        return ParsedFeed(items=[], error=f"malformed sitemap: {exc}", format="sitemap")
    if root is None:
        return ParsedFeed(items=[], error="malformed sitemap: no root element", format="sitemap")
    if etree.QName(root).localname == "sitemapindex":
        return ParsedFeed(items=[], error="a sitemap index: list the news sitemap itself as the feed",
                          format="sitemap")
    items: list[FeedItem] = []
    skipped: list[str] = []
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname != "url":
            continue
        news = node.find(f"{{{NEWS_NS}}}news")
        if news is None:
            continue  # a plain sitemap entry: any page of the site, not news
        item = feed_item(
            (_child_text(node, "loc"),), url, guid=None,
            title=plain(news.findtext(f"{{{NEWS_NS}}}title") or ""),
            summary="",
            published=parse_date(news.findtext(f"{{{NEWS_NS}}}publication_date")),
        )
        if isinstance(item, str):
            skipped.append(item)
        else:
            items.append(item)
    error = None if items or skipped else "sitemap without news:news entries"
    publication = root.findtext(f".//{{{NEWS_NS}}}publication/{{{NEWS_NS}}}name") or ""
    return ParsedFeed(items=items, title=plain(publication), error=error, format="news-sitemap",
                      skipped=tuple(skipped))


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
