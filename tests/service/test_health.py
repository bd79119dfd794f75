"""`newswatch health` as a monitor runs it: a real process, a real database, its exit code and reasons."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from config_helpers import write_config
from waiting import COMMAND_DEADLINE

from pipeline.models import FeedConfig, FeedItem, Source
from pipeline.store import Store, iso

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "us-china-milcomm"


def health(config: Path, max_poll_age: int = 60) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "pipeline", "health", "--config", str(config),
                           "--max-poll-age", str(max_poll_age)],
                          capture_output=True, text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)
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


def mark(config: Path, day: str, status: str, **fields: object) -> None:
    """The day's digest record; the days before it (watched since the entry seen days ago) went out on time."""
    with Store(config.parent / "newswatch.db") as store:
        for back in range(1, 5):
            earlier = (date.fromisoformat(day) - timedelta(days=back)).isoformat()
            store.save_digest_record(TOPIC, earlier, "files", status="sent")
        store.save_digest_record(TOPIC, day, "files", status=status, **fields)


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
    mark(config, day, "failed", next_attempt_at=datetime.now(UTC) + timedelta(hours=1))  # being retried
    code, out = health(config)
    assert code == 1 and f"digest {TOPIC} {day} via files is late (failed)" in out
    mark(config, day, "failed", next_attempt_at=None)  # given up: a person has to act
    code, out = health(config)
    assert code == 1 and f"digest {TOPIC} {day} via files was given up" in out
    mark(config, day, "skipped")  # an empty day with empty_day = "skip" is delivered too
    assert health(config)[0] == 0


def test_a_digest_inside_its_grace_period_is_not_late_yet(tmp_path):
    config, day = setup(tmp_path, polled_ago=timedelta(minutes=1), seen_ago=timedelta(days=3),
                         digest_ago=timedelta(minutes=5))
    mark(config, (date.fromisoformat(day) - timedelta(days=1)).isoformat(), "sent")  # the days before went out
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


def age_queue(config: Path, due_ago: timedelta, attempted_ago: timedelta | None) -> None:
    """Make the entry due `due_ago` ago, and its last attempt (or any entry's) `attempted_ago` ago."""
    now = datetime.now(UTC)
    with Store(config.parent / "newswatch.db") as store, store.transaction():
        store.db.execute("UPDATE entries SET next_attempt_at = ?, last_attempt_at = ?",
                         [iso(now - due_ago), iso(now - attempted_ago) if attempted_ago else None])


def test_unhealthy_when_due_work_waits_longer_than_max_queue_age_with_nothing_processed(tmp_path):
    config, day = setup(tmp_path, polled_ago=timedelta(minutes=1), seen_ago=timedelta(days=3))
    mark(config, day, "sent")
    config.write_text(config.read_text() + "\n[health]\nmax_queue_age_minutes = 45\n")
    age_queue(config, due_ago=timedelta(minutes=30), attempted_ago=None)
    assert health(config) == (0, "healthy\n")  # due, but not for long yet
    age_queue(config, due_ago=timedelta(minutes=50), attempted_ago=None)
    code, out = health(config)
    assert code == 1
    assert "unhealthy: 1 entry due, the oldest since" in out and "none processed in 0:45:00 (last: never)" in out
    age_queue(config, due_ago=timedelta(hours=3), attempted_ago=timedelta(minutes=2))
    assert health(config)[0] == 0, "a backlog that is being worked is healthy"


def test_unhealthy_when_the_last_cycles_failed(tmp_path):
    config, day = setup(tmp_path, polled_ago=timedelta(minutes=1), seen_ago=timedelta(days=3))
    mark(config, day, "sent")
    started = datetime.now(UTC) - timedelta(minutes=5)
    with Store(tmp_path / "newswatch.db") as store:
        store.record_cycle(started, "ok")
        for _ in range(2):
            store.record_cycle(started, "failed", error="OperationalError: disk I/O error")
    assert health(config)[0] == 0, "two failures after a good cycle are not yet a pattern"
    with Store(tmp_path / "newswatch.db") as store:
        store.record_cycle(started, "failed", error="OperationalError: disk I/O error")
    code, out = health(config)
    assert code == 1 and "unhealthy: the last 3 cycles failed" in out and "OperationalError: disk I/O error" in out
    with Store(tmp_path / "newswatch.db") as store:
        store.record_cycle(started, "ok")
    assert health(config)[0] == 0


def test_max_poll_age_comes_from_the_config_unless_the_command_line_says_otherwise(tmp_path):
    config, day = setup(tmp_path, polled_ago=timedelta(minutes=90), seen_ago=timedelta(days=3))
    mark(config, day, "sent")
    config.write_text(config.read_text() + "\n[health]\nmax_poll_age_minutes = 60\n")
    done = subprocess.run([sys.executable, "-m", "pipeline", "health", "--config", str(config)],
                          capture_output=True, text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)
    assert done.returncode == 1 and "no feed polled successfully in 1:00:00" in done.stdout
    assert health(config, max_poll_age=120)[0] == 0


def test_a_bad_health_setting_is_one_line_naming_file_line_and_key(tmp_path):
    config = write_config(tmp_path, "[health]\nmax_queue_age_minutes = 0\n")
    done = subprocess.run([sys.executable, "-m", "pipeline", "health", "--config", str(config)],
                          capture_output=True, text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)
    line = config.read_text().splitlines().index("max_queue_age_minutes = 0") + 1
    assert done.returncode == 2
    assert done.stderr == (f"newswatch: configuration error: {config}:{line}: health.max_queue_age_minutes: "
                           "input should be greater than 0, got 0\n")
