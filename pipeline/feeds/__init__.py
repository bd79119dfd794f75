"""Feeds: the outlets we follow and what their feeds say.

In: `sources/*.toml` files, fetched feed bodies, OPML files, a homepage to discover feeds on.
Out: `Source`/`FeedConfig` records and `FeedItem`s (link, canonical URL, GUID, title, summary,
date). RSS and Atom go through feedparser, after `prune` has cut out the entries the store already
holds where it can; `formats` reads what feedparser does not (JSON Feed, Google News sitemaps).

A new feed format goes in `formats` and is chosen by `parse.parse_feed`'s sniffing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_names

# Each name is imported from its module on first use: a command needs one or two of them, not the
# HTTP client, extractor and scheduler the others bring (start-up time, issue 23).
_MODULE_OF = {
    "DiscoveryError": "discover",
    "add_source": "discover",
    "OpmlError": "opml",
    "export_opml": "opml",
    "import_opml": "opml",
    "ParsedFeed": "parse",
    "parse_feed": "parse",
    "check_sources": "sources",
    "load_sources": "sources",
    "read_sources": "sources",
}

if TYPE_CHECKING:
    from .discover import DiscoveryError, add_source
    from .opml import OpmlError, export_opml, import_opml
    from .parse import ParsedFeed, parse_feed
    from .sources import check_sources, load_sources, read_sources


__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)


__all__ = [
    "DiscoveryError",
    "OpmlError",
    "ParsedFeed",
    "add_source",
    "check_sources",
    "export_opml",
    "import_opml",
    "load_sources",
    "parse_feed",
    "read_sources",
]
