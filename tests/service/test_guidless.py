"""Issue 24, case 8: a feed without GUIDs whose links change on every poll stores each story once."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from httpserver import LocalServer, Request, Response
from waiting import REQUEST_DEADLINE

from pipeline.config import load_config
from pipeline.feeds import parse_feed
from pipeline.models import FeedConfig, Source
from pipeline.service.poll import poll_feeds
from pipeline.store import Store

STORIES = [
    ("Defence chiefs hold a video call", "Mon, 02 Nov 2026 08:00:00 +0000", "The two ministers spoke for an hour."),
    ("Hotline talks resume", "Mon, 02 Nov 2026 09:30:00 +0000", "Officers met in Honolulu."),
]


def rss(items: list[tuple[str, str, str, str]]) -> str:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate>"
                   f"<description>{s}</description></item>" for link, t, d, s in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Rotating</title>{body}</channel></rss>'


@pytest.fixture
def setup(tmp_path):
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[storage]\npath = "{tmp_path / "nw.db"}"\n[network]\nallow_private_addresses = true\n'
                           f"min_host_delay = 0.0\ntimeout = {REQUEST_DEADLINE}\nread_timeout = {REQUEST_DEADLINE}\n")
    with LocalServer() as server, Store(tmp_path / "nw.db") as store:
        yield server, store, load_config(config_file)


def poll_all(store, config, url) -> int:
    sources = {"rot": Source(name="rot", homepage="http://example.com/", language="en",
                             feeds=(FeedConfig(url=url),))}
    store.sync_sources(sources.values())
    feeds = [store.feed(r["id"]) for r in store.feeds()]
    return asyncio.run(poll_feeds(store, config, sources, feeds=feeds)).new_items


def test_rotating_links_without_guids_are_stored_once(setup):
    server, store, config = setup
    polls = itertools.count(1)

    def rotating(_request: Request) -> Response:
        # A session segment in every link, new on every request, as some CMSs do.
        n = next(polls)
        return Response(body=rss([(f"https://outlet.example/s/{n}x{i}/story-{i}", t, d, s)
                                  for i, (t, d, s) in enumerate(STORIES)]),
                        headers={"Content-Type": "application/rss+xml"})

    server.route("/feed", rotating)
    added = [poll_all(store, config, server.url("/feed")) for _ in range(4)]
    assert added == [2, 0, 0, 0]
    assert store.db.execute("SELECT count(*) FROM entries").fetchone()[0] == 2


def test_a_new_story_in_the_same_feed_is_still_new(setup):
    server, store, config = setup
    first = rss([("https://outlet.example/s/a/1", *STORIES[0])])
    second = rss([("https://outlet.example/s/b/1", *STORIES[0]), ("https://outlet.example/s/b/2", *STORIES[1])])
    server.route("/feed", [Response(body=first), Response(body=second)])
    assert poll_all(store, config, server.url("/feed")) == 1
    assert poll_all(store, config, server.url("/feed")) == 1


def test_identical_entries_side_by_side_and_thin_entries_keep_their_links():
    # Two entries the same body lists at once are two entries; an undated headline without text
    # ("Photos of the day") says too little to be recognised by.
    same = ("Photos of the day", "Mon, 02 Nov 2026 08:00:00 +0000", "Pictures.")
    body = rss([("https://o.example/p/1", *same), ("https://o.example/p/2", *same)])
    body = body.replace("</channel>", "<item><title>Photos of the day</title><link>https://o.example/p/3</link>"
                                      "</item></channel>")
    items = parse_feed(body.encode(), "https://o.example/feed").items
    assert [i.guid for i in items] == [None, None, None]
    given = parse_feed(rss([("https://o.example/p/9", *STORIES[0])]).encode(), "https://o.example/feed").items
    assert given[0].guid and given[0].guid.startswith("content:")
