"""Extraction: HTML page -> `Article` (clean text, title, authors, date, language).

In: the page's bytes or text, its URL, the source's `[extract]` rules and learned boilerplate.
Out: an `Article`. `article` runs the steps over one lxml parse: `blocks` splits the main element
into paragraphs, `cleaning` drops what generic extractors leave in (promos, "READ ALSO", credits,
comment forms), `metadata` and `language` fill the metadata, `rules` applies a source's own
selectors, `boilerplate` learns the lines that recur across a source's pages.

A new generic cleaning rule goes in `cleaning`; a new per-source rule kind in `rules`.
"""

from .article import extract_article, parse_rules
from .boilerplate import learn_boilerplate

__all__ = ["extract_article", "learn_boilerplate", "parse_rules"]
