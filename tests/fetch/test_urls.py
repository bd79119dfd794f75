"""Canonical URLs: one key per article, whatever variant a feed hands us."""

from __future__ import annotations

import pytest

from pipeline.fetch import canonical_url

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
