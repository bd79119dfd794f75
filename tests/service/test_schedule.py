"""The per-feed schedule: publishing pace, bounds, publisher limits, backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import ScheduleSection
from pipeline.retry import DAY, backoff_seconds
from pipeline.service.schedule import next_poll, publishing_interval

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)
S = ScheduleSection()  # 5 min - 6 h, default 30 min


def wait(**kwargs: object) -> float:
    return (next_poll(NOW, S, **{"configured_seconds": None, **kwargs}) - NOW).total_seconds()


def test_publishing_interval_from_recent_items():
    busy = [NOW - timedelta(minutes=10 * i) for i in range(20)]  # one item every 10 minutes
    assert publishing_interval(busy, NOW) == pytest.approx(190 * 60 / 20)
    quiet = [NOW - timedelta(days=30)]
    assert publishing_interval(quiet, NOW) == timedelta(days=14).total_seconds()
    assert publishing_interval([], NOW) is None
    assert publishing_interval([NOW + timedelta(days=2)], NOW) == 1.0  # future dates are clamped to now


def test_interval_follows_the_pace_within_bounds():
    assert 0.9 * 3600 <= wait(publish_interval=3600) <= 3600
    assert wait(publish_interval=10) == 5 * 60  # busier than the minimum: clamped
    assert wait(publish_interval=3 * DAY) == 6 * 3600  # quieter than the maximum: clamped
    assert 0.9 * 1800 <= wait() <= 1800  # nothing known: the default


def test_configured_interval_beats_the_pace():
    assert 0.9 * 600 <= wait(configured_seconds=600, publish_interval=4 * 3600) <= 600


def test_publisher_limits_win():
    assert wait(publish_interval=300, ttl_seconds=7200) == 7200
    assert wait(publish_interval=300, retry_after=4000) == 4000
    assert wait(ttl_seconds=10 * DAY) == DAY  # an absurd TTL still lets us look once a day


def test_failures_back_off_up_to_a_day_and_never_stop():
    waits = [wait(failures=n) for n in range(1, 20)]
    assert 150 <= waits[0] <= 300
    assert all(w <= DAY for w in waits) and waits[-1] >= DAY / 2
    assert backoff_seconds(1000, 300) <= DAY


def test_gone_feeds_are_still_tried_daily():
    assert DAY / 2 <= wait(gone=True) <= DAY
