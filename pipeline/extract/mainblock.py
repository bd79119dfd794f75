"""The fast first stage: the page's main block found by where its prose sits.

Every text block of the page counts, whatever element holds it: `<p>`s, but also a `<div>` cut
into lines by `<br>`, list items and table cells (`blocks.text_blocks`). A block *votes* when it
reads as prose: a `<p>` of `MIN_PARAGRAPH_CHARS` or more, any other block only with the shape of a
sentence or paragraph (`MIN_LOOSE_WORDS` words ending like a sentence, or `LONG_LOOSE_WORDS`
words), and not when it ends in an ellipsis (an excerpt cut short: a teaser for another page).
Its weight is its length minus `LINK_PENALTY` times its link text (teasers and menus are mostly
links). A paragraph-like block (`<p>`, `<li>`, `<blockquote>` ...) votes for its parent with
its weight and for its grandparent with half; text loose in a container (`<div>`, `<td>`) votes for
that container and half for its parent.

Furniture is judged by what it holds, not by a name alone. An element *looks like* furniture when
its tag (`<nav>`, `<aside>`, `<footer>`, `<form>` ...) or a word of its class or id ("sidebar",
"widget", "newsletter", "comments" ...) says so; it *is* furniture only when it holds less than
`WRAPPER_SHARE` of the page's prose weight. Page builders and frameworks wrap the whole page or
the story in such names (`<body class="has-sidebar">`, ASP.NET's page-wide `<form>`, Elementor's
`elementor-widget-container`, a `nav_drawer` layout around the content): a wrapper holding most
of the page's prose is where the story is, never furniture. Votes inside furniture count
`FURNITURE_WEIGHT`; furniture nested in the chosen block is left out of its text by the same test
against the block's own prose. A `<figure>` is a photo and its caption, except one holding a
`<table>`: the story's data, which WordPress's block editor wraps in a figure (`_table_figure`).
Two more boxes are judged by their make, not their name: a preview card in a sentence (an image
and links only, `_hover_card`) and a teaser for another story inside the block (a linked heading
with a line or two, `_teaser_cards`; more than two such boxes are the story's own list).

The best container is the main block, or an ancestor a few levels up when that holds more of the
story: text of its own, or more containers made like the block (a story cut into chunks). It is
found on the lxml tree the metadata reader already parsed, so it costs a few milliseconds and no
second parse.

`coverage` says how sure that is: the share of the page's prose weight outside its furniture that
lies inside the block; prose in another `<article>` than the block's own is another post and
counts on neither side. When most of it does, the story is there whole; when it does not (text
split over several containers, a page of teasers), `article` asks the slow path's candidates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from lxml.html import HtmlElement

from .blocks import TextBlock, skipped_elements, tagged_paragraphs, text_blocks

MIN_PARAGRAPH_CHARS = 25  # shorter <p> are labels, bylines and buttons: they do not vote
LINK_PENALTY = 2  # a paragraph's link text counts against it twice: teasers are mostly links
FURNITURE_WEIGHT = 0.2
SPLIT_SHARE = 0.05
MAX_CLIMB = 3
SIBLING_SHARE = 0.2  # a sibling block with this share of the block's own paragraph text continues the story
WRAPPER_SHARE = 0.5  # an element holding this share of the prose is a wrapper around the story, not furniture
TEASER_WORDS = 40  # a linked heading's box with at most this many words is a teaser card
TEASER_CLIMB = 2
MAX_TEASER_CARDS = 2  # the next and previous story; more cards than that are the story's own list
_CARD_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
CARD_LINKS = 3  # links in an inline box with an image that make it a preview card
LONG_LOOSE_WORDS = 40  # a block this long is a paragraph even without a sentence's last mark
# blocks that are one paragraph each: their text votes for the container around them
PARAGRAPH_TAGS = frozenset(
    ["p", "li", "dd", "dt", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption"]
)
FURNITURE_TAGS = frozenset(
    ["nav", "footer", "aside", "figure", "figcaption", "button", "select", "template", "svg"]
)
# tags and class or id words that name page furniture; word-bounded so "header-ad" matches and
# "shadow" or "download" do not. Strong names are furniture unless the element wraps most of the
# page's prose; weak ones (page builders put them on every box, the story's included) only when
# the element's text does not read as prose either.
WEAK_FURNITURE_TAGS = frozenset(["header", "form"])
_FURNITURE_NAME = re.compile(
    r"(?<![a-z])(?:comments?|footer|related|share|sharing|social|breadcrumbs?|nav|navbar"
    r"|menu|advert|ad|ads|cookie|caption|credit|outbrain|taboola)(?![a-z])",
    re.I,
)
_WEAK_FURNITURE_NAME = re.compile(
    r"(?<![a-z])(?:sidebar|widget|promo|newsletter|subscribe|recommended|popular|trending|teaser)(?![a-z])", re.I
)
_ANY_FURNITURE_NAME = re.compile(f"{_FURNITURE_NAME.pattern}|{_WEAK_FURNITURE_NAME.pattern}", re.I)
PROSE_SHARE = 0.6  # a weakly named box whose text is this much prose (by weight) reads as story
MIN_STORY_WEIGHT = 150  # ... when it holds at least this much prose: a paragraph
# Text blocks of a story. Other text inside the block (a <div> or <span> of its own) is kept only
# when it reads as a sentence: short lines there are captions, counters and widget labels.
TEXT_TAGS = frozenset(
    ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "tr", "dd", "dt"]
)
MIN_LOOSE_WORDS = 12
KEEP_LOOSE_WORDS = 8  # loose text in the block this long is kept when it ends like a sentence
LONG_KEEP_WORDS = 20  # and this long in any case: a line of a story set without full stops
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"""[.!?。！？…"'”’»]\s*$""")
_DROP_INSIDE = FURNITURE_TAGS | {"script", "style", "noscript", "iframe", "object", "embed", "picture"}


@dataclass
class MainBlock:
    paragraphs: list[str]
    coverage: float  # share of the page's paragraph text inside the block, 0..1
    element: HtmlElement | None = None  # the block's container


def _furniture_name(element: HtmlElement) -> int:
    """2 when the element's tag or name says furniture firmly, 1 when weakly, 0 when not."""
    tag = element.tag
    if isinstance(tag, str) and tag in FURNITURE_TAGS:
        return 0 if _table_figure(element) else 2
    classes, ident = element.get("class"), element.get("id")
    if classes or ident:
        named = _name_says(classes or "", ident or "")
        if named:
            return named
    return 1 if tag in WEAK_FURNITURE_TAGS else 0


@lru_cache(maxsize=4096)
def _name_says(classes: str, ident: str) -> int:
    """`_furniture_name`'s verdict on a class and id: a page repeats a few class names on most of
    its elements, so each is searched once, not once per element and walk."""
    name = f"{classes} {ident}"
    if not _ANY_FURNITURE_NAME.search(name):  # one search for the common case: neither
        return 0
    if _FURNITURE_NAME.search(name):
        return 2
    return 1 if _WEAK_FURNITURE_NAME.search(name) else 0


def _table_figure(element: HtmlElement) -> bool:
    """A `<figure>` around a data table: part of the story, not a photo with its caption.

    HTML's `<figure>` is any self-contained content the text refers to; WordPress's block editor
    wraps every table in one (`figure.wp-block-table`). A photo's figure holds an image and a
    caption; a figure holding a `<table>` holds the story's figures, which the reader reads.
    """
    return element.tag == "figure" and next(element.iter("table"), None) is not None


def _teaser_cards(block: HtmlElement) -> set[HtmlElement]:
    """Teasers for other pages inside the block: a box made of a linked heading and a few words.

    A heading that is all one link to another page (not a `#` anchor of the story's own sections)
    with at most `TEASER_WORDS` words around it in its box is a card for another story ("next
    article", a related item): its headline, a one-line excerpt, a byline. The story's own
    sections are longer than that.
    """
    cards: set[HtmlElement] = set()
    for heading in block.iter(*_CARD_HEADINGS):
        link = heading.getparent() if heading.getparent() is not None and heading.getparent().tag == "a" else None
        if link is None:
            link = next(heading.iter("a"), None)
            if link is None or len(link.text_content().strip()) < len(heading.text_content().strip()):
                continue
        if (link.get("href") or "#").startswith("#"):
            continue
        own = len(heading.text_content().split())
        box, node = None, (heading.getparent() if heading.getparent() is link else heading)
        for _ in range(TEASER_CLIMB):
            node = node.getparent()
            if node is None or node is block:
                break
            words = len(node.text_content().split())
            if words > TEASER_WORDS:
                break
            if words > own:
                box = node
        if box is not None:
            cards.add(box)
    # many such boxes are the story itself: a round-up of products, places or links, each with its line
    return cards if len(cards) <= MAX_TEASER_CARDS else set()


def _hover_card(span: HtmlElement) -> bool:
    """An inline box in a paragraph holding an image and `CARD_LINKS` or more links and no word
    outside them: a preview card shown when the reader points at a name (a person's photo and
    their latest stories), not words of the sentence it sits in. Only the innermost such box is
    the card: the span around it often holds the linked name the card hangs on, which is the
    sentence's own word."""
    if next(span.iter("img"), None) is None:
        return False
    if any(_hover_card(inner) for inner in span.iterdescendants("span")):
        return False
    links = list(span.iter("a"))
    if len(links) < CARD_LINKS or next(span.iterancestors("p"), None) is None:
        return False
    linked = sum(len("".join(a.text_content().split())) for a in links)
    return linked >= len("".join(span.text_content().split()))


def _votes(block: TextBlock) -> float:
    """The block's weight as evidence of the story: 0 when it does not read as prose."""
    if block.truncated:  # an excerpt cut off with an ellipsis is a teaser for another page
        return 0.0
    holder = block.holder.tag
    if holder == "p":
        if block.chars < MIN_PARAGRAPH_CHARS:
            return 0.0
    elif not (
        (block.words >= MIN_LOOSE_WORDS and block.sentence_end) or block.words >= LONG_LOOSE_WORDS
    ):
        return 0.0
    return max(block.chars - LINK_PENALTY * block.link_chars, 0.0)


class _Page:
    """The page's prose weight per element, and the furniture verdicts that depend on it."""

    def __init__(self, tree: HtmlElement) -> None:
        self.unseen = skipped_elements(tree)  # scripts, hidden elements: read by the block's walk too
        self.blocks = text_blocks(tree, self.unseen)
        self.weights = [_votes(b) for b in self.blocks]
        # prose weight and text held by each block element itself; subtree sums on demand (`held`)
        self.own_weight: defaultdict[HtmlElement, float] = defaultdict(float)
        self.own_chars: defaultdict[HtmlElement, int] = defaultdict(int)
        for block, weight in zip(self.blocks, self.weights, strict=True):
            self.own_weight[block.holder] += weight
            self.own_chars[block.holder] += block.chars
        self.sums: dict[HtmlElement, tuple[float, int]] = {}
        self.total = sum(self.weights)
        self.cache: dict[HtmlElement, bool] = {}

    def held(self, element: HtmlElement) -> tuple[float, int]:
        """Prose weight and characters of text in the element's subtree.

        Summed over its descendants when first asked (only named elements and the chosen block
        are), which is cheaper than adding every block to all of its ancestors.
        """
        if element not in self.sums:
            weight, chars = self.own_weight, self.own_chars
            nodes = [d for d in element.iter() if d in chars]
            self.sums[element] = (sum(weight[d] for d in nodes), sum(chars[d] for d in nodes))
        return self.sums[element]

    def is_furniture(self, element: HtmlElement, within: float | None = None) -> bool:
        """Named like furniture, holds less than `WRAPPER_SHARE` of the prose of `within` (the page)
        and, when only weakly named, does not read as prose."""
        named = _furniture_name(element)
        if not named:
            return False
        whole = self.total if within is None else within
        held, chars = self.held(element)
        if held >= WRAPPER_SHARE * whole:
            return False
        return named == 2 or held < MIN_STORY_WEIGHT or held < PROSE_SHARE * chars

    def in_furniture(self, element: HtmlElement) -> bool:
        chain = []
        node: HtmlElement | None = element
        verdict = False
        while node is not None:
            if node in self.cache:
                verdict = self.cache[node]
                break
            chain.append(node)
            if self.is_furniture(node):
                verdict = True
                break
            node = node.getparent()
        for seen in chain:
            self.cache[seen] = verdict
        return verdict


def find_main_block(tree: HtmlElement) -> MainBlock | None:
    """The main block's paragraphs and how much of the page's prose it holds."""
    page = _Page(tree)
    votes: defaultdict[HtmlElement, float] = defaultdict(float)
    direct: defaultdict[HtmlElement, float] = defaultdict(float)  # from the element's own text blocks
    for block, weight in zip(page.blocks, page.weights, strict=True):
        if not weight:
            continue
        holder = block.holder
        container = holder.getparent() if holder.tag in PARAGRAPH_TAGS else holder
        if container is None:
            continue
        votes[container] += weight
        direct[container] += weight
        outer = container.getparent()
        if outer is not None:
            votes[outer] += weight / 2
    if not votes:
        return None
    best = max(votes, key=lambda e: votes[e] * (FURNITURE_WEIGHT if page.in_furniture(e) else 1.0))
    # a story whose paragraphs are split between a container and one nested in it (an unclosed
    # <div>, a wrapper around the later paragraphs) is the outer container's
    while (outer := _outer_story_container(best, direct, page)) is not None:
        best = outer
    inside = page.held(best)[0]
    within = set(best.iter())
    # prose left outside in the page's furniture (teasers in an <aside>, a footer) says nothing
    # against the block, nor does prose in another <article> than the block's own: HTML's
    # self-contained composition, another post (the full text of short posts listed under "you
    # may also like"). Prose elsewhere does.
    own_articles = set(best.iterancestors("article"))
    if best.tag == "article":
        own_articles.add(best)
    outside = 0.0
    for block, weight in zip(page.blocks, page.weights, strict=True):
        if weight and not page.in_furniture(block.holder) and block.holder not in within:
            if own_articles and _other_article(block.holder, own_articles):
                continue
            outside += weight
    own = inside

    cards = _teaser_cards(best)

    def skip(element: HtmlElement) -> bool:
        return element in cards or _nested_furniture(element, page, own)

    paragraphs = [text for text, tag in tagged_paragraphs(best, skip=skip) if tag in TEXT_TAGS or _sentence(text)]
    return MainBlock(paragraphs=paragraphs, coverage=inside / (inside + outside) if inside else 0.0, element=best)


def _other_article(element: HtmlElement, own: set[HtmlElement]) -> bool:
    """The element lies in an `<article>` that is not one of the block's own."""
    nearest = element if element.tag == "article" else next(element.iterancestors("article"), None)
    return nearest is not None and nearest not in own


def _sentence(text: str) -> bool:
    """Loose text kept in the block: a line of a story told in `<div>`s and `<br>`s, not a label."""
    words = len(_WORD.findall(text))
    return words >= LONG_KEEP_WORDS or (words >= KEEP_LOOSE_WORDS and bool(_SENTENCE_END.search(text)))


def _outer_story_container(block: HtmlElement, direct: dict[HtmlElement, float], page: _Page) -> HtmlElement | None:
    """The nearest ancestor, a few levels up, that holds story paragraphs besides the block's.

    They may be its own `<p>` children, or those of a container of the same kind (same tag and
    class) as the block or as a container voting inside it, under another of its children: a story
    cut into chunks, one `<div>` per few paragraphs with an ad slot or a grid cell between them. A
    differently made box beside the story (an author box, a comment list) is not more of it.
    """
    # the block's own make, and that of the containers voting inside it: a story's first
    # paragraph in a plain <div> beside a classed box of plain <div>s is the same story
    kinds = {_kind(block)} | {_kind(h) for h in direct if h is not block and _inside(h, block)}
    child, node = block, block.getparent()
    for _ in range(MAX_CLIMB):
        if node is None or page.in_furniture(node):
            return None
        if direct.get(node, 0.0) > 0:
            return node
        shares = _story_by_child(node, kinds, direct, page)
        own = shares.pop(child, 0.0)
        if own > 0 and any(weight >= SIBLING_SHARE * own for weight in shares.values()):
            return node
        child, node = node, node.getparent()
    return None


def _kind(element: HtmlElement) -> tuple[str, str]:
    return str(element.tag), " ".join((element.get("class") or "").split())


def _inside(element: HtmlElement, ancestor: HtmlElement) -> bool:
    return any(up is ancestor for up in element.iterancestors())


def _story_by_child(
    node: HtmlElement, kinds: set[tuple[str, str]], direct: dict[HtmlElement, float], page: _Page
) -> dict[HtmlElement, float]:
    """Paragraph weight of containers of `kinds` under each child of `node`, furniture left out."""
    shares: defaultdict[HtmlElement, float] = defaultdict(float)
    for holder, weight in direct.items():
        if _kind(holder) not in kinds or page.in_furniture(holder):
            continue
        below, up = holder, holder.getparent()
        while up is not None and up is not node:
            below, up = up, up.getparent()
        if up is node:
            shares[below] += weight
    return shares


def _nested_furniture(element: HtmlElement, page: _Page, own: float) -> bool:
    """Furniture nested in the block (figures, share bars, related boxes), left out of its text.

    A widget around a quotation is an embedded post the story quotes (a tweet, a statement), and
    stays; so does a wrapper holding most of the block's own prose (a page builder's widget
    around the story's text).
    """
    tag = element.tag
    if not isinstance(tag, str):
        return False
    if (tag in _DROP_INSIDE and not _table_figure(element)) or element in page.unseen:
        return True
    if tag == "span" and _hover_card(element):
        return True
    return page.is_furniture(element, own) and next(element.iter("blockquote"), None) is None
