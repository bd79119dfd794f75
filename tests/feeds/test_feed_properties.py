"""Feed bytes -> stored entries over generated input (hypothesis), through the real path: parse_feed
and the poll cycle's handle_feed_result into a real SQLite file.

Whatever the bytes, nothing escapes: the feed is recorded ok or failing with a reason. Every item
read is stored, and every entry read is an item or a counted skip."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from xml.sax.saxutils import escape, quoteattr

import pytest
from fuzzing import bounded
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import load_config
from pipeline.feeds import parse_feed
from pipeline.models import FeedConfig, FetchResult, Source
from pipeline.service.poll import PollReport, handle_feed_result
from pipeline.store import Store

FEEDS = itertools.count()

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
link = st.one_of(
    st.sampled_from(["https://news.example/a/1", "https://news.example/a/1?utm_source=rss", "/relative/2",
                     "http://news.example:99999/x", "http://news.example:abc/x", "http://[::1/x", "mailto:x@y",
                     "http://exa mple.com/", "http:///x", "https://bücher.example/ü?q=ä b", "javascript:alert(1)",
                     "", "   ", "https://news.example/a/1#frag"]),
    st.builds(lambda n: f"https://news.example/story/{n}", st.integers(0, 50)),
    text,
)
guid = st.one_of(st.none(), st.sampled_from(["1", "2", "urn:uuid:x", "https://news.example/g/1", "http://[::1/g"]),
                 text)
entry = st.fixed_dictionaries({"title": text, "link": st.one_of(st.none(), link), "guid": guid,
                               "summary": text})
entries = st.lists(entry, max_size=8)


def rss(items: list[dict]) -> bytes:
    body = "".join(
        "<item>" + (f"<title>{escape(e['title'])}</title>" if e["title"] else "")
        + (f"<link>{escape(e['link'])}</link>" if e["link"] is not None else "")
        + (f"<guid>{escape(e['guid'])}</guid>" if e["guid"] is not None else "")
        + (f"<description>{escape(e['summary'])}</description>" if e["summary"] else "") + "</item>"
        for e in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>{body}' \
           f"</channel></rss>".encode()


def atom(items: list[dict]) -> bytes:
    body = "".join(
        "<entry>" + f"<title>{escape(e['title'])}</title>"
        + (f"<link rel=\"alternate\" href={quoteattr(e['link'])}/>" if e["link"] is not None else "")
        + (f"<id>{escape(e['guid'])}</id>" if e["guid"] is not None else "")
        + f"<summary>{escape(e['summary'])}</summary></entry>"
        for e in items)
    return f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>' \
           f"{body}</feed>".encode()


json_value = st.recursive(st.none() | st.booleans() | st.integers() | text,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                          max_leaves=6)


def json_feed(items: list[dict], odd: list) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "F", "items": [
        {"title": e["title"], "url": e["link"], "id": e["guid"], "summary": e["summary"]} for e in items
    ] + odd}).encode()


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for at, cut, insert in edits:
        at %= len(data) + 1
        data = data[:at] + insert + data[at + cut:]
    return data


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 40),
                           st.one_of(st.binary(max_size=8), st.sampled_from(
                               [b"<", b">", b"&", b"]]>", b"<item>", b"</item>", b"<link>", b"\x00", b"\xff\xfe",
                               b'"', b"{", b"}", b"[", b",", b"<!DOCTYPE x [<!ENTITY a \"b\">]>", b"&a;"]))),
                 min_size=1, max_size=6)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("feedfuzz")
    (directory / "config.toml").write_text(f'[storage]\npath = "{directory / "nw.db"}"\n')
    config = load_config(directory / "config.toml")
    with Store(config.db_path) as store:
        yield store, config


def poll_body(world, body: bytes, content_type: str):
    """One poll of a new feed answering `body`: what was parsed, the feed's row, its problems."""
    store, config = world
    url = f"https://news.example/feed/{next(FEEDS)}"
    store.sync_sources([Source(name="fuzz", homepage="", language="en", feeds=(FeedConfig(url=url),))])
    feed = next(store.feed(r["id"]) for r in store.feeds() if r["url"] == url)
    result = FetchResult(url, url, 200, body=body, headers={"content-type": content_type})
    handle_feed_result(store, config, feed, result, PollReport())  # must not raise, whatever the body
    parsed = parse_feed(body, url, {"content-type": content_type})
    row = next(r for r in store.feeds() if r["url"] == url)
    for item in parsed.items:  # every item read is stored: under its key, or its GUID in this feed
        assert store.db.execute(
            "SELECT 1 FROM entries WHERE canonical_url = ? OR (feed_id = ? AND guid = ?)",
            [item.canonical_url, feed.id, item.guid]).fetchone(), item
        assert (item.url == "") == (item.link_problem is not None)
    if parsed.error:
        assert row["health"] == "failing" and row["last_error_kind"] == "parse" and row["last_error"]
    else:
        assert row["health"] == "ok"
        problems = store.entry_problems().get(feed.id)
        assert (dict(problems.skipped) if problems else {}) == dict(Counter(parsed.skipped))
    return parsed


@bounded(150)
@given(entries, st.sampled_from(["rss", "atom"]))
def test_every_generated_entry_is_stored_or_counted(world, items, kind):
    body = rss(items) if kind == "rss" else atom(items)
    parsed = poll_body(world, body, "application/xml")
    assert parsed.error is None
    assert len(parsed.items) + len(parsed.skipped) == len(items)


@bounded(100)
@given(entries, st.lists(json_value, max_size=3))
def test_json_feed_with_odd_values(world, items, odd):
    parsed = poll_body(world, json_feed(items, odd), "application/feed+json")
    assert parsed.error is None
    assert len(parsed.items) + len(parsed.skipped) == len(items) + len(odd)


@bounded(150)
@given(entries, st.sampled_from(["rss", "atom", "json"]), edits, st.sampled_from(
    ["application/rss+xml", "text/html; charset=iso-8859-1", "application/json", ""]))
def test_mutated_feed_bytes_never_escape(world, items, kind, changes, content_type):
    body = {"rss": rss, "atom": atom, "json": lambda i: json_feed(i, [])}[kind](items)
    poll_body(world, mutate(body, changes), content_type)
