"""The poll cycle end to end: a real local server, a real store, the real client."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from httpserver import LocalServer, Response, conditional, redirect
from waiting import REQUEST_DEADLINE

from pipeline.config import Config, load_config
from pipeline.models import FeedConfig, Source
from pipeline.service import collect_status
from pipeline.service.poll import PollReport, poll_feeds
from pipeline.store import Store, parse_iso, utcnow


def rss(*items: tuple[str, str], ttl: int | None = None) -> str:
    entries = "".join(f"<item><title>{guid}</title><link>{link}</link><guid>{guid}</guid></item>"
                      for link, guid in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"{f'<ttl>{ttl}</ttl>' if ttl else ''}{entries}</channel></rss>")


@pytest.fixture
def server():
    with LocalServer() as s:
        yield s


def write_config(tmp_path, timeout: float) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "nw.db"}"\n[network]\nallow_private_addresses = true\n'
        f"min_host_delay = 0.0\ntimeout = {timeout}\nconnect_timeout = {timeout}\nread_timeout = {timeout}\n"
    )
    return load_config(path)


@pytest.fixture
def config(tmp_path) -> Config:
    # A 2 s timeout failed a 429 from loopback as a timeout with ten suites on two cores: only the
    # stall test is about timeouts, and it has its own.
    return write_config(tmp_path, REQUEST_DEADLINE)


@pytest.fixture
def store(config):
    with Store(config.db_path) as s:
        yield s


def add_source(store: Store, *urls: str, name: str = "src") -> dict[str, Source]:
    source = Source(name=name, homepage="http://example.com/", language="en",
                    feeds=tuple(FeedConfig(url=u) for u in urls))
    store.sync_sources([source])
    return {name: source}


def poll(store: Store, config: Config, sources: dict[str, Source]) -> PollReport:
    feeds = [store.feed(r["id"]) for r in store.feeds()]  # every feed, due or not
    return asyncio.run(poll_feeds(store, config, sources, feeds=feeds))


def row(store: Store, url: str) -> dict:
    return next(r for r in store.feeds() if r["url"] == url)


def test_not_modified_means_nothing_parsed(server, store, config):
    server.route("/feed", conditional(rss(("http://e.com/1", "a")), etag='"v1"',
                                      last_modified="Mon, 01 Jan 2024 00:00:00 GMT"))
    sources = add_source(store, server.url("/feed"))
    first = poll(store, config, sources)
    assert (first.ok, first.new_items) == (1, 1)
    feed = row(store, server.url("/feed"))
    assert feed["etag"] == '"v1"' and feed["last_modified"] and feed["health"] == "ok"
    second = poll(store, config, sources)
    assert second.not_modified == 1 and second.new_items == 0
    assert server.requests[-1].header("if-none-match") == '"v1"'
    assert second.bytes_received < 300


def test_lying_validators(server, store, config):
    bodies = [rss(("http://e.com/1", "a")), rss(("http://e.com/1", "a"), ("http://e.com/2", "b"))]
    state = {"body": bodies[0]}
    # The same ETag whatever the content, and it never answers 304: only the body hash can tell.
    server.route("/feed", lambda req: Response(body=state["body"], headers={"ETag": '"same"'}))
    sources = add_source(store, server.url("/feed"))
    assert poll(store, config, sources).new_items == 1
    unchanged = poll(store, config, sources)
    assert unchanged.unchanged == 1 and unchanged.new_items == 0
    state["body"] = bodies[1]
    assert poll(store, config, sources).new_items == 1


def test_permanent_redirect_moves_the_feed_after_three_polls(server, store, config):
    server.route("/old", redirect("/new", 301))
    server.route("/new", Response(body=rss(("http://e.com/1", "a"))))
    sources = add_source(store, server.url("/old"))
    for streak in (1, 2):
        poll(store, config, sources)
        feed = row(store, server.url("/old"))
        assert feed["current_url"] == server.url("/old") and feed["redirect_streak"] == streak
    poll(store, config, sources)
    feed = row(store, server.url("/old"))
    assert feed["current_url"] == server.url("/new") and feed["redirect_streak"] == 0
    before = server.hits("/old")
    poll(store, config, sources)
    assert server.hits("/old") == before  # fetched at its new address now


def test_308_counts_and_a_temporary_redirect_resets_the_streak(server, store, config):
    server.route("/old", [redirect("/new", 308), redirect("/new", 308), redirect("/new", 302), redirect("/new", 308)])
    server.route("/new", Response(body=rss(("http://e.com/1", "a"))))
    sources = add_source(store, server.url("/old"))
    for expected in (1, 2, 0, 1):
        poll(store, config, sources)
        assert row(store, server.url("/old"))["redirect_streak"] == expected


def test_gone_feed_is_marked_and_retried_rarely(server, store, config):
    server.route("/feed", Response(status=410))
    sources = add_source(store, server.url("/feed"))
    report = poll(store, config, sources)
    feed = row(store, server.url("/feed"))
    assert report.failed == 1 and feed["health"] == "gone" and feed["http_status"] == 410
    assert parse_iso(feed["next_poll_at"]) - utcnow() > timedelta(hours=11)


def test_retry_after_sets_the_next_poll(server, store, config):
    server.route("/feed", Response(status=429, headers={"Retry-After": "7200"}))
    sources = add_source(store, server.url("/feed"))
    poll(store, config, sources)
    feed = row(store, server.url("/feed"))
    assert feed["health"] == "failing" and feed["http_status"] == 429
    assert parse_iso(feed["next_poll_at"]) - utcnow() > timedelta(seconds=7100)


def test_failures_back_off_then_recover(server, store, config):
    server.route("/feed", [Response(status=500), Response(status=500), Response(body=rss(("http://e.com/1", "a")))])
    sources = add_source(store, server.url("/feed"))
    waits = []
    for _ in range(2):
        poll(store, config, sources)
        feed = row(store, server.url("/feed"))
        waits.append(parse_iso(feed["next_poll_at"]) - parse_iso(feed["last_attempt_at"]))
    assert feed["failures"] == 2 and feed["last_error"].startswith("HTTP 500") and feed["health"] == "failing"
    poll(store, config, sources)
    feed = row(store, server.url("/feed"))
    assert feed["failures"] == 0 and feed["health"] == "ok" and feed["last_error"] is None


def test_stalled_feed_fails_with_a_timeout(server, store, tmp_path):
    server.route("/feed", Response(body=rss(("http://e.com/1", "a")), delay=5))
    sources = add_source(store, server.url("/feed"))
    poll(store, write_config(tmp_path, 1.0), sources)
    assert row(store, server.url("/feed"))["last_error_kind"] == "timeout"


def test_malformed_feed_is_a_parse_failure(server, store, config):
    server.route("/feed", Response(body=b"<html><body>Sorry, we moved</body></html>"))
    sources = add_source(store, server.url("/feed"))
    poll(store, config, sources)
    feed = row(store, server.url("/feed"))
    assert feed["health"] == "failing" and feed["last_error_kind"] == "parse"


def test_private_address_refused_when_not_allowed(server, store, tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "strict.db"}"\n[network]\nmin_host_delay = 0.0\n')
    strict = load_config(path)
    server.route("/feed", Response(body=rss(("http://e.com/1", "a"))))
    sources = add_source(store, server.url("/feed"))
    poll(store, strict, sources)
    feed = row(store, server.url("/feed"))
    assert feed["last_error_kind"] == "blocked" and not server.requests


def test_changed_guids_and_shared_stories_are_one_entry(server, store, config):
    server.route("/a", [Response(body=rss(("https://www.e.com/story/1/?utm_source=a", "guid-1"))),
                        Response(body=rss(("https://e.com/story/1", "guid-CHANGED")))])
    server.route("/b", Response(body=rss(("http://e.com/story/1#top", "b-1"), ("https://e.com/story/2", "b-2"))))
    sources = add_source(store, server.url("/a"), server.url("/b"))
    first = poll(store, config, sources)
    second = poll(store, config, sources)
    assert first.new_items == 2 and second.new_items == 0
    assert store.db.execute("SELECT count(*) FROM entries").fetchone()[0] == 2


def test_moved_article_with_the_same_guid_is_one_entry(server, store, config):
    server.route("/a", [Response(body=rss(("https://e.com/old-slug", "guid-1"))),
                        Response(body=rss(("https://e.com/new-slug", "guid-1")))])
    sources = add_source(store, server.url("/a"))
    assert poll(store, config, sources).new_items == 1
    assert poll(store, config, sources).new_items == 0


def test_busy_feeds_are_polled_more_often_than_quiet_ones(server, store, config):
    from email.utils import format_datetime

    now = utcnow()

    def dated(prefix: str, step: timedelta) -> str:
        items = "".join(f"<item><link>https://e.com/{prefix}/{i}</link><pubDate>{format_datetime(now - step * i)}"
                        "</pubDate></item>" for i in range(20))
        return f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'

    server.route("/busy", Response(body=dated("busy", timedelta(minutes=15))))
    server.route("/quiet", Response(body=dated("quiet", timedelta(days=2))))
    server.route("/capped", Response(body=rss(("https://e.com/c", "c")), headers={"Cache-Control": "max-age=14400"}))
    sources = add_source(store, server.url("/busy"), server.url("/quiet"), server.url("/capped"))
    poll(store, config, sources)

    def interval(path: str) -> float:
        feed = row(store, server.url(path))
        return (parse_iso(feed["next_poll_at"]) - parse_iso(feed["last_attempt_at"])).total_seconds()

    assert 10 * 60 <= interval("/busy") <= 16 * 60
    assert interval("/quiet") == 6 * 3600
    assert interval("/capped") >= 4 * 3600  # whatever its pace, not before its max-age


def test_json_feed_and_news_sitemap_through_the_poll_path(server, store, config):
    server.route("/feed.json", Response(body=b'{"version": "https://jsonfeed.org/version/1.1", "items": '
                                             b'[{"id": "1", "url": "https://e.com/j1"}]}',
                                        headers={"Content-Type": "application/feed+json"}))
    server.route("/news.xml", Response(body=b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                                            b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
                                            b"<loc>https://e.com/s1</loc><news:news><news:title>S</news:title>"
                                            b"</news:news></url></urlset>"))
    sources = add_source(store, server.url("/feed.json"), server.url("/news.xml"))
    assert poll(store, config, sources).new_items == 2


def test_health_counts_for_status(server, store, config):
    server.route("/ok", Response(body=rss(("http://e.com/1", "a"))))
    server.route("/gone", Response(status=410))
    sources = add_source(store, server.url("/ok"), server.url("/gone"), server.url("/missing"))
    poll(store, config, sources)
    assert collect_status(store)["feeds_by_health"] == {"ok": 1, "gone": 1, "failing": 1}


def test_ttl_is_remembered_across_not_modified_polls(server, store, config):
    server.route("/feed", conditional(rss(("http://e.com/1", "a"), ttl=180), etag='"t"'))
    sources = add_source(store, server.url("/feed"))
    for expected_status in (200, 304):
        poll(store, config, sources)
        feed = row(store, server.url("/feed"))
        assert feed["http_status"] == expected_status
        assert (parse_iso(feed["next_poll_at"]) - parse_iso(feed["last_attempt_at"])).total_seconds() >= 3 * 3600
