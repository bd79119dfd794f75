"""Paragraphs of an HTML element, split where a browser would start a new block.

Used when a source's rule names the body element: then we trust the selector and only need its
text laid out as paragraphs, without a second guess from a generic extractor; and by `mainblock`,
which needs every text block of the page (`text_blocks`), whatever element holds it: a story may
sit in `<p>`s, but also in `<div>`s cut by `<br>`, list items or table cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "object",
        "embed",
        "button",
        "select",
        "input",
        "textarea",
    ]
)


def block_paragraphs(root: HtmlElement) -> list[str]:
    return [text for text, _ in tagged_paragraphs(root)]


def tagged_paragraphs(root: HtmlElement, skip: Callable[[HtmlElement], bool] | None = None) -> list[tuple[str, str]]:
    """(text, tag of the block element it sits in) for each paragraph, in reading order.

    Elements `skip` answers True for are left out with their content, like scripts; the text
    that follows them (their tail) stays in its paragraph.
    """
    paragraphs: list[tuple[str, str]] = []
    current: list[str] = []
    blocks: list[str] = []

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            paragraphs.append((text, blocks[-1] if blocks else ""))
        current.clear()

    def walk(element: HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if (
            tag in SKIP_TAGS
            or element.tag is etree.Comment
            or (skip is not None and element is not root and skip(element))
        ):
            if element.tail:
                current.append(element.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
            blocks.append(tag)
        if element.text and tag:
            current.append(element.text)
        for child in element:
            walk(child)
        if block:
            flush()
            blocks.pop()
        if element.tail:
            current.append(element.tail)

    walk(root)
    flush()
    return paragraphs


@dataclass(slots=True)
class TextBlock:
    """One paragraph of a page's text: where a browser would lay out a block of its own."""

    chars: int  # characters of its text, runs of white space counted as one
    link_chars: int  # of which inside links
    words: int
    holder: HtmlElement  # the nearest block element around it (a <p>, or a <div> cut by <br>)
    sentence_end: bool  # its text ends like a sentence


def hidden(element: HtmlElement) -> bool:
    """Not shown to the reader: a structured-data copy of the story, a closed dialog, a template."""
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style) and "none" in style and "display" in style and _DISPLAY_NONE.search(style) is not None


_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
_SENTENCE_END = frozenset('.!?。！？…"\'”’»)')


def text_blocks(root: HtmlElement) -> list[TextBlock]:
    """Every text block under `root` with its link share, in reading order; scripts and the like skipped."""
    found: list[TextBlock] = []
    parts: list[str] = []
    link_chars = 0
    holders: list[HtmlElement] = []
    in_link = 0

    def add(text: str) -> None:
        nonlocal link_chars
        parts.append(text)
        if in_link:
            link_chars += len(text.strip())

    def flush() -> None:
        nonlocal link_chars
        if parts:
            text = " ".join("".join(parts).split())
            if text and holders:
                found.append(
                    TextBlock(len(text), min(link_chars, len(text)), len(text.split()), holders[-1],
                              text[-1] in _SENTENCE_END)
                )
            parts.clear()
        link_chars = 0

    def walk(element: HtmlElement) -> None:
        nonlocal in_link
        tag = element.tag
        if not isinstance(tag, str) or tag in SKIP_TAGS or hidden(element):
            if element.tail:
                add(element.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
            holders.append(element)
        link = tag == "a"
        in_link += link
        if element.text:
            add(element.text)
        for child in element:
            walk(child)
        in_link -= link
        if block:
            flush()
            holders.pop()
        if element.tail:
            add(element.tail)

    holders.append(root)  # text loose in <body> is held by it
    walk(root)
    flush()
    return found
