"""Drop the entries we already hold from a feed body before feedparser reads it.

Most polls of a changed feed bring one new entry among twenty, and feedparser's cost is per entry:
handing it only the new ones makes parsing a changed feed several times cheaper (issue 23).

feedparser stays the one reader of RSS and Atom. This module only decides, with lxml, which
entries feedparser would give an id we already hold, and removes them from the document. It does
so only where it can tell for certain what feedparser would make of the rest, and otherwise leaves
the body alone — the result must be exactly what feedparser gives for the whole body, minus the
known entries (`tests/feeds/test_prune.py` compares the two on generated feeds and every fixture):

* a well-formed RSS 2.0 (`<rss><channel><item>`) or Atom 1.0 document in UTF-8, without a DOCTYPE,
  served without a charset that could make feedparser decode it differently, and without a
  Content-Location or `xml:base` anywhere that would make it resolve ids against a base;
* no namespace declared after the first entry begins, since feedparser keeps a document-wide map of
  the prefixes it has seen, and nothing but entries after the first entry, since it reads what
  follows an entry by state that entry leaves;
* an entry is removed only when it is plain: no attributes, no comments, only elements feedparser
  keeps inside the entry (title, link, dates, author, summary, content, categories, enclosures), and
  exactly one identity element — its own `<guid>` or `<id>` — holding printable ASCII text.
"""

from __future__ import annotations

import re

from feedparser.urls import _urljoin
from lxml import etree

from .formats import safe_xml_parser

_ATOM = "http://www.w3.org/2005/Atom"
_ATOM_FEED = f"{{{_ATOM}}}feed"
_ATOM_ENTRY = f"{{{_ATOM}}}entry"
_ATOM_ID = f"{{{_ATOM}}}id"

# Local names of the elements an entry may hold and still be removed. Each is handled by feedparser
# within the entry's own context; elements that change its document-wide state (channel, image,
# textinput, source, a nested item or entry, XHTML markup inside content) are not here.
_PLAIN = frozenset({
    "title", "link", "description", "summary", "content", "encoded", "pubdate", "published", "updated",
    "date", "author", "creator", "name", "email", "uri", "category", "comments", "commentrss",
    "enclosure", "thumbnail", "guid", "id",
})
_IDENTITY = frozenset({"guid", "id"})
# feedparser takes a base URI from `xml:base` and from a plain `base` attribute on any element, and
# keeps it past the element's end when the enclosing base was empty: one anywhere can change the ids
# of the entries after it.
_BASE_ATTRIBUTE = re.compile(rb"\bbase\s*=", re.IGNORECASE)


def _decoded_alike(headers: dict[str, str]) -> bool:
    """Whether feedparser decodes the body by what it says of itself, as lxml does. It does not when
    the response has headers but no `content-type` among them (it then takes ISO-8859-1 for a body
    without an XML declaration), for a `text/*` type without a charset (US-ASCII, RFC 3023), or for
    any charset but UTF-8 (which overrides the body's own declaration). The charset is read as
    feedparser reads it, label as given: `fetch.encoding` maps labels the way browsers do, and an
    unknown label would read there as no label at all."""
    content_type = headers.get("content-type")  # the key feedparser reads, exactly
    if content_type is None:
        return not headers
    media, _, params = content_type.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    if charset:
        return charset in ("utf-8", "utf8")
    return not media.strip().lower().startswith("text/")


def _feedparser_id(text: str | None, is_link: bool) -> str | None:
    """The id feedparser gives an entry whose identity element holds `text`, or None when that is
    not certain (whitespace, markup characters, non-ASCII: decoding and stripping rules apply)."""
    if not text or not text.isascii() or not text.isprintable() or any(c in text for c in " &<>"):
        return None
    if is_link:
        # feedparser resolves a permalink GUID (and every Atom id) against the document's base, which
        # is empty here; its resolution also folds extra slashes after the scheme ("http:///x"). Its
        # own function, private as it is, is the only exact account of that (the tests hold it to it).
        return _urljoin("", text)
    return text


def _entry_id(entry: etree._Element, atom: bool) -> str | None:
    if entry.attrib:
        return None
    identity = None
    for element in entry.iterdescendants():
        tag = element.tag
        if not isinstance(tag, str):  # a comment or processing instruction
            return None
        local = tag.rpartition("}")[2].lower()
        if local not in _PLAIN:
            return None
        if local in _IDENTITY:
            if identity is not None:
                return None
            identity = element
    if identity is None or identity.getparent() is not entry or len(identity):
        return None
    if atom:
        if identity.tag != _ATOM_ID or identity.attrib:
            return None
        return _feedparser_id(identity.text, is_link=True)
    if identity.tag != "guid":
        return None
    attributes = dict(identity.attrib)
    permalink = attributes.pop("isPermaLink", "true")
    if attributes:
        return None
    return _feedparser_id(identity.text, is_link=permalink == "true")


def without_known(body: bytes, headers: dict[str, str], known_guids: frozenset[str]) -> tuple[bytes, int] | None:
    """`body` without the entries whose feedparser id is in `known_guids`, and how many were removed;
    None when none were, or when the document is not one whose reading this can predict."""
    if not known_guids or not _decoded_alike(headers):
        return None
    if any(k.lower() == "content-location" for k in headers):
        return None
    first = min((p for p in (body.find(b"<item"), body.find(b"<entry")) if p >= 0), default=-1)
    if first < 0 or body.find(b"xmlns", first) >= 0 or body.find(b"<!DOCTYPE", 0, first) >= 0:
        return None
    if _BASE_ATTRIBUTE.search(body):
        return None
    try:
        root = etree.fromstring(body, safe_xml_parser(recover=False))
    except (etree.XMLSyntaxError, ValueError):
        return None
    tree = root.getroottree()
    info = tree.docinfo
    if info.doctype or (info.encoding or "").upper() != "UTF-8" or info.xml_version != "1.0":
        return None
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None or next(channel.itersiblings(etree.Element), None) is not None:
            return None
        parent, entry_tag, atom = channel, "item", False
    elif root.tag == _ATOM_FEED:
        parent, entry_tag, atom = root, _ATOM_ENTRY, True
    else:
        return None
    entries = []
    for child in parent.iterchildren(etree.Element):
        if child.tag == entry_tag:
            entries.append(child)
        elif entries:
            # feedparser reads a feed-level element by state the entry before it left (a second
            # <title> after an entry without one replaces the feed's title): removing that entry
            # would change it.
            return None
    known = [entry for entry in entries if _entry_id(entry, atom) in known_guids]
    if not known:
        return None
    for entry in known:
        parent.remove(entry)
    return etree.tostring(tree, encoding="utf-8", xml_declaration=True), len(known)
