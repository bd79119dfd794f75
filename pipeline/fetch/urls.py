"""URLs from outside: one parser that says why a URL is unusable, and one key per article.

Every URL newswatch did not write itself — feed links and GUIDs, redirects, `<link rel=canonical>`,
robots.txt locations, OPML, `sources add`, the configuration — goes through `parse_url` before
anything else looks at it. It never raises: a URL nothing can fetch is data (a `BadUrl` with the
reason), so one bad link costs one item, not a feed or a cycle.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

import httpx
import idna

# Tracking parameters courlan keeps (it already drops utm_*, fbclid, gclid, mc_cid, ref, ...):
# campaign and share markers that news sites and newsletters add to the same article URL.
_EXTRA_TRACKING = frozenset({
    "_ga", "_gl", "igshid", "ocid", "cmpid", "mkt_tok", "msclkid", "dclid", "yclid", "twclid", "ttclid",
    "sr_share", "smid", "smtyp", "ito", "at_medium", "at_campaign", "ns_mchannel", "ns_campaign", "wt.mc_id",
    "s_cid", "ref_src", "ref_url", "vero_id", "oly_anon_id", "oly_enc_id", "__twitter_impression",
})


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")  # underscores: real hosts use them, browsers allow
SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class Url:
    """An absolute http(s) URL that the HTTP client can fetch as it stands."""

    text: str  # resolved against its base; host as given (httpx encodes IDNA on the wire)
    scheme: str
    host: str  # lower-case ASCII (IDNA-encoded), without IPv6 brackets
    port: int  # the explicit port, or the scheme's default
    # httpx's parse of `text`, made while checking it: the client sends it without parsing again
    wire: httpx.URL | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class BadUrl:
    """A URL that cannot be fetched, and why, in words a user can act on."""

    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.text!r}: {self.reason}"


def parse_url(raw: object, base: str | None = None, schemes: tuple[str, ...] = SCHEMES) -> Url | BadUrl:
    """`raw` (resolved against `base` when relative) as a fetchable Url, or a BadUrl with the reason."""
    if not isinstance(raw, str) or not raw.strip():
        return BadUrl(str(raw or ""), "empty URL")
    text = raw.strip()
    if any(c in text for c in "\r\n\t"):
        return BadUrl(text, "contains a line break or tab")
    try:
        if base:
            text = urljoin(base, text).strip()  # joining drops an empty "#", and may bare a trailing space
        parts = urlsplit(text)
    except ValueError as exc:  # "Invalid IPv6 URL" and friends
        return BadUrl(text, f"not a URL ({exc})")
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return BadUrl(text, f"scheme {parts.scheme!r} is not one of {', '.join(schemes)}" if scheme
                      else "not an absolute URL (no scheme)")
    try:
        port = parts.port
    except ValueError:
        port_text = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        if port_text.isdigit():
            return BadUrl(text, f"port {port_text} is out of range 1-65535")
        return BadUrl(text, f"port {port_text!r} is not a number")
    if port == 0:
        return BadUrl(text, "port 0 is out of range 1-65535")
    host = parts.hostname or ""
    if not host:
        return BadUrl(text, "no host")
    reason = _host_problem(host)
    if reason:
        return BadUrl(text, reason)
    try:
        wire = httpx.URL(text)  # the client's own parser is the last word on what it can fetch
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        return BadUrl(text, f"not a URL the HTTP client accepts ({exc})")
    ascii_host = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    return Url(text=text, scheme=scheme, host=ascii_host, port=port or (443 if scheme == "https" else 80),
               wire=wire)


@functools.lru_cache(maxsize=16_384)
def request_url(raw: str) -> Url | BadUrl:
    """`parse_url(raw)` for a URL the client is asked to fetch, remembered: a feed's URL is the
    same on every poll, and parsing it (urlsplit, IDNA, httpx's own parse) cost more than the rest
    of a 304 (issue 23). Both results are immutable, so sharing them is safe."""
    return parse_url(raw)


def usable_url(raw: object, base: str | None = None) -> str | None:
    """`parse_url` for callers that only keep good URLs: the absolute URL's text, or None."""
    url = parse_url(raw, base)
    return url.text if isinstance(url, Url) else None


def _host_problem(host: str) -> str | None:
    if ":" in host:  # urlsplit only leaves a colon in a bracketed IPv6 literal
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"host [{host}] is not an IPv6 address"
        return None
    if any(c.isspace() for c in host):
        return f"host {host!r} contains a space"
    if host.isascii():
        ascii_host = host
    else:
        try:
            ascii_host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            return f"host {host!r} is not a valid international domain name ({exc})"
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return f"host {host!r} is not a valid host name"
    if ascii_host.startswith("xn--") or ".xn--" in ascii_host:
        try:
            idna.decode(ascii_host)
        except (idna.IDNAError, UnicodeError) as exc:
            return f"host {host!r} is not a valid international domain name ({exc})"
    return None


def _without_tracking(query: str) -> str:
    # Parameters are dropped as they are written, never decoded and re-encoded: "a=%20" and
    # "a=+" must stay as different (or as equal) as the site wrote them.
    return "&".join(p for p in query.split("&") if unquote_plus(p.split("=", 1)[0]).lower() not in _EXTRA_TRACKING)


_WIRE_SAFE = "/?#[]@!$&'()*+,;=:~%"  # reserved characters and existing escapes stay as written


def _wire_form(url: str) -> str:
    """`url` without its fragment, and with what cannot go on the wire as it stands (spaces,
    non-ASCII in the path or query) percent-encoded, as the HTTP client will send it: cleaning and
    identity then see one spelling of the URL, whatever a feed wrote."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, quote(parts.path, safe=_WIRE_SAFE),
                       quote(parts.query, safe=_WIRE_SAFE), ""))


def clean_url(url: str) -> str:
    """The URL to fetch and to show: tracking parameters and the fragment removed, nothing else
    changed (unlike canonical_url, it stays a working link)."""
    url = url.strip()
    try:
        wire = _wire_form(url)
    except ValueError:  # see parse_url for why it is unusable
        return url
    import courlan  # here, not above: commands that only validate URLs need not load it (issue 23)

    try:
        # normalize_url, not courlan.clean_url: its scrubbing guesses at garbled links (cuts
        # "trailing parts", picks one of two URLs), and a link parse_url accepted is not garbled
        cleaned = courlan.normalize_url(wire) or wire
    except (ValueError, AttributeError):
        cleaned = wire
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return wire
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", _without_tracking(parts.query), ""))


def canonical_url(url: str) -> str:
    """A scheme-less key that unifies http/https, `www.`, trailing slashes, fragments and tracking
    parameters (utm_*, fbclid, gclid, ...), e.g. ``example.com/news/1?id=3``.

    courlan (trafilatura's URL library) knows the tracking parameters and the usual normalisation
    (case, default ports, parameter order); we add the variants that name the same page on news
    sites but that a general normaliser must keep apart.
    """
    # From the cleaned link, so that the link we store and the key we store agree: the cleaned
    # link's key is the raw link's key.
    return canonical_of_clean(clean_url(url), url.strip())


def canonical_of_clean(cleaned: str, original: str | None = None) -> str:
    """`canonical_url` of a link `clean_url` already gave: a feed entry's link is cleaned for
    storing, and cleaning it a second time for its key would run courlan twice per item (issue 23).
    `original` is the link as written, the key's fallback when nothing can parse it."""
    import courlan

    url = original if original is not None else cleaned
    try:
        normal = courlan.normalize_url(cleaned)
    except (ValueError, AttributeError):
        normal = url
    try:
        parts = urlsplit(normal)
        port = parts.port
    except ValueError:  # a key must still come out of a URL nothing can fetch (parse_url says why)
        return url.lower()
    host = parts.hostname or ""
    host = host.removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("", host, path, _without_tracking(parts.query), "")).removeprefix("//")
