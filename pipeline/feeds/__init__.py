"""Feeds: the outlets we follow and what their feeds say.

In: `sources/*.toml` files, fetched feed bodies, OPML files, a homepage to discover feeds on.
Out: `Source`/`FeedConfig` records and `FeedItem`s (link, canonical URL, GUID, title, summary,
date). RSS and Atom go through feedparser; `formats` reads what it does not (JSON Feed, Google News
sitemaps).

A new feed format goes in `formats` and is chosen by `parse.parse_feed`'s sniffing.
"""

from .discover import DiscoveryError, add_source
from .opml import OpmlError, export_opml, import_opml
from .parse import ParsedFeed, parse_feed
from .sources import check_sources, load_sources, read_sources

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
