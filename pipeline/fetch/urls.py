"""Entry identity: one key per article, whatever variant of its URL a feed hands us."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

# Tracking parameters courlan keeps (it already drops utm_*, fbclid, gclid, mc_cid, ref, ...):
# campaign and share markers that news sites and newsletters add to the same article URL.
_EXTRA_TRACKING = frozenset({
    "_ga", "_gl", "igshid", "ocid", "cmpid", "mkt_tok", "msclkid", "dclid", "yclid", "twclid", "ttclid",
    "sr_share", "smid", "smtyp", "ito", "at_medium", "at_campaign", "ns_mchannel", "ns_campaign", "wt.mc_id",
    "s_cid", "ref_src", "ref_url", "vero_id", "oly_anon_id", "oly_enc_id", "__twitter_impression",
})


def _without_tracking(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in _EXTRA_TRACKING]
    # re-encode only when we dropped something, to keep the query's original form
    return urlencode(kept) if len(kept) != len(pairs) else query


def clean_url(url: str) -> str:
    """The URL to fetch and to show: tracking parameters and the fragment removed, nothing else
    changed (unlike canonical_url, it stays a working link)."""
    url = url.strip()
    try:
        cleaned = courlan.clean_url(url) or url
    except (ValueError, AttributeError):
        cleaned = url
    parts = urlsplit(cleaned)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, _without_tracking(parts.query), ""))


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
    return urlunsplit(("", host, path, _without_tracking(parts.query), "")).removeprefix("//")
