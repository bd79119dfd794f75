"""When to poll a feed next and when to retry an entry.

A healthy feed is polled about as often as it publishes: the mean gap between its recent items,
clamped to [min_interval, max_interval], and never sooner than its publisher allows (RSS <ttl>,
Cache-Control max-age, Retry-After). A failing feed backs off exponentially with jitter up to once
a day, and keeps being tried at that pace for ever: feeds come back. A feed that answered 410 Gone
is tried once a day too, in case the site changes its mind.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from pipeline.config import ScheduleSection
from pipeline.retry import DAY, backoff_seconds

RATE_WINDOW = timedelta(days=14)  # items older than this say nothing about today's pace
RATE_SAMPLE = 20  # the newest this many items set the pace
SUCCESS_JITTER = 0.1  # healthy feeds drift apart a little so cycles do not bunch up
STEP_TOLERANCE_SECONDS = 5.0  # a slower change of the wall clock against the monotonic one is drift, not a step


def publishing_interval(times: Iterable[datetime], now: datetime) -> float | None:
    """Seconds between items, from the feed's recent items; None when it has none at all.

    The newest RATE_SAMPLE items inside RATE_WINDOW, spread over the time from the oldest of them
    until now: a feed that went quiet stretches its own interval without any extra rule. A feed
    with items but none recent gets the whole window (and so the maximum interval).
    """
    stamps = [min(t, now) for t in times]  # a clock in the future is the publisher's, not ours
    if not stamps:
        return None
    recent = sorted(t for t in stamps if t >= now - RATE_WINDOW)[-RATE_SAMPLE:]
    if not recent:
        return RATE_WINDOW.total_seconds()
    return max((now - recent[0]).total_seconds(), 1.0) / len(recent)


def next_poll(
    now: datetime,
    schedule: ScheduleSection,
    *,
    configured_seconds: int | None,
    failures: int = 0,
    ttl_seconds: float | None = None,
    retry_after: float | None = None,
    publish_interval: float | None = None,
    gone: bool = False,
) -> datetime:
    """The next poll time. A configured interval (the source file's `interval`) beats the measured
    publishing rate; the publisher's own limits (TTL, max-age, Retry-After) beat both, up to a day."""
    low, high = schedule.min_interval_minutes * 60, schedule.max_interval_minutes * 60
    if gone:
        wait = backoff_seconds(64, DAY)
    elif failures:
        wait = backoff_seconds(failures, max(low, 60.0))
    else:
        base = configured_seconds or publish_interval or schedule.poll_interval_minutes * 60
        wait = min(max(base * random.uniform(1 - SUCCESS_JITTER, 1), low), high)
        if ttl_seconds:
            wait = max(wait, min(ttl_seconds, DAY))
    if retry_after:
        wait = max(wait, min(retry_after, DAY))
    return now + timedelta(seconds=wait)


def entry_retry_at(now: datetime, attempts: int, max_attempts: int = 6) -> datetime | None:
    """Page fetches are retried over roughly a day; after that the feed's own text has to do."""
    if attempts + 1 >= max_attempts:
        return None
    return now + timedelta(seconds=backoff_seconds(attempts + 1, 300.0, cap=6 * 3600))


class ClockWatch:
    """Notices the wall clock stepping (an NTP correction, a VM resumed, an operator's `date -s`).

    The gap between the wall clock and the monotonic one only drifts slowly (NTP slews by at most
    0.5 ms a second); when it changes by more than `tolerance` between two looks, the wall clock
    stepped by that much. Pacing never depends on the wall clock, but times stored in the store
    (next polls, retries) do, and a step back would otherwise hold them for as long as the step.
    """

    def __init__(self, wall: Callable[[], datetime], monotonic: Callable[[], float],
                 tolerance: float = STEP_TOLERANCE_SECONDS):
        self.wall, self.monotonic, self.tolerance = wall, monotonic, tolerance
        self._offset: float | None = None

    def step(self) -> float:
        """Seconds the wall clock stepped since the last look (negative: back); 0.0 when it did not."""
        offset = self.wall().timestamp() - self.monotonic()
        previous, self._offset = self._offset, offset
        if previous is None or abs(offset - previous) <= self.tolerance:
            return 0.0
        return offset - previous
