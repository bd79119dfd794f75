"""Fetching: everything that crosses the network, and the bytes it brings back.

In: URLs (feeds, pages, robots.txt) and the `[network]` settings. Out: `FetchResult`s (status,
headers, body, final URL) and page text decoded from whatever charset it came in. `client` is the
only module in newswatch that sends a request; `transport` decides where its connections may go;
`urls` parses every URL from outside and gives each article one identity whatever variant of its
address a feed hands us; `robots` decides what we may fetch; `encoding` turns wire bytes into text.

A new transport or protocol detail (proxies, another compression) goes in `client`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_names

# Each name is imported from its module on first use: a command needs one or two of them, not the
# HTTP client, extractor and scheduler the others bring (start-up time, issue 23).
_MODULE_OF = {
    "FEED_ACCEPT": "client",
    "PAGE_ACCEPT": "client",
    "HttpClient": "client",
    "fetch_once": "client",
    "retry_after_seconds": "client",
    "decode_html": "encoding",
    "BadUrl": "urls",
    "Url": "urls",
    "canonical_of_clean": "urls",
    "canonical_url": "urls",
    "clean_url": "urls",
    "parse_url": "urls",
    "usable_url": "urls",
}

if TYPE_CHECKING:
    from .client import FEED_ACCEPT, PAGE_ACCEPT, HttpClient, fetch_once, retry_after_seconds
    from .encoding import decode_html
    from .urls import BadUrl, Url, canonical_of_clean, canonical_url, clean_url, parse_url, usable_url


__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)


__all__ = [
    "FEED_ACCEPT",
    "PAGE_ACCEPT",
    "BadUrl",
    "HttpClient",
    "Url",
    "canonical_of_clean",
    "canonical_url",
    "clean_url",
    "decode_html",
    "fetch_once",
    "parse_url",
    "retry_after_seconds",
    "usable_url",
]
