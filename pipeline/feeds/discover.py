"""`newswatch sources add URL`: find a site's feeds and write its source file.

A homepage names its feeds with <link rel="alternate" type="application/rss+xml" href="...">; when
it names none we try the handful of paths CMSs use. The URL given may also be a feed itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from pipeline.config import Config, NetworkSection
from pipeline.fetch import FEED_ACCEPT, PAGE_ACCEPT, BadUrl, HttpClient, decode_html, parse_url, usable_url

from .parse import parse_feed
from .sources import parse_source, read_sources

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
    category: str = ""  # the reader's folder, from OPML


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


def _page_text(body: bytes, content_type: str | None) -> str:
    """The page as text through the one charset path (headers, BOM, <meta>, then detection): lxml
    left to guess reads undeclared UTF-8 as Latin-1, and "—" becomes "â"."""
    text = decode_html(body, content_type)
    # lxml refuses a str that still declares its encoding
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text)


_ARTICLE_TYPES = ("article", "newsarticle", "reportagenewsarticle", "blogposting")


def looks_like_article(html: str) -> bool:
    """Whether a page says it is one article (og:type, article:published_time, JSON-LD) rather than
    an outlet's front page."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return False
    if root.xpath("string(//meta[@property='og:type']/@content)").strip().lower() == "article":
        return True
    if root.xpath("//meta[@property='article:published_time']"):
        return True
    for script in root.xpath("//script[@type='application/ld+json']/text()"):
        if re.search(r'"@type"\s*:\s*"(' + "|".join(_ARTICLE_TYPES) + ')"', script, re.I):
            return True
    return False


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
    html = _page_text(page.body, page.headers.get("content-type"))
    feeds = discover_feeds(html, page.final_url)
    if not feeds:
        feeds = await _probe_common_paths(page.final_url, client)
    if not feeds:
        raise DiscoveryError(f"no feed found on {page.final_url}: it has no <link rel=\"alternate\"> to a feed")
    if looks_like_article(html):
        # An article page would name the source after one story and set its homepage there.
        raise DiscoveryError(f"{page.final_url} is an article, not the outlet's homepage; the outlet's feed is "
                             f"{feeds[0]}: add that URL, or the homepage")
    return SourceDraft(name=page_name(html, page.final_url), homepage=page.final_url, feeds=feeds[:1],
                       language=page_language(html) or "en")


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
    """A file name for `name` in any script: 新华网 is xin-hua-wang, Военное обозрение voennoe-obozrenie."""
    from slugify import slugify as transliterate

    return transliterate(name, max_length=60, word_boundary=True) or "source"


def file_stems(draft: SourceDraft) -> list[str]:
    """File names to try for a draft, best first: its name, then with its site's host."""
    host = (urlsplit(draft.homepage or (draft.feeds[0] if draft.feeds else "")).hostname or "").removeprefix("www.")
    stems = [slugify(draft.name)]
    if host:
        stems += [slugify(f"{draft.name} {host}"), slugify(host)]
    return list(dict.fromkeys(stems))


def followed_feeds(sources_dir: Path) -> dict[str, tuple[str, str]]:
    """Feed URL -> (source name, file) for every feed the source files already list."""
    return {feed.url: (source.name, source.path) for source in read_sources(Path(sources_dir))
            for feed in source.feeds}


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def source_toml(draft: SourceDraft) -> str:
    """The source file text, in the format `sources` reads."""
    lines = [f"name = {_toml_string(draft.name)}"]
    if draft.homepage:
        lines.append(f"homepage = {_toml_string(draft.homepage)}")
    lines.append(f"language = {_toml_string(draft.language)}")
    if draft.category:
        lines.append(f"category = {_toml_string(draft.category)}")
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
    paths = [Path(sources_dir) / f"{stem}.toml" for stem in file_stems(draft)]
    # Another outlet whose name transliterates the same (新华网, 新華網) takes the next name, with
    # its host; the same outlet again is an error.
    path = paths[0] if overwrite or _holds(paths[0], draft.name) else next(
        (p for p in paths if not p.exists()), paths[0])
    parse_source(tomllib.loads(text), path, text)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _holds(path: Path, name: str) -> bool:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("name") == name
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return path.exists()  # unreadable: never overwritten, never shadowed


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
    followed = followed_feeds(config.sources_dir)
    for feed in draft.feeds:
        if feed in followed:
            owner, file = followed[feed]
            raise DiscoveryError(f"{feed} is already followed by {owner}: {_shown(file)}")
    taken = {s.name: s.path for s in read_sources(config.sources_dir)}
    if draft.name in taken:
        raise DiscoveryError(f"the name {draft.name!r} is already used by {_shown(taken[draft.name])}; "
                             "give another with --name")
    return write_source(draft, config.sources_dir)


def _shown(path: str) -> str:
    """A path relative to the working directory when below it, as the user would type it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path
