"""OPML, the feed readers' exchange format: `sources import-opml FILE` and `sources export-opml`.

An OPML file lists feeds, not outlets; on import, feeds whose site (htmlUrl, else the feed's own
host) is the same become one source file, as a source is one outlet with its feeds. Feeds that a
source file already lists are skipped, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from pipeline.errors import ConfigError
from pipeline.fetch import BadUrl, Url, parse_url
from pipeline.models import Source

from .discover import SourceDraft, slugify, write_source
from .sources import load_source


class OpmlError(Exception):
    """The file is not OPML we can read: one line for the user."""


@dataclass(frozen=True)
class ParsedOpml:
    drafts: list[SourceDraft]  # one per outlet, in the file's order
    skipped: list[str] = field(default_factory=list)  # feeds left out, each with why


@dataclass(frozen=True)
class OpmlImport:
    written: list[Path]  # the source files written
    skipped: list[str] = field(default_factory=list)  # feeds not imported, each with why


def _common_name(titles: list[str], fallback: str) -> str:
    """"BBC News - World" and "BBC News - Asia" are both "BBC News"."""
    titles = [t for t in titles if t]
    if not titles:
        return fallback
    if len(set(titles)) == 1:
        return titles[0]
    prefix = os.path.commonprefix(titles)  # noqa: RUF071 - character-wise is what we want for titles
    mid_word = prefix[-1:].isalnum() and any(len(t) > len(prefix) and t[len(prefix)].isalnum() for t in titles)
    if mid_word:  # "Reuters World" and "Reuters Wire" share "Reuters W"
        prefix = prefix.rsplit(" ", 1)[0] if " " in prefix else ""
    prefix = prefix.rstrip(" |-–—:·")
    return prefix if len(prefix) >= 3 else fallback


def parse_opml(data: bytes) -> ParsedOpml:
    """One draft per outlet, in the file's order, and the feeds left out. Raises OpmlError."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not valid OPML: {exc}") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise OpmlError("not OPML: the root element is not <opml>")
    outlets: dict[str, dict] = {}
    skipped: list[str] = []
    for outline in root.iter("outline"):
        raw_feed = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not raw_feed:
            continue  # a category folder
        feed = parse_url(raw_feed)
        if isinstance(feed, BadUrl):
            label = (outline.get("title") or outline.get("text") or "").strip() or "an outline"
            skipped.append(f"{label}: feed URL {feed}")
            continue
        feed_url = feed.text
        site = parse_url(outline.get("htmlUrl") or outline.get("htmlurl") or "")
        homepage = site.text if isinstance(site, Url) else ""  # optional: the feed's host stands in
        outlet = outlets.setdefault((site if isinstance(site, Url) else feed).host.removeprefix("www."),
                                    {"homepage": homepage, "feeds": [], "titles": [], "language": None})
        if feed_url not in outlet["feeds"]:
            outlet["feeds"].append(feed_url)
            outlet["titles"].append((outline.get("title") or outline.get("text") or "").strip())
        outlet["homepage"] = outlet["homepage"] or homepage
        language = (outline.get("language") or "").split("-")[0].lower()
        if re.fullmatch(r"[a-z]{2}", language):
            outlet["language"] = outlet["language"] or language
    drafts = [
        SourceDraft(name=_common_name(o["titles"], key), homepage=o["homepage"], feeds=o["feeds"],
                    language=o["language"] or "en")
        for key, o in outlets.items()
    ]
    return ParsedOpml(drafts=drafts, skipped=skipped)


def _existing(sources_dir: Path) -> tuple[set[str], set[str]]:
    """Feed URLs and file names already there; unreadable files are left for `check` to report."""
    feeds: set[str] = set()
    names: set[str] = set()
    for file in sorted(sources_dir.glob("*.toml")) if sources_dir.is_dir() else []:
        names.add(file.stem)
        try:
            source = load_source(file)
        except ConfigError:
            continue
        names.add(slugify(source.name))
        feeds.update(f.url for f in source.feeds)
    return feeds, names


def import_opml(path: str | Path, sources_dir: str | Path) -> OpmlImport:
    """Write one source file per outlet in the OPML file; returns the files written and the feeds
    left out with why (an unusable URL costs that feed, not the import).

    Feeds already listed by a source file are skipped silently; a name already taken gets a number.
    Raises OpmlError for a file that is not OPML, OSError when it cannot be read.
    """
    sources_dir = Path(sources_dir)
    parsed = parse_opml(Path(path).read_bytes())
    skipped = list(parsed.skipped)
    known_feeds, taken = _existing(sources_dir)
    written: list[Path] = []
    for draft in parsed.drafts:
        feeds = [f for f in draft.feeds if f not in known_feeds]
        if not feeds:
            continue
        name, n = draft.name, 1
        while slugify(name) in taken:
            n += 1
            name = f"{draft.name} {n}"
        try:
            file = write_source(SourceDraft(name=name, homepage=draft.homepage, feeds=feeds,
                                            language=draft.language), sources_dir)
        except ConfigError as exc:  # the rest of the file still imports
            skipped.append(f"{draft.name}: {exc.key + ': ' if exc.key else ''}{exc.problem}")
            continue
        taken.add(slugify(name))
        known_feeds.update(feeds)
        written.append(file)
    return OpmlImport(written=written, skipped=skipped)


def export_opml(sources: Iterable[Source], title: str = "newswatch sources") -> str:
    """OPML 2.0 with one outline per feed, titled with its source's name."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for source in sources:
        for feed in source.feeds:
            attributes = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": feed.url}
            if source.homepage:
                attributes["htmlUrl"] = source.homepage
            if source.language:
                attributes["language"] = source.language
            etree.SubElement(body, "outline", attributes)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True).decode("utf-8")
