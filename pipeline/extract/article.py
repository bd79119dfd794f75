"""Article text and metadata from a fetched page.

The page is decoded once (pipeline.encoding) and parsed once with lxml; that tree is shared by the
metadata reader, the fast main-block finder (`mainblock`) and the slow path's extractors. The fast
stage answers alone when its block holds nearly all of the page's prose (`SURE_COVERAGE`) and reads
as an article. Otherwise the slow path asks full trafilatura (its fallback cascade on, which runs
trafilatura's own readability port) and, where the block or trafilatura has no article,
readability-lxml; every candidate is cleaned (`cleaning`) and `choose` picks one by its prose: the
block, trafilatura, the two merged by agreement (`merge`), readability. Asking readability-lxml on
every unsure page was measured: on both development sets it changed the average by under 0.001
and cost a tenth of trafilatura's time per page.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

from lxml.html import HtmlElement, fragment_fromstring
from readability import Document
from trafilatura import bare_extraction

from pipeline.fetch import decode_html
from pipeline.models import Article, ExtractionRules

from .blocks import block_paragraphs
from .boilerplate import fingerprint
from .choose import Candidate, choose
from .cleaning import CleaningResult, clean_paragraphs, count_words, link_key
from .dates import DEFAULT_CONTEXT, source_context
from .mainblock import find_main_block
from .merge import merge_paragraphs
from .metadata import Metadata, extract_metadata, fill_language
from .parse import parse_html
from .rules import apply_tree_rules, compile_drop_text, has_tree_rules, parse_rules

__all__ = ["extract_article", "parse_rules"]

LOGGER = logging.getLogger(__name__)

MAX_HTML_CHARS = 8_000_000  # beyond this a "page" is a dump or an attack, not an article
MIN_ARTICLE_WORDS = 25  # below this the page has no article (a section front, a video stub)
SURE_COVERAGE = 0.7  # the main block holds this share of the story-like paragraph text: no second opinion
STANDFIRST_SCAN = 4  # opening paragraphs (title and date lines included) that may repeat the summary
_STANDFIRST_XPATH = (
    "//h2|//h3|//h4|//header//p|//*[contains(@class,'dek') or contains(@class,'standfirst')"
    " or contains(@class,'subhead') or contains(@class,'sub-head') or contains(@class,'subline')"
    " or contains(@class,'subtitle')]"
)


def extract_article(
    html: str | bytes,
    url: str | None = None,
    rules: ExtractionRules | None = None,
    content_type: str | None = None,
    known_boilerplate: frozenset[str] = frozenset(),
    *,
    summary: str = "",
) -> Article:
    """Clean article text and metadata from a page; never raises.

    `content_type` is the HTTP Content-Type header (its charset is trusted first), `rules` a
    source's own extraction rules, `known_boilerplate` the fingerprints of lines learned to recur
    on the source's pages (`boilerplate.learn_boilerplate`), `summary` the feed entry's summary (with
    the page's own description, what the slow path's choice checks a candidate's subject against).
    When no article text is found
    the Article has empty text and `reason` says why; metadata is still filled where possible.
    """
    try:
        return _extract(html, url, rules, content_type, known_boilerplate, summary)
    except Exception as err:  # bad markup must cost one article, never the run
        LOGGER.debug("extraction failed for %s", url, exc_info=True)
        return Article(reason=f"extraction failed: {type(err).__name__}: {err}"[:300])


def _extract(
    html: str | bytes,
    url: str | None,
    rules: ExtractionRules | None,
    content_type: str | None,
    known_boilerplate: frozenset[str],
    summary: str = "",
) -> Article:
    if not isinstance(html, str | bytes):
        return Article(reason=f"not HTML: got {type(html).__name__}")
    text = decode_html(html, content_type) if isinstance(html, bytes) else html
    if not text.strip():
        return Article(reason="empty document")
    if len(text) > MAX_HTML_CHARS:
        return Article(reason=f"document too large ({len(text)} characters)")
    tree = parse_html(text)
    if tree is None or not len(tree):
        return Article(reason="not an HTML document")

    dates = source_context(rules.date_order, rules.timezone) if rules else DEFAULT_CONTEXT
    meta = extract_metadata(tree, url, dates)
    dates = meta.dates

    body_paragraphs: list[str] | None = None
    content_tree = tree
    if has_tree_rules(rules):
        assert rules is not None
        ruled = apply_tree_rules(text, rules)
        if ruled.body_html is not None:
            body_paragraphs = block_paragraphs(fragment_fromstring(ruled.body_html, create_parent="div"))
        else:
            ruled_tree = parse_html(ruled.html)
            content_tree = ruled_tree if ruled_tree is not None else tree

    link_texts = _link_fingerprints(content_tree)

    def clean(paragraphs: list[str], links: frozenset[str] | None = None) -> CleaningResult:
        standfirst = _standfirst(tree, meta.description, paragraphs[:STANDFIRST_SCAN])
        return clean_paragraphs(
            paragraphs,
            titles=meta.title_candidates,
            link_texts=(links if links is not None else link_texts) if body_paragraphs is None else frozenset(),
            known_boilerplate=known_boilerplate,
            drop_text=compile_drop_text(rules),
            dates=dates,
            standfirst=standfirst,
        )

    if body_paragraphs is not None:
        result = clean(body_paragraphs)
    else:
        block = find_main_block(content_tree)
        fast = clean(block.paragraphs, _link_fingerprints(block.element)) if block is not None else None
        if block is not None and fast is not None and block.coverage >= SURE_COVERAGE and not _not_an_article(fast):
            result = fast
        else:
            # extra= lets the benchmark count how often the slow path runs
            LOGGER.debug("main block unsure, asking the slow path for %s", url, extra={"slow_path": True})
            result = _slow_path(content_tree, url, fast, clean, meta, summary)
    return _article(meta, result)


def _slow_path(
    tree: HtmlElement,
    url: str | None,
    fast: CleaningResult | None,
    clean: Callable[[list[str]], CleaningResult],
    meta: Metadata,
    summary: str = "",
) -> CleaningResult:
    """The candidate `choose` finds most like the story: the block, full trafilatura, the two merged
    by agreement, and readability-lxml where the block or trafilatura has no article."""
    slow = clean(_trafilatura_paragraphs(tree, url))
    results: dict[str, CleaningResult] = {}
    if fast is not None:
        results["block"] = fast
        merged = _merged(fast, slow)
        if merged.paragraphs not in (fast.paragraphs, slow.paragraphs):
            results["merged"] = merged
    results["trafilatura"] = slow
    if fast is None or _not_an_article(fast) or _not_an_article(slow):
        results["readability"] = clean(_readability_paragraphs(tree))
    chosen = choose(
        [Candidate(name, result.paragraphs, _FAMILY.get(name, name)) for name, result in results.items()],
        meta.title,
        f"{summary} {meta.description}",
    )
    if chosen is None:
        return max(results.values(), key=_word_count)
    result = results[chosen.name]
    # a byline or date the cleaner lifted from any candidate is the page's, whichever text wins
    for other in results.values():
        result.authors = result.authors or other.authors
        result.published = result.published or other.published
    return result


# the merge is made of the block's paragraphs and trafilatura's: it is no independent witness
_FAMILY = {"merged": "block"}


def _merged(fast: CleaningResult, slow: CleaningResult) -> CleaningResult:
    return CleaningResult(
        paragraphs=merge_paragraphs(fast.paragraphs, slow.paragraphs),
        authors=slow.authors or fast.authors,
        published=slow.published or fast.published,
        dropped=slow.dropped,
    )


def _trafilatura_paragraphs(tree: HtmlElement, url: str | None) -> list[str]:
    document = bare_extraction(
        tree, url=url, fast=False, include_comments=False, include_tables=True, with_metadata=False
    )
    if document is None or not document.text:
        return []
    return document.text.splitlines()


def _readability_paragraphs(tree: HtmlElement) -> list[str]:
    # readability-lxml drops hidden elements from the tree it is given: give it a copy
    summary = Document(copy.deepcopy(tree), min_text_length=MIN_ARTICLE_WORDS).summary(html_partial=True)
    root = parse_html(summary) if summary else None
    return block_paragraphs(root) if root is not None else []


def _link_fingerprints(tree: HtmlElement) -> frozenset[str]:
    """Fingerprints of the link texts under `tree`: a paragraph equal to one is a teaser or menu entry.

    For the fast block, only the links inside the block count: a teaser there is a link, while a
    plain line of the story is kept even when a menu or sidebar elsewhere links the same words
    (a product's or a section's name). Other candidates' text has lost its markup: the page's
    links are checked.
    """
    texts = {a.text_content() for a in tree.iter("a")}  # menus repeat: key each text once
    return frozenset(key for text in texts if (key := link_key(text)))


def _standfirst(tree: HtmlElement, description: str, opening: list[str]) -> str:
    """The page's summary when it is shown as a standfirst (a subheading above the body).

    Many pages reuse their first paragraph as the summary; that one is article text and stays.
    A summary set as a heading or a "dek"/"standfirst" block is the publisher's display copy.
    """
    key = fingerprint(description)
    # the tree scan is the costly part: only do it when the text opens with the summary
    if not key or all(fingerprint(p) != key for p in opening):
        return ""
    for element in tree.xpath(_STANDFIRST_XPATH):
        if fingerprint(element.text_content()) == key:
            return description
    return ""


def _word_count(result: CleaningResult) -> int:
    if result.words is None:
        result.words = _count_words(result.paragraphs)
    return result.words


def _count_words(paragraphs: list[str]) -> int:
    return sum(count_words(p) for p in paragraphs)


def _not_an_article(result: CleaningResult) -> bool:
    return _word_count(result) < MIN_ARTICLE_WORDS


def _article(meta: Metadata, result: CleaningResult) -> Article:
    text = "\n\n".join(result.paragraphs)
    if not result.paragraphs or _not_an_article(result):
        text = ""
    fill_language(meta, text)
    return Article(
        title=meta.title,
        text=text,
        authors=meta.authors or _dedupe(result.authors),
        published=meta.published or result.published,
        language=meta.language,
        canonical_url=meta.canonical_url,
        image=meta.image,
        reason=None if text else "no article text found (a section front, a media page or an empty page)",
    )


def _dedupe(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))
