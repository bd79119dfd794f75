"""Paragraphs of an HTML element, split where a browser would start a new block.

Used when a source's rule names the body element: then we trust the selector and only need its
text laid out as paragraphs, without a second guess from a generic extractor.
"""

from __future__ import annotations

from collections.abc import Callable

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
