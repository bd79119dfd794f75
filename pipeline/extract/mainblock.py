"""The fast first stage: the page's main block found by where its paragraph text sits.

News pages put the story in one container of `<p>` elements. Every paragraph of real text (long
enough, not mostly link text) votes for its parent with its length and for its grandparent with
half of it; containers inside page furniture (`<nav>`, `<aside>`, comment or "related" blocks)
count a fifth. The best container is the main block, or an ancestor a few levels up when that
holds more of the story: paragraphs of its own, or more containers made like the block (a story
cut into chunks). It is found on the lxml tree the metadata
reader already parsed, so it costs about a millisecond and no second parse.

`coverage` says how sure that is: the share of the page's paragraph text outside its furniture
that lies inside the block. When most of it does, the story is there whole; when it does not (paragraphs split
over several containers, a page of teasers, a story outside `<p>` tags), `article` asks
trafilatura as well and merges the two (`merge`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from lxml.html import HtmlElement

from .blocks import tagged_paragraphs

MIN_PARAGRAPH_CHARS = 25  # shorter <p> are labels, bylines and buttons: they do not vote
LINK_PENALTY = 2  # a paragraph's link text counts against it twice: teasers are mostly links
FURNITURE_WEIGHT = 0.2
SPLIT_SHARE = 0.05
MAX_CLIMB = 3
SIBLING_SHARE = 0.2  # a sibling block with this share of the block's own paragraph text continues the story
FURNITURE_TAGS = frozenset(
    ["nav", "footer", "aside", "header", "form", "figure", "figcaption", "button", "select", "template", "svg"]
)
# class or id words of containers that hold no story; word-bounded so "header-ad" matches and
# "shadow" or "download" do not
_FURNITURE_NAME = re.compile(
    r"(?<![a-z])(?:comments?|footer|sidebar|related|share|sharing|social|promo|newsletter|breadcrumbs?|nav|navbar"
    r"|menu|widget|advert|ad|ads|cookie|subscribe|recommended|popular|trending|caption|credit|teaser|outbrain"
    r"|taboola)(?![a-z])",
    re.I,
)
# Text blocks of a story. Other text inside the block (a <div> or <span> of its own) is kept only
# when it reads as a sentence: short lines there are captions, counters and widget labels.
TEXT_TAGS = frozenset(["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dd", "dt"])
MIN_LOOSE_WORDS = 12
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"""[.!?。！？…"'”’»]\s*$""")
_DROP_INSIDE = FURNITURE_TAGS | {"script", "style", "noscript", "iframe", "object", "embed", "picture"}


@dataclass
class MainBlock:
    paragraphs: list[str]
    coverage: float  # share of the page's paragraph text inside the block, 0..1


def _is_furniture(element: HtmlElement) -> bool:
    tag = element.tag
    if isinstance(tag, str) and tag in FURNITURE_TAGS:
        return True
    name = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(name.strip()) and bool(_FURNITURE_NAME.search(name))


def _in_furniture(element: HtmlElement, cache: dict[HtmlElement, bool]) -> bool:
    chain = []
    node: HtmlElement | None = element
    verdict = False
    while node is not None:
        if node in cache:
            verdict = cache[node]
            break
        chain.append(node)
        if _is_furniture(node):
            verdict = True
            break
        node = node.getparent()
    for seen in chain:
        cache[seen] = verdict
    return verdict


def find_main_block(tree: HtmlElement) -> MainBlock | None:
    """The main block's paragraphs and how much of the page's paragraph text it holds."""
    votes: defaultdict[HtmlElement, float] = defaultdict(float)
    direct: defaultdict[HtmlElement, float] = defaultdict(float)  # from the element's own <p> children
    lengths: list[tuple[HtmlElement, int]] = []
    for p in tree.iter("p"):
        chars = len(p.text_content().strip())
        lengths.append((p, chars))
        if chars < MIN_PARAGRAPH_CHARS:
            continue
        links = sum(len(a.text_content()) for a in p.iter("a"))
        weight = chars - LINK_PENALTY * links
        parent = p.getparent()
        if weight <= 0 or parent is None:
            continue
        votes[parent] += weight
        direct[parent] += weight
        grandparent = parent.getparent()
        if grandparent is not None:
            votes[grandparent] += weight / 2
    if not votes:
        return None
    furniture: dict[HtmlElement, bool] = {}
    best = max(votes, key=lambda e: votes[e] * (FURNITURE_WEIGHT if _in_furniture(e, furniture) else 1.0))
    # a story whose paragraphs are split between a container and one nested in it (an unclosed
    # <div>, a wrapper around the later paragraphs) is the outer container's
    while (outer := _outer_story_container(best, direct, furniture)) is not None:
        best = outer
    own = set(best.iter("p"))
    inside = sum(chars for p, chars in lengths if p in own)
    # paragraph text left outside in the page's furniture (teasers in an <aside>, a footer) says
    # nothing against the block; story-like text outside it does
    outside = sum(chars for p, chars in lengths if p not in own and not _in_furniture(p, furniture))
    paragraphs = [
        text for text, tag in tagged_paragraphs(best, skip=_nested_furniture) if tag in TEXT_TAGS or _sentence(text)
    ]
    return MainBlock(paragraphs=paragraphs, coverage=inside / (inside + outside) if inside else 0.0)


def _sentence(text: str) -> bool:
    return len(_WORD.findall(text)) >= MIN_LOOSE_WORDS and bool(_SENTENCE_END.search(text))


def _outer_story_container(
    block: HtmlElement, direct: dict[HtmlElement, float], furniture: dict[HtmlElement, bool]
) -> HtmlElement | None:
    """The nearest ancestor, a few levels up, that holds story paragraphs besides the block's.

    They may be its own `<p>` children, or those of a container of the same kind as the block (same
    tag and class) under another of its children: a story cut into chunks, one `<div>` per few
    paragraphs with an ad slot or a grid cell between them. A differently made box beside the story
    (an author box, a comment list) is not more of it.
    """
    kind = _kind(block)
    child, node = block, block.getparent()
    for _ in range(MAX_CLIMB):
        if node is None or _in_furniture(node, furniture):
            return None
        if direct.get(node, 0.0) > 0:
            return node
        shares = _story_by_child(node, kind, direct, furniture)
        own = shares.pop(child, 0.0)
        if own > 0 and any(weight >= SIBLING_SHARE * own for weight in shares.values()):
            return node
        child, node = node, node.getparent()
    return None


def _kind(element: HtmlElement) -> tuple[str, str]:
    return str(element.tag), " ".join((element.get("class") or "").split())


def _story_by_child(
    node: HtmlElement, kind: tuple[str, str], direct: dict[HtmlElement, float], furniture: dict[HtmlElement, bool]
) -> dict[HtmlElement, float]:
    """Paragraph weight of `kind` containers under each child of `node`, furniture left out."""
    shares: defaultdict[HtmlElement, float] = defaultdict(float)
    for holder, weight in direct.items():
        if _kind(holder) != kind or _in_furniture(holder, furniture):
            continue
        below, up = holder, holder.getparent()
        while up is not None and up is not node:
            below, up = up, up.getparent()
        if up is node:
            shares[below] += weight
    return shares


def _nested_furniture(element: HtmlElement) -> bool:
    """Furniture nested in the block (figures, share bars, related boxes), left out of its text.

    A widget around a quotation is an embedded post the story quotes (a tweet, a statement), and
    stays.
    """
    tag = element.tag
    if not isinstance(tag, str):
        return False
    if tag in _DROP_INSIDE:
        return True
    return _is_furniture(element) and next(element.iter("blockquote"), None) is None
