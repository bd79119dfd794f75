"""The one HTML parse of a page, shared by every later step.

An lxml.html parser whose element classes come from a C-level default lookup: every element is
an `HtmlElement` (no form- or label-specific subclasses, which nothing here uses), so walking the
tree does not call lxml.html's Python class lookup for every element met, a tenth of the time of
a page's whole extraction.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, document_fromstring

_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)
# characters libxml2 stops at or rejects; checked on bytes, which is faster than a regex over text
_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INVALID_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# libxml2 misreads a self-closed doctype ("<!DOCTYPE html/>") and loses the page after it
_SELF_CLOSED_DOCTYPE = re.compile(r"^\s*<\s*!\s*DOCTYPE[^>]*/[^<>]*>", re.I)


def _has_invalid(text: str) -> bool:
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _INVALID_BYTES)) != len(data) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data


def parse_html(text: str) -> HtmlElement | None:
    """The page's tree, or None when the text does not parse as HTML at all."""
    if _has_invalid(text):
        text = _INVALID.sub("", text)
    if _SELF_CLOSED_DOCTYPE.match(text[:500]):
        text = _SELF_CLOSED_DOCTYPE.sub("", text, count=1)
    try:
        return document_fromstring(text, parser=_PARSER)
    except ValueError:  # a str with an XML encoding declaration: lxml wants bytes then
        try:
            return document_fromstring(text.encode("utf-8", "surrogatepass"), parser=_PARSER)
        except (etree.ParserError, ValueError):
            return None
    except etree.ParserError:  # "Document is empty"
        return None
