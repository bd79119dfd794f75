"""When to poll a feed next and when to retry an entry."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .config import ScheduleSection

DAY = 86_400.0


def backoff_seconds(failures: int, base: float, cap: float = DAY) -> float:
    """Exponential backoff with full jitter; never gives up, but waits at most `cap` (a day)."""
    ceiling = min(cap, base * 2 ** max(0, failures - 1))
    return random.uniform(ceiling / 2, ceiling)


def next_poll(
    now: datetime,
    schedule: ScheduleSection,
    *,
    configured_seconds: int | None,
    failures: int = 0,
    ttl_seconds: int | None = None,
    retry_after: float | None = None,
) -> datetime:
    base = configured_seconds or schedule.poll_interval_minutes * 60
    low, high = schedule.min_interval_minutes * 60, schedule.max_interval_minutes * 60
    if failures:
        wait = backoff_seconds(failures, max(low, 60.0))
    else:
        wait = min(max(base, low), high)
        if ttl_seconds:
            wait = max(wait, ttl_seconds)
    if retry_after:
        wait = max(wait, retry_after)
    return now + timedelta(seconds=wait)


def entry_retry_at(now: datetime, attempts: int, max_attempts: int = 6) -> datetime | None:
    """Page fetches are retried over roughly a day; after that the feed's own text has to do."""
    if attempts + 1 >= max_attempts:
        return None
    return now + timedelta(seconds=backoff_seconds(attempts + 1, 300.0, cap=6 * 3600))
