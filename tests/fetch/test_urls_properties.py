"""Properties of URL parsing and identity over generated input (hypothesis): nothing escapes, what
parse_url accepts the client can fetch, and an article's key does not move when it is cleaned."""

from __future__ import annotations

import httpx
from fuzzing import bounded
from hypothesis import given
from hypothesis import strategies as st

from pipeline.fetch import BadUrl, Url, canonical_url, clean_url, parse_url

FAST = bounded(300)

# Pieces that real links are made of, and the ones that break parsers: ports out of range or not
# numbers, unclosed IPv6 brackets, spaces, IDNA labels, percent signs, tracking parameters.
label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
host = st.one_of(
    st.lists(label, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["127.0.0.1", "[::1]", "[::1", "::1]", "[fe80::1%25eth0]", "bücher.example", "xn--zz.example",
                     "exa mple.com", "", "www.example.com", "EXAMPLE.com", "a..b", "-x-.example", "[::zz]"]),
)
port = st.one_of(st.just(""), st.integers(-5, 70_000).map(lambda n: f":{n}"),
                 st.sampled_from([":", ":abc", ":80", ":443", ":0", ":99999", ": 80"]))
path = st.lists(st.text("abc/%.-_~!$&'()*+,;=:@ éü\\", max_size=8), max_size=4).map("/".join)
query = st.one_of(st.just(""), st.lists(
    st.tuples(st.sampled_from(["id", "utm_source", "fbclid", "a", "b", "_ga", "page", "q"]),
              st.text("abc123 %&=+", max_size=5)), max_size=4,
).map(lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs)))
scheme = st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "//", "", "javascript:", "http:/", "http:"])
urlish = st.builds(lambda s, h, p, pa, q, f: f"{s}{h}{p}/{pa}{q}{f}", scheme, host, port, path, query,
                   st.sampled_from(["", "#x", "#"]))
anything = st.one_of(urlish, st.text(max_size=60))
base = st.one_of(st.none(), st.just("https://feeds.example/news/rss.xml"), urlish)


@FAST
@given(anything, base)
def test_parse_url_never_raises_and_what_it_accepts_can_be_fetched(raw, base_url):
    result = parse_url(raw, base_url)
    assert isinstance(result, Url | BadUrl)
    if isinstance(result, BadUrl):
        assert result.reason and "\n" not in result.reason
        return
    assert result.scheme in ("http", "https") and result.host and 1 <= result.port <= 65535
    assert result.host.isascii() and result.host == result.host.lower()
    httpx.URL(result.text)  # the client takes it as it stands
    again = parse_url(result.text)  # and parsing is stable: the accepted text is accepted again, the same
    assert again == result


@FAST
@given(anything)
def test_identity_functions_never_raise(raw):
    assert isinstance(canonical_url(raw), str)
    assert isinstance(clean_url(raw), str)


@FAST
@given(urlish)
def test_cleaning_keeps_a_fetchable_link_and_its_identity(raw):
    url = parse_url(raw)
    if not isinstance(url, Url):
        return
    cleaned = clean_url(url.text)
    assert isinstance(parse_url(cleaned), Url), cleaned
    assert canonical_url(cleaned) == canonical_url(url.text)
    assert clean_url(cleaned) == cleaned  # cleaning twice changes nothing


@FAST
@given(st.lists(label, min_size=1, max_size=3).map(".".join), path, query)
def test_scheme_www_and_tracking_variants_share_one_key(name, page, params):
    url = parse_url(f"https://{name}.example/{page}{params}")
    if not isinstance(url, Url):
        return
    plain, key = url.text, canonical_url(url.text)
    assert canonical_url(plain.replace("https://", "http://www.", 1)) == key
    assert canonical_url(plain + ("&" if "?" in plain else "?") + "utm_source=rss") == key
    assert canonical_url(plain + "#comments") == key
    assert canonical_url(canonical_url("https://" + key)) == canonical_url("https://" + key)
