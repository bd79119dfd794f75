"""A wall-clock step costs at most one tick (issue 24, item 1).

Once, the clock stepping back by X held every job for X (90 s back: 95 s without a cycle), and a
clock a day ahead, then corrected, left every feed waiting a day ("polled 0 feeds"). Jobs are now
paced by the monotonic clock; the wall clock only says what time it is. These tests inject the
wall clock (the service takes it as a parameter; libfaketime would move the monotonic clock too
unless told not to, and is not installed here) and run the real service threads, store and HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config_helpers import write_config
from httpserver import LocalServer, Response
from waiting import wait_for

from pipeline.context import load_context
from pipeline.models import FeedConfig, FeedItem, Source
from pipeline.service import Service
from pipeline.service.schedule import ClockWatch
from pipeline.store import parse_iso

RSS = {"Content-Type": "application/rss+xml"}
TOPIC = "us-china-milcomm"


class Wall:
    """A wall clock a test can step: the real time plus an offset."""

    def __init__(self, offset: timedelta = timedelta(0)):
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_the_clock_watch_sees_steps_either_way_and_not_drift():
    wall, mono = [datetime(2026, 1, 1, tzinfo=UTC)], [100.0]
    watch = ClockWatch(lambda: wall[0], lambda: mono[0])
    assert watch.step() == 0.0  # the first look only sets the reference

    def tick(seconds: float, step: float = 0.0) -> float:
        mono[0] += seconds
        wall[0] += timedelta(seconds=seconds + step)
        return watch.step()

    assert tick(60) == 0.0
    assert tick(60, step=1.0) == 0.0  # NTP slewing over a minute: drift, not a step
    assert tick(5, step=-90) == -90.0
    assert tick(60, step=86_400) == 86_400.0
    assert tick(60, step=-86_400) == -86_400.0
    assert tick(60) == 0.0


def site_with_feed(tmp_path, server: LocalServer) -> None:
    server.route("/feed.xml", Response(body="<rss version='2.0'><channel><title>t</title></channel></rss>",
                                       headers=RSS))
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "wire.toml").write_text(f'name = "wire"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
                                       f'[[feeds]]\nurl = "{server.url("/feed.xml")}"\n', encoding="utf-8")


def test_a_clock_a_day_ahead_then_corrected_costs_one_tick_not_a_day(tmp_path):
    with LocalServer() as server:
        site_with_feed(tmp_path, server)
        ctx = load_context(write_config(tmp_path))
        ahead = datetime.now(UTC) + timedelta(days=1)
        with ctx.open_store() as store:
            # What a poll under the clock a day ahead left behind: the next poll due a second after
            # that clock's "now", so a day away by the true clock.
            store.update_feed(store.feeds()[0]["id"], last_success_at=ahead, next_poll_at=ahead + timedelta(seconds=1))
        wall = Wall(timedelta(days=1))
        service = Service(ctx, tick_seconds=0.2, role="poll", wall=wall)
        service.start()
        try:
            with ctx.open_store() as store:
                wait_for(lambda: store.recent_cycles(1))  # a tick under the wrong clock: nothing due
            assert server.hits("/feed.xml") == 0
            wall.offset = timedelta(0)  # NTP corrects the clock
            wait_for(lambda: server.hits("/feed.xml") >= 1)
        finally:
            assert service.close() == []
        with ctx.open_store() as store:
            (feed,) = store.feeds()
            assert parse_iso(feed["next_poll_at"]) < datetime.now(UTC) + timedelta(hours=7)  # planned anew
            events = store.events_since(datetime.now(UTC) - timedelta(hours=1), ["clock_step"])
        assert len(events) == 1 and "stepped -86400 s" in events[0]["message"]


def test_the_digest_still_fires_at_its_local_time_after_the_clock_steps_back(tmp_path):
    config = write_config(tmp_path, '[digest]\ntime = "07:00"\ntimezone = "Asia/Shanghai"\nformats = ["markdown"]\n'
                                    'empty_day = "send"\n')
    (tmp_path / "sources").mkdir()
    ctx = load_context(config)
    now = datetime.now(UTC)
    local = now.astimezone(ctx.config.tz)
    due = datetime.combine(local.date(), datetime.min.time().replace(hour=7), tzinfo=ctx.config.tz)
    if due <= local:
        due += timedelta(days=1)
    day = (due - timedelta(days=1)).date().isoformat()
    with ctx.open_store() as store:
        _watched_since(store, due - timedelta(days=3))  # so the digest's day is owed
    wall = Wall(due - now - timedelta(seconds=30))  # 30 s before the digest is due
    service = Service(ctx, tick_seconds=0.2, role="digest", wall=wall)
    service.start()
    try:
        with ctx.open_store() as store:
            wall.offset -= timedelta(seconds=90)  # the clock steps back 90 s
            assert store.digest_record(TOPIC, day, "files") is None  # not due yet by the wall clock
            wall.offset += timedelta(seconds=150)  # and is corrected, now past the digest's time
            wait_for(lambda: (store.digest_record(TOPIC, day, "files") or {}).get("status") == "sent")
    finally:
        assert service.close() == []


def _watched_since(store, moment: datetime) -> None:
    """One entry first seen at `moment`: digests are owed from then on."""
    store.sync_sources([Source(name="wire", homepage="https://wire.example/", language="en",
                               feeds=(FeedConfig(url="https://wire.example/feed.xml"),))])
    feed_id = store.feeds()[0]["id"]
    url = "https://wire.example/a"
    store.add_items(feed_id, "wire", [FeedItem(url=url, canonical_url=url, guid=url, title="a", summary="",
                                               published=None)])
    with store.transaction():
        store.db.execute("UPDATE entries SET discovered_at = ?", [moment.astimezone(UTC).isoformat(timespec="seconds")])
