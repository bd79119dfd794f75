"""The digest's stories as an Atom feed (RFC 4287), so a feed reader can follow the digest.

Entry ids come from the story's first entry and the day it was seen, so rebuilding a digest or
opening the next day's feed never shows a reader the same story as new.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from .build import Digest, DigestEntry
from .common import counts_line
from .html import entry_html

ATOM = "http://www.w3.org/2005/Atom"
# XML 1.0 cannot carry most control characters at all, escaped or not; feeds sometimes do.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _NOT_XML.sub("", v) for k, v in attrs.items()})
    if text is not None:
        element.text = _NOT_XML.sub("", text)
    return element


def _entry(feed: ET.Element, digest: Digest, entry: DigestEntry) -> None:
    element = _sub(feed, "entry")
    _sub(element, "id", f"tag:newswatch,{entry.first_seen:%Y-%m-%d}:{digest.topic}/{entry.key}")
    _sub(element, "title", entry.headline)
    _sub(element, "updated", _stamp(entry.first_seen))
    if entry.published:
        _sub(element, "published", _stamp(entry.published))
    for source in entry.sources:
        _sub(_sub(element, "author"), "name", source)
    if entry.link:
        _sub(element, "link", rel="alternate", type="text/html", href=entry.link)
    for outlet in entry.outlets[1:]:
        if outlet.url and outlet.url != entry.link:
            _sub(element, "link", rel="related", type="text/html", href=outlet.url, title=outlet.source)
    if entry.room:
        _sub(element, "link", rel="related", type="text/html", href=entry.room, title="why tagged")
    _sub(element, "category", term=entry.level)
    _sub(element, "content", entry_html(entry), type="html")


def render_atom(digest: Digest) -> str:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", f"tag:newswatch,{digest.start.isoformat()}:{digest.topic}/{digest.kind}")
    _sub(feed, "title", digest.title)
    _sub(feed, "subtitle", counts_line(digest))
    _sub(feed, "updated", _stamp(digest.generated_at))
    _sub(_sub(feed, "author"), "name", "newswatch")
    _sub(feed, "generator", "newswatch")
    for entry in (*digest.stories, *digest.mentions, *digest.earlier):
        _entry(feed, digest, entry)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
