"""OPML, the feed readers' exchange format: `sources import-opml FILE` and `sources export-opml`.

An OPML file lists feeds, not outlets; on import, feeds whose site (htmlUrl, else the feed's own
host) is the same become one source file, as a source is one outlet with its feeds. The folders
an outline sits in become the source's `category`, an outline's `language` (or its folder's) the
source's language. Feeds that a source file already lists are reported as already followed, so
importing the same file twice adds nothing and says so.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from pipeline.errors import ConfigError
from pipeline.fetch import BadUrl, Url, parse_url
from pipeline.models import Source

from .discover import SourceDraft, file_stems, followed_feeds, write_source
from .sources import read_sources


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
    added: int = 0  # feeds, in the files written
    already: list[str] = field(default_factory=list)  # feeds a source file lists already: "URL (by NAME)"

    def summary(self) -> str:
        """"4 added, 2 already followed, 1 invalid: why"."""
        line = f"{self.added} added, {len(self.already)} already followed, {len(self.skipped)} invalid"
        return line + (": " + "; ".join(self.skipped) if self.skipped else "")


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
        folders = [a for a in outline.iterancestors("outline") if not (a.get("xmlUrl") or a.get("xmlurl"))]
        feed = parse_url(raw_feed)
        if isinstance(feed, BadUrl):
            label = (outline.get("title") or outline.get("text") or "").strip() or "an outline"
            skipped.append(f"{label}: feed URL {feed}")
            continue
        feed_url = feed.text
        site = parse_url(outline.get("htmlUrl") or outline.get("htmlurl") or "")
        homepage = site.text if isinstance(site, Url) else ""  # optional: the feed's host stands in
        category = " / ".join(_label(a) for a in reversed(folders) if _label(a))
        outlet = outlets.setdefault((site if isinstance(site, Url) else feed).host.removeprefix("www."),
                                    {"homepage": homepage, "feeds": [], "titles": [], "language": None,
                                     "category": category})
        if feed_url not in outlet["feeds"]:
            outlet["feeds"].append(feed_url)
            outlet["titles"].append((outline.get("title") or outline.get("text") or "").strip())
        outlet["homepage"] = outlet["homepage"] or homepage
        language = _language(outline) or next((c for c in map(_language, folders) if c), None)
        outlet["language"] = outlet["language"] or language
    drafts = []
    for key, o in outlets.items():
        name = _common_name(o["titles"], key)
        drafts.append(SourceDraft(name=name, homepage=o["homepage"], feeds=o["feeds"],
                                  language=o["language"] or _script_language(name) or "en", category=o["category"]))
    return ParsedOpml(drafts=drafts, skipped=skipped)


def _label(outline: etree._Element) -> str:
    return " ".join((outline.get("title") or outline.get("text") or "").split())


def _language(outline: etree._Element) -> str | None:
    raw = outline.get("language") or outline.get("lang") or outline.get("{http://www.w3.org/XML/1998/namespace}lang")
    code = (raw or "").strip().replace("_", "-").split("-")[0].lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else None


# An outline without a language: its name's script says more than a default of English.
_SCRIPTS = (("CJK UNIFIED", "zh"), ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("HANGUL", "ko"), ("CYRILLIC", "ru"),
            ("ARABIC", "ar"), ("HEBREW", "he"), ("GREEK", "el"), ("THAI", "th"), ("DEVANAGARI", "hi"))


def _script_language(name: str) -> str | None:
    letters = [unicodedata.name(c, "") for c in name if c.isalpha()]
    for marker, code in _SCRIPTS[1:3]:  # kana marks Japanese even beside kanji
        if any(marker in letter for letter in letters):
            return code
    for marker, code in _SCRIPTS:
        if letters and sum(marker in letter for letter in letters) * 2 > len(letters):
            return code
    return None


def import_opml(path: str | Path, sources_dir: str | Path) -> OpmlImport:
    """Write one source file per outlet in the OPML file; returns the files written and the feeds
    left out with why (an unusable URL costs that feed, not the import).

    Feeds already listed by a source file are counted as already followed; a name another outlet
    already has gets the outlet's host beside it ("Le Monde (lemonde.fr)"), never a number.
    Raises OpmlError for a file that is not OPML, OSError when it cannot be read.
    """
    sources_dir = Path(sources_dir)
    parsed = parse_opml(Path(path).read_bytes())
    skipped = list(parsed.skipped)
    followed = followed_feeds(sources_dir)
    names = {s.name for s in read_sources(sources_dir)}
    written: list[Path] = []
    already: list[str] = []
    added = 0
    for draft in parsed.drafts:
        feeds = [f for f in draft.feeds if f not in followed]
        already += [f"{f} (by {followed[f][0]})" for f in draft.feeds if f in followed]
        if not feeds:
            continue
        name = draft.name
        if name in names:
            name = f"{draft.name} ({(urlsplit(draft.homepage or feeds[0]).hostname or '').removeprefix('www.')})"
        new = SourceDraft(name=name, homepage=draft.homepage, feeds=feeds, language=draft.language,
                          category=draft.category)
        try:
            file = write_source(new, sources_dir)
        except ConfigError as exc:  # the rest of the file still imports
            skipped.append(f"{draft.name}: {exc.key + ': ' if exc.key else ''}{exc.problem}")
            continue
        except FileExistsError:
            skipped.append(f"{draft.name}: every file name for it is taken ({', '.join(file_stems(new))})")
            continue
        names.add(name)
        followed.update({f: (name, str(file)) for f in feeds})
        written.append(file)
        added += len(feeds)
    return OpmlImport(written=written, skipped=skipped, added=added, already=already)


def export_opml(sources: Iterable[Source], title: str = "newswatch sources") -> str:
    """OPML 2.0 with one outline per feed, titled with its source's name."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for source in sources:
        parent = body
        if source.category:  # the folders it came in, so a reader (or a re-import) keeps them
            parent = folders.get(source.category)
            if parent is None:
                parent = folders[source.category] = etree.SubElement(body, "outline", text=source.category)
        for feed in source.feeds:
            attributes = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": feed.url}
            if source.homepage:
                attributes["htmlUrl"] = source.homepage
            if source.language:
                attributes["language"] = source.language
            etree.SubElement(parent, "outline", attributes)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True).decode("utf-8")
