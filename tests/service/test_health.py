"""`newswatch health` as a monitor runs it: a real process, a real database, its exit code and reasons."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config_helpers import write_config

from pipeline.models import FeedConfig, FeedItem, Source
from pipeline.store import Store, iso

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "us-china-milcomm"


def health(config: Path, max_poll_age: int = 60) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "pipeline", "health", "--config", str(config),
                           "--max-poll-age", str(max_poll_age)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    return done.returncode, done.stdout + done.stderr


def setup(tmp_path: Path, *, polled_ago: timedelta | None, seen_ago: timedelta | None,
          digest_ago: timedelta = timedelta(hours=2)) -> tuple[Path, str]:
    """A store with one feed last polled `polled_ago` ago and one entry first seen `seen_ago` ago.

    The digest time is set `digest_ago` before now (UTC), so whether the newest due digest is past
    its grace period does not depend on the hour the test runs at. Returns the config and that digest's day.
    """
    now = datetime.now(UTC)
    due = now - digest_ago
    config = write_config(tmp_path, f'[digest]\ntime = "{due:%H:%M}"\ntimezone = "UTC"\nformats = ["markdown"]\n')
    day = (due.date() - timedelta(days=1)).isoformat()
    with Store(tmp_path / "newswatch.db") as store:
        store.sync_sources([Source(name="wire", homepage="https://wire.example/", language="en",
                                   feeds=(FeedConfig(url="https://wire.example/feed.xml"),))])
        feed_id = store.feeds()[0]["id"]
        if polled_ago is not None:
            store.update_feed(feed_id, health="ok", last_attempt_at=now - polled_ago, last_success_at=now - polled_ago)
        if seen_ago is not None:
            url = "https://wire.example/a"
            store.add_items(feed_id, "wire", [FeedItem(url=url, canonical_url=url, guid=url, title="a", summary="",
                                                       published=None)])
            with store.transaction():
                store.db.execute("UPDATE entries SET discovered_at = ?", [iso(now - seen_ago)])
    return config, day


def mark(config: Path, day: str, status: str) -> None:
    with Store(config.parent / "newswatch.db") as store:
        store.save_digest_record(TOPIC, day, "files", status=status)


def test_healthy_when_polled_recently_and_the_digest_went_out(tmp_path):
    config, day = setup(tmp_path, polled_ago=timedelta(minutes=5), seen_ago=timedelta(days=3))
    mark(config, day, "sent")
    code, out = health(config)
    assert (code, out.strip()) == (0, "healthy")


def test_unhealthy_when_no_poll_succeeded_within_max_poll_age(tmp_path):
    config, day = setup(tmp_path, polled_ago=timedelta(minutes=90), seen_ago=timedelta(days=3))
    mark(config, day, "sent")
    code, out = health(config, max_poll_age=60)
    assert code == 1
    assert "unhealthy: no feed polled successfully in 1:00:00" in out
    assert health(config, max_poll_age=120)[0] == 0


def test_unhealthy_when_no_poll_ever_succeeded(tmp_path):
    config, _ = setup(tmp_path, polled_ago=None, seen_ago=None)
    code, out = health(config)
    assert code == 1 and "(last success: never)" in out


def test_unhealthy_when_the_digest_is_late_or_failed(tmp_path):
    config, day = setup(tmp_path, polled_ago=timedelta(minutes=1), seen_ago=timedelta(days=3))
    code, out = health(config)
    assert code == 1 and f"digest {TOPIC} {day} via files is late (not attempted)" in out
    mark(config, day, "failed")
    code, out = health(config)
    assert code == 1 and f"digest {TOPIC} {day} via files is late (failed)" in out
    mark(config, day, "skipped")  # an empty day with empty_day = "skip" is delivered too
    assert health(config)[0] == 0


def test_a_digest_inside_its_grace_period_is_not_late_yet(tmp_path):
    config, _ = setup(tmp_path, polled_ago=timedelta(minutes=1), seen_ago=timedelta(days=3),
                       digest_ago=timedelta(minutes=5))
    code, out = health(config)
    assert code == 0, out


def test_a_fresh_install_owes_no_digest_for_days_before_it_watched(tmp_path):
    # Delivery never builds a digest for a day that ended before the first entry was seen, so health
    # must not call it late either: a new install would be "unhealthy" until the next morning.
    config, _ = setup(tmp_path, polled_ago=timedelta(minutes=1), seen_ago=timedelta(minutes=10))
    code, out = health(config)
    assert code == 0, out


def test_unhealthy_without_a_database(tmp_path):
    config = write_config(tmp_path)
    code, out = health(config)
    assert code == 1 and "no database" in out
