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


CELL_TAGS = frozenset(["td", "th"])
CELL_SEPARATOR = " | "


def _text_cell(cell: HtmlElement) -> bool:
    """A table cell holding only text and inline markup, no block of its own (not a layout cell
    around a story in paragraphs or `<br>` lines)."""
    return not any(isinstance(e.tag, str) and e.tag in BLOCK_TAGS for e in cell.iterdescendants())


def block_paragraphs(root: HtmlElement) -> list[str]:
    return [text for text, _ in tagged_paragraphs(root)]


def tagged_paragraphs(root: HtmlElement, skip: Callable[[HtmlElement], bool] | None = None) -> list[tuple[str, str]]:
    """(text, tag of the block element it sits in) for each paragraph, in reading order.

    A data table's row is one paragraph, its text cells joined by " | " (as a reader scans it, and
    so a cell's number stays beside its label); a cell holding blocks of its own (a layout table's
    column) is read as blocks.

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
        if block and tag in CELL_TAGS and _text_cell(element):
            # a cell of text alone is one field of its row: the row is read as one line
            block = False
            if "".join(current).strip():
                current.append(CELL_SEPARATOR)
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
    truncated: bool = False  # it ends in an ellipsis: an excerpt cut short, a teaser


def hidden(element: HtmlElement) -> bool:
    """Not shown to the reader: a structured-data copy of the story, a closed dialog, a template,
    an element a CSS framework's utility class hides."""
    if element.get("hidden") is not None:
        return True
    classes = element.get("class")
    if classes and not _HIDING_CLASSES.isdisjoint(classes.split()):
        return True
    style = element.get("style")
    return bool(style) and "none" in style and "display" in style and _DISPLAY_NONE.search(style) is not None


_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
# the CSS frameworks' utility classes for `display: none` (Bootstrap 3's and WordPress themes'
# `hidden`, Bootstrap 4-5's `d-none`, Bulma's `is-hidden`): structured-data copies of the
# image, publisher and author sit in them. Whole class names only: `hidden-xs` hides on phones.
_HIDING_CLASSES = frozenset(["hidden", "d-none", "is-hidden"])
_ELLIPSES = ("...", "…", "[…]", "[...]")
_SENTENCE_END = frozenset('.!?。！？…"\'”’»)')


# text nodes that are more than indentation and lie outside <p> (whose text is read whole, in C,
# by text_content()); their pieces are joined with a space, which may split a word styled mid-way
# ("<b>W</b>ord"), but only counts, never output, come from here
_LOOSE_TEXT_NODES = etree.XPath(".//text()[normalize-space()][not(ancestor::p)]")


def skipped_elements(root: HtmlElement) -> set[HtmlElement]:
    """The elements under `root` whose text the reader does not see: scripts and the like, `hidden`.

    One pass over the tree with `hidden`'s tests inlined, the cheap substring tests first: found once
    per page, this set serves every later walk (`text_blocks`, the block's own paragraphs), where a
    call of `hidden` per element visited was a tenth of the fast stage's time.
    """
    unseen = set(root.iter(*SKIP_TAGS))
    for element in root.iter():
        get = element.get
        if get("hidden") is not None:
            unseen.add(element)
            continue
        classes = get("class")
        if classes and ("hidden" in classes or "d-none" in classes) and not _HIDING_CLASSES.isdisjoint(classes.split()):
            unseen.add(element)
            continue
        style = get("style")
        if style and "none" in style and "display" in style and _DISPLAY_NONE.search(style) is not None:
            unseen.add(element)
    return unseen


def text_blocks(root: HtmlElement, unseen: set[HtmlElement] | None = None) -> list[TextBlock]:
    """Every text block under `root` with its link share; scripts, hidden elements and the like skipped.

    `<p>`s, most of a page's prose, are read whole with lxml's `text_content()`; the rest runs over
    the page's text nodes outside them (one C-level XPath) rather than a Python walk over every
    element: each node's block, link and visibility come from its element's, memoised. Blocks come
    in no particular order. `unseen` is `skipped_elements(root)` when the caller has it already.
    """
    if unseen is None:
        unseen = skipped_elements(root)
    found: list[TextBlock] = []
    context: dict[HtmlElement, tuple[HtmlElement, bool, bool]] = {}  # element -> (holder, skipped, in link)

    def context_of(element: HtmlElement) -> tuple[HtmlElement, bool, bool]:
        chain = []
        node = element
        while node is not None and node not in context:
            chain.append(node)
            node = node.getparent() if node is not root else None
        holder, skipped, link = context[node] if node is not None else (root, False, False)
        for node in reversed(chain):
            tag = node.tag
            if not isinstance(tag, str) or node in unseen:
                skipped = True
            elif tag in BLOCK_TAGS:
                holder = node
            link = link or tag == "a"
            context[node] = (holder, skipped, link)
        return context[element]

    for paragraph in root.iter("p"):
        if context_of(paragraph)[1]:
            continue
        text = " ".join(paragraph.text_content().split())
        if text:
            links = sum(len(a.text_content().strip()) for a in paragraph.iter("a"))
            found.append(TextBlock(len(text), min(links, len(text)), len(text.split()), paragraph,
                                   text[-1] in _SENTENCE_END, text.endswith(_ELLIPSES)))

    parts: list[str] = []
    current: HtmlElement | None = None
    link_chars = 0

    def flush() -> None:
        if not parts:
            return
        text = " ".join(" ".join(parts).split())
        if text and current is not None:
            found.append(
                TextBlock(len(text), min(link_chars, len(text)), len(text.split()), current, text[-1] in _SENTENCE_END,
                          text.endswith(_ELLIPSES))
            )

    for node in _LOOSE_TEXT_NODES(root):
        element = node.getparent()
        if element is None:
            continue
        if node.is_tail:
            owner = element.getparent() if element is not root else None
            if owner is None:
                continue
            boundary = element.tag in BLOCK_TAGS
        else:
            owner, boundary = element, False
        holder, skipped, link = context[owner] if owner in context else context_of(owner)
        if skipped:
            continue
        if boundary or holder is not current:
            flush()
            parts.clear()
            link_chars = 0
            current = holder
        parts.append(node)
        if link:
            link_chars += len(node.strip())
    flush()
    return found
