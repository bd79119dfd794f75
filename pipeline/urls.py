"""Entry identity: one key per article, whatever variant of its URL a feed hands us."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import courlan


def canonical_url(url: str) -> str:
    """A scheme-less key that unifies http/https, `www.`, trailing slashes, fragments and tracking
    parameters (utm_*, fbclid, gclid, ...), e.g. ``example.com/news/1?id=3``.

    courlan (trafilatura's URL library) knows the tracking parameters and the usual normalisation
    (case, default ports, parameter order); we add the variants that name the same page on news
    sites but that a general normaliser must keep apart.
    """
    url = url.strip()
    try:
        normal = courlan.normalize_url(url)
    except (ValueError, AttributeError):
        normal = url
    parts = urlsplit(normal)
    host = parts.hostname or ""
    host = host.removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("", host, path, parts.query, "")).removeprefix("//")
