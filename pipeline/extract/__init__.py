"""Extraction: HTML page -> `Article` (clean text, title, authors, date, language).

In: the page's bytes or text, its URL, the source's `[extract]` rules, `timezone` and learned
boilerplate. Out: an `Article`. `article` runs the steps over one lxml parse (`parse`):
`mainblock` finds the story's container, trafilatura is asked too only when that is unsure and
`merge` combines the two by agreement, `blocks` splits an element into paragraphs, `cleaning`
drops what extractors leave in (promos, "READ ALSO", credits, comment forms), `metadata`,
`dates` and `language` fill the metadata (dates keep their time zone), `rules` applies a
source's own selectors, `boilerplate` learns the lines that recur across a source's pages.

A new generic cleaning rule goes in `cleaning`; a new per-source rule kind in `rules`.
"""

from .article import extract_article, parse_rules
from .boilerplate import learn_boilerplate

__all__ = ["extract_article", "learn_boilerplate", "parse_rules"]
