"""Issue 24: the rolling Atom feed is built once per change of its items, not per request or per
minute; served by uvicorn on 127.0.0.1 in this process, so the builds can be counted."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import uvicorn
from waiting import wait_for
from web_helpers import free_port, http_get

from pipeline.context import load_context
from pipeline.digest.deliver import ROLLING_FEED_DAYS
from pipeline.models import Article, FeedItem
from pipeline.store import Store
from pipeline.web import app as web_app

TOPIC = "us-china-milcomm"
NEW_TITLE = "Defense chiefs agree to a standing video line"
NEW_TEXT = ("The United States and China agreed on Thursday to keep a standing military video line open "
            "between their defense ministries, officials said after the call.\n\n"
            "The hotline between the two militaries will be tested every month, the officials added.")


class Builds:
    """Counts rolling-feed builds; the first one waits until `hold_for` requests have reached the
    route, so concurrent requests really overlap it."""

    def __init__(self, monkeypatch, hold_for: int = 0, hold_build: int = 0) -> None:
        self.count, self.arrived, self.hold_for = 0, 0, hold_for
        self.changed = threading.Condition()
        self.release = threading.Event()  # lets build number `hold_build` finish
        real_build, real_route = web_app.build_digest, web_app.topic_feed

        def build(*args, **kwargs):
            if kwargs.get("days") == ROLLING_FEED_DAYS:
                with self.changed:
                    self.count += 1
                    if self.count == 1 and hold_for:
                        self.changed.wait_for(lambda: self.arrived >= hold_for, timeout=120)
                    held = self.count == hold_build
                if held:
                    self.release.wait(120)
            return real_build(*args, **kwargs)

        def route(request):
            with self.changed:
                self.arrived += 1
                self.changed.notify_all()
            return real_route(request)

        monkeypatch.setattr(web_app, "build_digest", build)
        monkeypatch.setattr(web_app, "topic_feed", route)


@pytest.fixture
def serve(demo_copy):
    servers = []

    def start() -> str:
        ctx = load_context(demo_copy / "config.toml")
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(web_app.create_app(ctx), host="127.0.0.1", port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        wait_for(lambda: server.started)
        return f"http://127.0.0.1:{port}/topics/{TOPIC}/feed.xml"

    yield start
    for server in servers:
        server.should_exit = True


def test_concurrent_requests_share_one_build(serve, monkeypatch):
    builds = Builds(monkeypatch, hold_for=3)
    url = serve()
    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda _: http_get(url), range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len({r.content for r in responses}) == 1
    assert "<entry>" in responses[0].text or "<entry " in responses[0].text
    assert builds.count == 1


def add_item(demo_copy) -> None:
    ctx = load_context(demo_copy / "config.toml")
    tags = ctx.tagger.tag(NEW_TITLE, NEW_TEXT, "en")
    assert any(t.topic == TOPIC for t in tags)
    with Store(demo_copy / "newswatch.db") as store:
        item = FeedItem(url="https://dnipro.example/video-line", canonical_url="https://dnipro.example/video-line",
                        guid=None, title=NEW_TITLE, summary="", published=None)
        store.bulk_insert_items([(item, Article(title=NEW_TITLE, text=NEW_TEXT, language="en"), tags,
                                  datetime.now(UTC))], store.feeds()[0]["id"], store.feeds()[0]["source"])


def test_while_a_newer_feed_is_built_readers_get_the_previous_one_at_once(serve, demo_copy, monkeypatch):
    builds = Builds(monkeypatch, hold_build=2)
    url = serve()
    before = http_get(url).content
    add_item(demo_copy)
    newer: list = []
    rebuilding = threading.Thread(target=lambda: newer.append(http_get(url)))
    rebuilding.start()
    try:
        wait_for(lambda: builds.count == 2)
        assert http_get(url).content == before and builds.count == 2
    finally:
        builds.release.set()
        rebuilding.join(120)
    assert NEW_TITLE in newer[0].text
    assert http_get(url).content == newer[0].content and builds.count == 2


def test_the_feed_is_kept_until_its_items_change_and_shows_a_change_at_once(serve, demo_copy, monkeypatch):
    builds = Builds(monkeypatch)
    monkeypatch.setattr(web_app, "CACHE_SECONDS", 0.0)  # however old the feed, it is rebuilt only on a change
    monkeypatch.setattr(web_app, "PAST_CACHE_SECONDS", 0.0)
    url = serve()
    before = http_get(url)
    assert http_get(url).content == before.content
    assert builds.count == 1 and NEW_TITLE not in before.text

    add_item(demo_copy)
    after = http_get(url)
    assert NEW_TITLE in after.text and builds.count == 2
    assert http_get(url).content == after.content and builds.count == 2
