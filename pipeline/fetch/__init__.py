"""Fetching: everything that crosses the network, and the bytes it brings back.

In: URLs (feeds, pages, robots.txt) and the `[network]` settings. Out: `FetchResult`s (status,
headers, body, final URL) and page text decoded from whatever charset it came in. `client` is the
only module in newswatch that sends a request; `transport` decides where its connections may go;
`urls` parses every URL from outside and gives each article one identity whatever variant of its
address a feed hands us; `robots` decides what we may fetch; `encoding` turns wire bytes into text.

A new transport or protocol detail (proxies, another compression) goes in `client`.
"""

from .client import FEED_ACCEPT, PAGE_ACCEPT, HttpClient, fetch_once, retry_after_seconds
from .encoding import decode_html
from .urls import BadUrl, Url, canonical_url, clean_url, parse_url, usable_url

__all__ = [
    "FEED_ACCEPT",
    "PAGE_ACCEPT",
    "BadUrl",
    "HttpClient",
    "Url",
    "canonical_url",
    "clean_url",
    "decode_html",
    "fetch_once",
    "parse_url",
    "retry_after_seconds",
    "usable_url",
]
