"""Canonical URLs: one key per article, whatever variant a feed hands us."""

from __future__ import annotations

import pytest

from pipeline.fetch import canonical_url
from pipeline.fetch.urls import BadUrl, Url, parse_url

SAME = [
    "https://www.example.com/news/1/?id=3",
    "http://example.com/news/1?id=3",
    "https://example.com/news/1?id=3#comments",
    "https://EXAMPLE.com:443/news/1/?utm_source=rss&utm_medium=feed&id=3",
    "https://example.com/news/1?fbclid=abc&id=3&gclid=x",
    "https://example.com/news/1?id=3&_ga=2.1&igshid=q&ocid=rss&mc_cid=1&mc_eid=2",
]


@pytest.mark.parametrize("variant", SAME)
def test_variants_share_one_key(variant):
    assert canonical_url(variant) == "example.com/news/1?id=3"


def test_different_pages_stay_apart():
    keys = {canonical_url(u) for u in (
        "https://example.com/news/1?id=3", "https://example.com/news/1?id=4", "https://example.com/news/2",
        "https://example.com:8080/news/1?id=3", "https://news.example.com/news/1?id=3",
    )}
    assert len(keys) == 5


def test_parameter_order_does_not_matter():
    assert canonical_url("https://e.com/a?b=2&a=1") == canonical_url("https://e.com/a?a=1&b=2")


def test_root_and_odd_input():
    assert canonical_url("https://www.example.com/") == "example.com"
    assert canonical_url("  https://example.com/a  ") == "example.com/a"


def test_clean_url_keeps_a_working_link_without_tracking():
    from pipeline.fetch import clean_url

    assert clean_url("https://www.a.example/news/1/?utm_source=rss&id=3&fbclid=x&_ga=1#comments") == \
        "https://www.a.example/news/1/?id=3"
    assert clean_url("http://a.example/x?b=2&a=1") == "http://a.example/x?a=1&b=2"  # same page, sorted


@pytest.mark.parametrize(("raw", "reason"), [
    ("http://host:99999/x", "port 99999 is out of range 1-65535"),
    ("http://host:abc/x", "port 'abc' is not a number"),
    ("http://host:0/x", "port 0 is out of range 1-65535"),
    ("http://[::1/x", "not a URL (Invalid IPv6 URL)"),
    ("http://[::zz]/x", "not a URL ('::zz' does not appear to be an IPv4 or IPv6 address)"),
    ("http://exa mple.com/", "host 'exa mple.com' contains a space"),
    ("http:///x", "no host"),
    ("ftp://example.com/x", "scheme 'ftp' is not one of http, https"),
    ("/relative/only", "not an absolute URL (no scheme)"),
    ("", "empty URL"),
    ("http://-bad-.example/", "host '-bad-.example' is not a valid host name"),
    ("http://xn--zz.example/", "host 'xn--zz.example' is not a valid international domain name"),
    ("http://a\nb.example/", "contains a line break or tab"),
])
def test_parse_url_says_why_a_url_is_unusable(raw, reason):
    result = parse_url(raw)
    assert isinstance(result, BadUrl)
    assert result.reason.startswith(reason), result.reason


def test_parse_url_accepts_what_can_be_fetched():
    ok = parse_url("/news/1?id=3", base="https://Example.com:8443/section/")
    assert ok == Url(text="https://Example.com:8443/news/1?id=3", scheme="https", host="example.com", port=8443)
    assert parse_url("http://[::1]:8080/x").host == "::1"
    assert parse_url("http://bücher.example/").host == "xn--bcher-kva.example"
    assert parse_url("http://a_b.example/").port == 80


@pytest.mark.parametrize("raw", ["http://host:99999/x", "http://host:abc/x", "http://[::1/x"])
def test_identity_functions_never_raise_on_unusable_urls(raw):
    from pipeline.fetch import clean_url

    assert canonical_url(raw) and clean_url(raw)
