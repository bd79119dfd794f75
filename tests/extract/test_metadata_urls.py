"""URLs in a page's own markup are outside input: an unusable one is dropped, never raised."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.extract.metadata import extract_metadata


def meta(head: str, url: str | None = "https://e.com/news/1"):
    return extract_metadata(lxml.html.document_fromstring(f"<html><head>{head}</head><body><p>x</p></body></html>"),
                            url)


@pytest.mark.parametrize("href", ["http://[::1/x", "http://e.com:99999/x", "http://e.com:abc/x", "javascript:x()"])
def test_an_unusable_canonical_or_image_is_dropped(href):
    found = meta(f'<link rel="canonical" href="{href}"><meta property="og:image" content="{href}">')
    assert found.canonical_url is None and found.image is None


def test_relative_canonical_and_image_resolve_against_the_page():
    found = meta('<link rel="canonical" href="/news/1?x=1"><meta property="og:url" content="https://other/"> '
                 '<meta property="og:image" content="img/a.jpg">')
    assert found.canonical_url == "https://e.com/news/1?x=1" and found.image == "https://e.com/news/img/a.jpg"
    assert meta('<meta property="og:url" content="https://e.com/og">').canonical_url == "https://e.com/og"
