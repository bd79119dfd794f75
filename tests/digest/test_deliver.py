"""File delivery and the schedule: atomic writes, catch-up, DST, empty days, weekly, the claim."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import pytest
from digest_helpers import DRILLS, HOTLINE, HOTLINE_BOILERPLATE, TOPIC, Newsroom, utc, write_config

from pipeline.digest import deliver
from pipeline.digest.deliver import atomic_write, deliver_due, make_digest
from pipeline.store import Store, parse_iso

DAY = date(2024, 3, 12)
DUE = utc(2024, 3, 13, 5)  # 07:00 in Kyiv the next morning
FILES = {"digest.md", "digest.html", "digest.txt", "digest.json", "feed.xml"}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "x.db") as store:
        yield store


@pytest.fixture
def room(store):
    newsroom = Newsroom(store)
    newsroom.sources("wiredaily", "harbourtimes", "citydesk")
    return newsroom


def hotline_day(room, day_start):
    """The syndicated story, seen in the morning of the day that starts at `day_start` (UTC)."""
    room.add("wiredaily", f"hotline-{day_start:%m%d}", "US and China restore military hotline", HOTLINE,
             seen=day_start + timedelta(hours=3))
    room.add("harbourtimes", f"hotline-{day_start:%m%d}", "Military hotline back on", HOTLINE_BOILERPLATE,
             seen=day_start + timedelta(hours=4))


def test_due_digest_writes_every_format_in_a_folder_per_day(room, tmp_path):
    hotline_day(room, utc(2024, 3, 11, 22))  # Kyiv midnight starting 12 March
    config = write_config(tmp_path)
    assert deliver_due(room.store, config, DUE - timedelta(minutes=1)) == []  # 06:59: not yet
    outcomes = deliver_due(room.store, config, DUE)
    assert [(o.day, o.channel, o.status) for o in outcomes] == [(DAY, "files", "sent")]
    folder = tmp_path / "digests" / TOPIC / "2024-03-12"
    assert {p.name for p in folder.iterdir()} == FILES  # and no temp files left behind
    stories = json.loads((folder / "digest.json").read_text())["entries"]
    assert len(stories) == 1 and stories[0]["sources"] == ["wiredaily", "harbourtimes"]
    assert "### 1. US and China restore military hotline" in (folder / "digest.md").read_text()
    rec = room.store.digest_record(TOPIC, "2024-03-12", "files")
    assert (rec["status"], rec["location"], rec["items"]) == ("sent", str(folder), 1)
    assert deliver_due(room.store, config, DUE + timedelta(minutes=5)) == []


def test_catch_up_after_downtime_delivers_only_the_last_catch_up_days(room, tmp_path):
    for n in range(11):
        hotline_day(room, utc(2024, 3, 1, 22) + timedelta(days=n))  # 2 .. 12 March, Kyiv
    config = write_config(tmp_path, digest={"catch_up_days": 2})
    outcomes = deliver_due(room.store, config, DUE)
    assert [o.day for o in outcomes] == [date(2024, 3, 11), date(2024, 3, 12)]
    days = {p.name for p in (tmp_path / "digests" / TOPIC).iterdir() if p.is_dir()}
    assert days == {"2024-03-11", "2024-03-12"}


def test_fresh_install_does_not_send_digests_for_days_before_it_ran(room, tmp_path):
    room.add("wiredaily", "today", "Hotline", HOTLINE, seen=DUE - timedelta(hours=1))  # first ever entry
    config = write_config(tmp_path, digest={"empty_day": "send"})
    assert deliver_due(room.store, config, DUE) == []


def test_due_time_follows_local_wall_clock_across_dst(room, tmp_path):
    config = write_config(tmp_path, digest={"timezone": "America/New_York", "time": "07:00"})
    room.add("wiredaily", "hotline", "Hotline", HOTLINE, seen=utc(2024, 3, 9, 15))  # Saturday 9 March, EST
    # Sunday 10 March: clocks went forward at 02:00, so 07:00 local is 11:00 UTC, not 12:00.
    assert deliver_due(room.store, config, utc(2024, 3, 10, 10, 59)) == []
    outcomes = deliver_due(room.store, config, utc(2024, 3, 10, 11, 0))
    assert [(o.day, o.status) for o in outcomes] == [(date(2024, 3, 9), "sent")]


def test_empty_day_skipped(room, tmp_path):
    room.add("citydesk", "old", "Drills", DRILLS, seen=utc(2024, 3, 10, 9), terms=("navy",))  # watched since
    config = write_config(tmp_path, digest={"empty_day": "skip", "catch_up_days": 2})
    outcomes = deliver_due(room.store, config, DUE)
    assert [(o.day, o.status) for o in outcomes] == [(date(2024, 3, 11), "skipped"), (DAY, "skipped")]
    assert not (tmp_path / "digests").exists()
    assert room.store.digest_record(TOPIC, "2024-03-12", "files")["status"] == "skipped"
    assert deliver_due(room.store, config, DUE + timedelta(minutes=5)) == []


def test_empty_day_sent_as_nothing_on_that_day(room, tmp_path):
    room.add("citydesk", "old", "Drills", DRILLS, seen=utc(2024, 3, 10, 9), terms=("navy",))
    config = write_config(tmp_path, digest={"empty_day": "send", "catch_up_days": 2})
    outcomes = deliver_due(room.store, config, DUE)
    assert [o.status for o in outcomes] == ["sent", "sent"]
    text = (tmp_path / "digests" / TOPIC / "2024-03-12" / "digest.md").read_text()
    # Sent the next morning: a past day's digest never says "today".
    assert "Nothing on this topic for Tuesday 12 March 2024" in text
    assert "today" not in text.casefold()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(room, tmp_path, monkeypatch):
    hotline_day(room, utc(2024, 3, 11, 22))
    config = write_config(tmp_path)
    with_old = make_digest(room.store, config, DAY, now=DUE)
    folder = tmp_path / "digests" / TOPIC / "2024-03-12"
    before = (folder / "digest.md").read_text()
    assert with_old[0].status == "sent"
    room.store.save_digest_record(TOPIC, "2024-03-12", "files", status=None)  # owed again

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(deliver.os, "replace", disk_full)
    room.add("citydesk", "drills", "Drills", DRILLS, seen=utc(2024, 3, 12, 9), terms=("navy",))
    outcomes = deliver_due(room.store, config, DUE + timedelta(hours=1))
    assert [o.status for o in outcomes] == ["failed"]
    assert (folder / "digest.md").read_text() == before
    assert {p.name for p in folder.iterdir()} == FILES
    rec = room.store.digest_record(TOPIC, "2024-03-12", "files")
    assert rec["status"] == "failed" and "No space" in rec["last_error"]

    monkeypatch.undo()
    retry = deliver_due(room.store, config, parse_iso(rec["next_attempt_at"]))
    assert [o.status for o in retry] == ["sent"]
    assert "Drills" in (folder / "digest.md").read_text()


def test_atomic_write_replaces_whole_files(tmp_path):
    path = tmp_path / "digest.md"
    atomic_write(path, "old\n")
    atomic_write(path, "new\n")
    assert path.read_text() == "new\n"
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["digest.md"]


def test_weekly_digest(room, tmp_path):
    for n in range(7):
        hotline_day(room, utc(2024, 3, 3, 22) + timedelta(days=n))  # Mon 4 .. Sun 10 March
    config = write_config(tmp_path, digest={"weekly": True, "weekly_day": "mon"})
    outcomes = deliver_due(room.store, config, utc(2024, 3, 11, 5))  # Monday 07:00 Kyiv
    weekly = [o for o in outcomes if o.kind == "weekly"]
    assert [(o.day, o.status, o.items) for o in weekly] == [(date(2024, 3, 4), "sent", 1)]
    md = (tmp_path / "digests" / TOPIC / "week-2024-03-04" / "digest.md").read_text()
    assert md.startswith("# US–China military communication — weekly digest for week of 4 March 2024 to 10 March 2024")
    assert "14 tagged items" in md


def test_claim_lets_only_one_deliverer_send(store):
    assert store.claim_digest(TOPIC, "2024-03-12", "email", "daily", None, status="sending", attempts=1)
    assert not store.claim_digest(TOPIC, "2024-03-12", "email", "daily", None, status="sending", attempts=1)
    seen = store.digest_record(TOPIC, "2024-03-12", "email")
    assert store.claim_digest(TOPIC, "2024-03-12", "email", "daily", seen, status="resending", attempts=2)
    assert not store.claim_digest(TOPIC, "2024-03-12", "email", "daily", seen, status="resending", attempts=2)
    assert store.digest_record(TOPIC, "2024-03-12", "email")["attempts"] == 2


def test_rolling_feed_at_the_topic_folder_follows_the_last_week(room, tmp_path):
    config = write_config(tmp_path)
    hotline_day(room, utc(2024, 3, 1, 22))  # 2 March: more than a week before the 12th
    hotline_day(room, utc(2024, 3, 10, 22))  # 11 March
    hotline_day(room, utc(2024, 3, 11, 22))  # 12 March
    deliver_due(room.store, config, DUE)
    feed = (tmp_path / "digests" / TOPIC / "feed.xml").read_text()
    # the same wire story each day: one entry listing the copies of the last seven days only
    assert feed.count("<entry>") == 1
    assert "hotline-0310" in feed and "hotline-0311" in feed and "hotline-0301" not in feed
    day_feed = (tmp_path / "digests" / TOPIC / "2024-03-12" / "feed.xml").read_text()
    assert "hotline-0311" in day_feed and "hotline-0310" not in day_feed
