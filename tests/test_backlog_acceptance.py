"""Issue 18's acceptance: a local feed of 200 items over 30 days, added with and without --only-new,
polled and digested through the `newswatch` commands against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
from httpserver import LocalServer, Response

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.digest.build import digest_items
from pipeline.store import Store

TOPIC = "us-china-milcomm"
STEP = timedelta(days=30) / 200  # 3.6 hours between items
# Made-up filler, so that no two items read as one story to the clustering.
WORDS = ("harbor", "ledger", "quarry", "willow", "ember", "falcon", "meadow", "tundra", "cobalt", "saffron",
         "lantern", "orchard", "basalt", "glacier", "thistle", "pewter", "marble", "juniper", "sorrel",
         "walnut", "canyon", "drizzle", "parsley", "beacon", "kestrel", "mosaic", "nutmeg", "pylon",
         "rampart", "solstice", "tinsel", "umber", "velvet", "yarrow", "zephyr", "alder", "bramble",
         "cinder", "dune", "fennel", "garnet", "hollow", "iris", "jasper", "kelp", "lilac", "mantle",
         "nickel", "oxbow", "pebble", "quill", "rivet", "shale")


def story(n: int, published: datetime) -> str:
    rng = random.Random(n)
    filler = " ".join(rng.choice(WORDS) for _ in range(60))
    text = (f"Defence officials from the United States and China agreed to restore a military hotline, "
            f"report {n} said. {filler.capitalize()}.")
    # No link: the item is stored from the feed's own text, so the test fetches no article pages.
    return (f"<item><guid isPermaLink=\"false\">item-{n}</guid><title>Hotline report {n}</title>"
            f"<description>{escape(text)}</description><pubDate>{format_datetime(published)}</pubDate></item>")


class Outlet:
    """A homepage that names its feed, and the feed, whose items the test adds to."""

    def __init__(self, server: LocalServer):
        self.server, self.items = server, []
        server.route("/", Response(body=b'<html><head><title>Acceptance Wire</title><link rel="alternate" '
                                        b'type="application/rss+xml" href="/feed.xml"></head><body></body></html>',
                                   headers={"Content-Type": "text/html"}))
        server.route("/feed.xml", lambda request: Response(
            body=("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Acceptance Wire</title>"
                  f"<link>{server.base}/</link>{''.join(self.items)}</channel></rss>").encode(),
            headers={"Content-Type": "application/rss+xml"}))


def setup(tmp_path, server: LocalServer, *, only_new: bool, max_age_days: int = 2) -> str:
    (tmp_path / "sources").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\npath = "n.db"\n[sources]\ndir = "sources"\n'
        "[network]\nallow_private_addresses = true\nmin_host_delay = 0.0\n"
        f'[digest]\noutput_dir = "digests"\ntimezone = "UTC"\nformats = ["json", "markdown"]\n'
        f"per_source_cap = 50\nmax_age_days = {max_age_days}\n", encoding="utf-8")
    argv = ["sources", "add", server.url("/"), "--name", "Acceptance Wire", "--config", str(config)]
    assert main(argv + (["--only-new"] if only_new else [])) == 0
    return str(config)


def poll(capsys, config: str) -> str:
    capsys.readouterr()
    assert main(["poll", "-q", "--config", config]) == 0
    return capsys.readouterr().out


def make_due(config: str) -> None:
    with Store(load_config(config).db_path) as store:
        for feed in store.feeds():
            store.update_feed(feed["id"], next_poll_at=datetime.now(UTC) - timedelta(minutes=1))


@pytest.fixture
def outlet():
    with LocalServer() as server:
        yield Outlet(server)


def test_only_new_keeps_a_new_feeds_200_items_out_of_the_digest_and_lets_the_next_5_in(
        outlet, tmp_path, capsys):
    now = datetime.now(UTC)
    outlet.items = [story(n, now - n * STEP - timedelta(minutes=1)) for n in range(200)]
    config = setup(tmp_path, outlet.server, only_new=True)
    out = poll(capsys, config)
    assert "Acceptance Wire: 200 new items, 200 backlog" in out
    outlet.items = [story(1000 + n, datetime.now(UTC) - timedelta(seconds=30)) for n in range(5)] + outlet.items
    make_due(config)
    out = poll(capsys, config)
    assert "Acceptance Wire: 5 new items" in out and "backlog" not in out
    capsys.readouterr()
    assert main(["digest", "--date", "today", "--config", config]) == 0
    folder = next((tmp_path / "digests" / TOPIC).iterdir())
    entries = json.loads((folder / "digest.json").read_text())["entries"]
    assert sorted(e["headline"] for e in entries) == [f"Hotline report {1000 + n}" for n in range(5)]
    assert main(["status", "--config", config]) == 0
    assert "Acceptance Wire: 205 items, 200 backlog" in capsys.readouterr().out
    # The 200 are stored and searchable by the days they were published.
    with Store(load_config(config).db_path) as store:
        day = (now - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
        hits = store.search_items("hotline", start=day, end=day + timedelta(days=1), order="newest", limit=50)
        expected = {n for n in range(200) if day <= now - n * STEP - timedelta(minutes=1) < day + timedelta(days=1)}
        assert {h["title"] for h in hits} == {f"Hotline report {n}" for n in expected} and expected


def test_without_only_new_only_the_last_two_days_reach_a_digest(outlet, tmp_path, capsys):
    now = datetime.now(UTC)
    # 3.6 hours apart: none is within an hour of the two-day line, so the poll's timing cannot matter.
    outlet.items = [story(n, now - n * STEP - timedelta(minutes=1)) for n in range(200)]
    config = setup(tmp_path, outlet.server, only_new=False, max_age_days=2)
    out = poll(capsys, config)
    assert "Acceptance Wire: 200 new items, 186 backlog" in out
    settings = load_config(config)
    today = datetime.now(settings.tz).date()
    with Store(settings.db_path) as store:
        digested = [i.title for day in range(-3, 2)
                    for i in digest_items(store, settings, TOPIC, today + timedelta(days=day))]
    assert sorted(digested) == sorted(f"Hotline report {n}" for n in range(14))  # 13 × 3.6 h < 48 h < 14 × 3.6 h


def test_digest_date_takes_words_and_refuses_what_is_not_a_day(outlet, tmp_path, capsys):
    config = setup(tmp_path, outlet.server, only_new=False)
    for day in ("yesterday", "today", "3 days ago", "2024-02-29"):
        assert main(["digest", "--date", day, "--config", config]) == 0, day
    for bad in ("2026-02-30", "last tuesday"):
        capsys.readouterr()
        assert main(["digest", "--date", bad, "--config", config]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not a day" in err and "Traceback" not in err
