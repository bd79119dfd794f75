"""Extraction: HTML page -> `Article` (clean text, title, authors, date, language).

In: the page's bytes or text, its URL, the source's `[extract]` rules, `timezone` and learned
boilerplate. Out: an `Article`. `article` runs the steps over one lxml parse (`parse`):
`mainblock` finds the story's container from every text block of the page (`blocks`), judging
furniture by the prose it holds rather than by a class word; when that is unsure, full
trafilatura is asked too (and readability-lxml where one of the two has no article) and `choose`
picks a candidate by its prose, the block merged with trafilatura by agreement (`merge`) among
them. `cleaning` drops what extractors leave in (promos, "READ ALSO", credits, comment forms),
`metadata`, `dates` and `language` fill the metadata (dates keep their time zone), `rules` applies
a source's own selectors, `boilerplate` learns the lines that recur across a source's pages.

A new generic cleaning rule goes in `cleaning`; a new per-source rule kind in `rules`. No rule is
keyed to a site, a URL or a page of the benchmarks (`bench/extraction.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_names

# Each name is imported from its module on first use: validating a source's rules (every command
# that loads the sources) needs `rules`, not trafilatura (start-up time, issue 23).
_MODULE_OF = {
    "extract_article": "article",
    "parse_rules": "rules",
    "learn_boilerplate": "boilerplate",
}

if TYPE_CHECKING:
    from .article import extract_article
    from .boilerplate import learn_boilerplate
    from .rules import parse_rules


__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)


__all__ = ["extract_article", "learn_boilerplate", "parse_rules"]
