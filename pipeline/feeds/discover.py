"""`newswatch sources add URL`: find a site's feeds and write its source file.

A homepage names its feeds with <link rel="alternate" type="application/rss+xml" href="...">; when
it names none we try the handful of paths CMSs use. The URL given may also be a feed itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from pipeline.config import Config, NetworkSection
from pipeline.fetch import FEED_ACCEPT, PAGE_ACCEPT, BadUrl, HttpClient, parse_url, usable_url

from .parse import parse_feed
from .sources import parse_source

FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/feed+json", "application/json",
    "application/rdf+xml", "application/xml", "text/xml",
})
# Where WordPress, Ghost, Hugo, Jekyll, Drupal and friends put the feed when the page does not say.
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feeds/posts/default")


class DiscoveryError(Exception):
    """No feed found, or the page could not be fetched: one line for the user."""


@dataclass(frozen=True)
class SourceDraft:
    """A source file to be written: what `sources add` and `import-opml` produce."""

    name: str
    homepage: str
    feeds: list[str]
    language: str = "en"
    min_delay: float | None = None
    intervals: dict[str, int] = field(default_factory=dict)  # feed URL -> minutes, when known


def discover_feeds(html: str | bytes, base_url: str) -> list[str]:
    """Absolute feed URLs the page advertises, in page order, without duplicates; comment feeds last."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    base_element = root.find(".//base[@href]")
    base = (usable_url(base_element.get("href"), base_url) if base_element is not None else None) or base_url
    found: list[tuple[bool, str]] = []
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" not in rels or kind not in FEED_TYPES or not href:
            continue
        url = usable_url(href, base)
        if not url:
            continue  # a feed we could not fetch is no feed to offer
        comments = "comment" in (link.get("title") or "").lower() or "/comments/" in url
        found.append((comments, url))
    seen: set[str] = set()
    ordered = [url for _, url in sorted(found, key=lambda item: item[0])]  # stable: page order kept
    return [u for u in ordered if not (u in seen or seen.add(u))]


def page_name(html: str | bytes, url: str) -> str:
    """The site's name: og:site_name, else the first part of <title>, else the host."""
    host = (urlsplit(url).hostname or url).removeprefix("www.")
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return host
    site = root.xpath("string(//meta[@property='og:site_name']/@content)").strip()
    if site:
        return site
    title = re.split(r"\s+[|\-–—:·]\s+", (root.findtext(".//title") or "").strip())[0].strip()
    return title or host


def page_language(html: str | bytes) -> str | None:
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    lang = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "").strip()
    code = lang.split("-")[0].split("_")[0].lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else None


async def discover_source(url: str, client: HttpClient) -> SourceDraft:
    """Fetch `url` and work out its source: its feeds, name and language. Raises DiscoveryError."""
    parsed = parse_url(url)
    if isinstance(parsed, BadUrl):
        raise DiscoveryError(f"not a URL we can fetch: {parsed.reason}")
    page = await client.get(url, accept=f"{PAGE_ACCEPT}, {FEED_ACCEPT}", min_delay=0)
    if not page.ok:
        raise DiscoveryError(f"cannot fetch {url}: {page.error}")
    feed = parse_feed(page.body, page.final_url, page.headers)
    if feed.items and not feed.error:  # the URL is a feed already
        parts = urlsplit(page.final_url)
        homepage = _feed_homepage(page.body) or f"{parts.scheme}://{parts.netloc}/"
        return SourceDraft(name=feed.title or urlsplit(url).hostname or url, homepage=homepage, feeds=[url])
    feeds = discover_feeds(page.body, page.final_url)
    if not feeds:
        feeds = await _probe_common_paths(page.final_url, client)
    if not feeds:
        raise DiscoveryError(f"no feed found on {page.final_url}: it has no <link rel=\"alternate\"> to a feed")
    return SourceDraft(name=page_name(page.body, page.final_url), homepage=page.final_url, feeds=feeds[:1],
                       language=page_language(page.body) or "en")


def _feed_homepage(body: bytes) -> str | None:
    import feedparser

    return usable_url(feedparser.parse(body).feed.get("link"))


async def _probe_common_paths(page_url: str, client: HttpClient) -> list[str]:
    for path in COMMON_FEED_PATHS:
        candidate = urljoin(page_url, path)
        result = await client.get(candidate, accept=FEED_ACCEPT)
        if result.ok:
            parsed = parse_feed(result.body, result.final_url, result.headers)
            if parsed.items and not parsed.error:
                return [result.final_url]
    return []


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "source"


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def source_toml(draft: SourceDraft) -> str:
    """The source file text, in the format `sources` reads."""
    lines = [f"name = {_toml_string(draft.name)}"]
    if draft.homepage:
        lines.append(f"homepage = {_toml_string(draft.homepage)}")
    lines.append(f"language = {_toml_string(draft.language)}")
    if draft.min_delay is not None:
        lines.append(f"min_delay = {draft.min_delay:g}")
    for url in draft.feeds:
        lines += ["", "[[feeds]]", f"url = {_toml_string(url)}"]
        if url in draft.intervals:
            lines.append(f"interval = {draft.intervals[url]}")
    return "\n".join(lines) + "\n"


def write_source(draft: SourceDraft, sources_dir: Path, *, overwrite: bool = False) -> Path:
    """Write `draft` as sources_dir/<slug>.toml; validated as the loader will read it.

    Raises FileExistsError unless `overwrite`, and ConfigError if the draft is not a valid source.
    """
    text = source_toml(draft)
    path = Path(sources_dir) / f"{slugify(draft.name)}.toml"
    parse_source(tomllib.loads(text), path, text)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def add_source(url: str, config: Config, *, name: str | None = None, language: str | None = None,
               network: NetworkSection | None = None) -> Path:
    """`newswatch sources add URL`: discover the feed and write the source file; returns its path.

    Raises DiscoveryError (nothing found), FileExistsError (a source file of that name exists).
    """

    async def run() -> SourceDraft:
        async with HttpClient(network or config.network) as client:
            return await discover_source(url, client)

    draft = asyncio.run(run())
    if name or language:
        draft = SourceDraft(name=name or draft.name, homepage=draft.homepage, feeds=draft.feeds,
                            language=language or draft.language)
    return write_source(draft, config.sources_dir)
