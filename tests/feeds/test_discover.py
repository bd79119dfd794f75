"""Feed discovery from a homepage and the source file it writes."""

from __future__ import annotations

import asyncio
import tomllib

import pytest
from httpserver import LocalServer, Response

from pipeline.config import NetworkSection
from pipeline.feeds.discover import (
    DiscoveryError,
    SourceDraft,
    discover_feeds,
    discover_source,
    page_language,
    page_name,
    source_toml,
    write_source,
)
from pipeline.feeds.sources import load_source
from pipeline.fetch import HttpClient
from pipeline.fetch.robots import RobotsCache

HOME = """<!DOCTYPE html><html lang="en-GB"><head><title>Example Daily | Home</title>
<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed">
<link rel="alternate" type="application/rss+xml" title="Example Daily" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" href="https://example.com/atom.xml">
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
<link rel="alternate" hreflang="fr" href="/fr/">
<link rel="stylesheet" type="text/css" href="/style.css">
<link rel="alternate" type="application/feed+json" href="feed.json">
</head><body></body></html>"""

RSS = '<rss version="2.0"><channel><title>Example Daily</title><link>https://example.com/</link>' \
      "<item><title>A</title><link>https://example.com/a</link></item></channel></rss>"


def test_discover_feeds_in_page_order_comments_last():
    assert discover_feeds(HOME, "https://example.com/news/") == [
        "https://example.com/feed.xml", "https://example.com/atom.xml", "https://example.com/news/feed.json",
        "https://example.com/comments/feed",
    ]


def test_base_href_and_garbage():
    html = '<html><head><base href="https://cdn.example.com/x/"><link rel="alternate feed" ' \
           'type="application/rss+xml" href="rss"></head></html>'
    assert discover_feeds(html, "https://example.com/") == ["https://cdn.example.com/x/rss"]
    assert discover_feeds("", "https://example.com/") == []
    assert discover_feeds(b"\x00\x01", "https://example.com/") == []
    assert discover_feeds('<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">',
                          "https://example.com/") == []


def test_page_name_and_language():
    assert page_name(HOME, "https://example.com/") == "Example Daily"
    assert page_name('<meta property="og:site_name" content="The Site">', "https://x.org/") == "The Site"
    assert page_name("<p>nothing</p>", "https://www.x.org/") == "x.org"
    assert page_language(HOME) == "en" and page_language("<html><p>x</p></html>") is None


def test_source_file_round_trips_through_the_loader(tmp_path):
    draft = SourceDraft(name='The "Quoted" Times — Asia', homepage="https://q.example/", language="zh",
                        feeds=["https://q.example/feed?a=1&b=2"], min_delay=2.5,
                        intervals={"https://q.example/feed?a=1&b=2": 15})
    path = write_source(draft, tmp_path)
    assert path.name == "the-quoted-times-asia.toml"
    source = load_source(path)
    assert source.name == draft.name and source.language == "zh" and source.min_delay == 2.5
    assert [(f.url, f.interval) for f in source.feeds] == [("https://q.example/feed?a=1&b=2", 900)]
    assert tomllib.loads(source_toml(draft))["feeds"][0]["interval"] == 15
    with pytest.raises(FileExistsError):
        write_source(draft, tmp_path)


@pytest.fixture
def server():
    with LocalServer() as s:
        yield s


def discover(url: str) -> SourceDraft:
    async def run() -> SourceDraft:
        async with HttpClient(NetworkSection(allow_private_addresses=True, min_host_delay=0.0, timeout=2.0),
                              robots=RobotsCache()) as client:
            return await discover_source(url, client)

    return asyncio.run(run())


def test_discover_source_from_a_homepage(server):
    server.route("/", Response(body=HOME, headers={"Content-Type": "text/html; charset=utf-8"}))
    draft = discover(server.url("/"))
    assert draft.name == "Example Daily" and draft.language == "en" and draft.homepage == server.url("/")
    assert draft.feeds == [server.url("/feed.xml")]


def test_discover_source_given_the_feed_itself(server):
    server.route("/feed.xml", Response(body=RSS, headers={"Content-Type": "application/rss+xml"}))
    draft = discover(server.url("/feed.xml"))
    assert draft.feeds == [server.url("/feed.xml")] and draft.homepage == "https://example.com/"


def test_discover_falls_back_to_common_paths(server):
    server.route("/", Response(body="<html><head><title>Bare</title></head></html>"))
    server.route("/rss.xml", Response(body=RSS))
    assert discover(server.url("/")).feeds == [server.url("/rss.xml")]


def test_discover_nothing_is_an_error(server):
    server.route("/", Response(body="<html><head><title>Bare</title></head></html>"))
    with pytest.raises(DiscoveryError, match="no feed found"):
        discover(server.url("/"))
    with pytest.raises(DiscoveryError, match="cannot fetch"):
        discover(server.url("/missing"))


def test_unusable_urls_are_refused_or_passed_over(server):
    with pytest.raises(DiscoveryError, match="not a URL we can fetch: port 99999 is out of range 1-65535"):
        discover("http://127.0.0.1:99999/")
    html = ('<html><head><base href="http://[::1/"><link rel="alternate" type="application/rss+xml" '
            'href="http://e.com:abc/feed"><link rel="alternate" type="application/rss+xml" href="/rss"></head></html>')
    # an unusable <base> is ignored, an unusable feed link is no feed
    assert discover_feeds(html, "https://example.com/") == ["https://example.com/rss"]
    server.route("/", Response(body=html, headers={"Content-Type": "text/html"}))
    assert discover(server.url("/")).feeds == [server.url("/rss")]
