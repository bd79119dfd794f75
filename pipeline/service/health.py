"""`newswatch health`: a yes/no answer for monitors and systemd, with the reasons.

Unhealthy when the service does not do its work, whatever the reason: no feed polled successfully
for `max_poll_age`, the last cycles all failed, due entries waiting for `max_queue_age` with none
attempted meanwhile, or a digest late. A backlog that is being worked is healthy, however long it
is; a queue nothing touches is not, however short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.config import Config
from pipeline.digest import due_at, due_days, window
from pipeline.store import Store, parse_iso

DIGEST_GRACE = timedelta(minutes=30)
DELIVERED = ("sent", "skipped")
FAILED_CYCLES = 3  # this many failed cycles in a row (or every cycle so far, if fewer) is unhealthy
CHECKS = ("poll", "cycles", "queue", "digest", "store")


@dataclass(frozen=True)
class Problem:
    check: str  # one of CHECKS: what the metrics label it with
    reason: str

    def __str__(self) -> str:
        return self.reason


def check_health(store: Store, config: Config, now: datetime, max_poll_age: timedelta | None = None) -> list[Problem]:
    """Problems that need a person; an empty list means healthy. `max_poll_age` overrides the config's."""
    max_poll_age = max_poll_age or timedelta(minutes=config.health.max_poll_age_minutes)
    return [*_store(store), *_polls(store, now, max_poll_age), *_cycles(store),
            *_queue(store, now, timedelta(minutes=config.health.max_queue_age_minutes)),
            *_digests(store, config, now)]


def _store(store: Store) -> list[Problem]:
    # A read-only store fails every cycle without recording it: the cycles check alone stays green.
    problem = store.write_problem()
    return [Problem("store", f"the store cannot be written, so the service is paused: {problem}")] if problem else []


def _polls(store: Store, now: datetime, max_age: timedelta) -> list[Problem]:
    feeds = store.feeds()
    successes = [parse_iso(f["last_success_at"]) for f in feeds if f["last_success_at"]]
    if feeds and (not successes or now - max(successes) > max_age):
        last = max(successes).isoformat() if successes else "never"
        return [Problem("poll", f"no feed polled successfully in {max_age} (last success: {last})")]
    return []


def _cycles(store: Store) -> list[Problem]:
    cycles = store.recent_cycles(FAILED_CYCLES)
    if cycles and all(c["outcome"] == "failed" for c in cycles):
        latest = cycles[0]
        return [Problem("cycles", f"the last {len(cycles)} cycles failed (latest at {latest['finished_at']}: "
                                  f"{latest['error']})")]
    return []


def _queue(store: Store, now: datetime, max_age: timedelta) -> list[Problem]:
    queue = store.queue_activity(now)
    if not queue.due or queue.oldest_due_at is None or now - queue.oldest_due_at <= max_age:
        return []
    if queue.last_attempt_at is not None and now - queue.last_attempt_at <= max_age:
        return []  # a backlog, but being worked
    last = queue.last_attempt_at.isoformat() if queue.last_attempt_at else "never"
    entries = "1 entry" if queue.due == 1 else f"{queue.due} entries"
    return [Problem("queue", f"{entries} due, the oldest since {queue.oldest_due_at.isoformat()}, "
                             f"and none processed in {max_age} (last: {last})")]


def _digests(store: Store, config: Config, now: datetime) -> list[Problem]:
    problems = []
    channels = (["files"] if config.digest.formats else []) + (["email"] if config.email.enabled else [])
    day = due_days(now, config.digest, catch_up=1)[-1]
    first_seen = store.first_discovered_at()
    # Delivery skips days before the first entry (nothing was watched), so they can never be late.
    watched = first_seen is not None and window(day, 1, config.tz)[1] > first_seen
    if watched and now - due_at(day, config.digest) > DIGEST_GRACE:
        for topic in config.digest.topics:
            for channel in channels:
                record = store.digest_record(topic, day.isoformat(), channel)
                if not record or record["status"] not in DELIVERED:
                    state = record["status"] if record else "not attempted"
                    problems.append(Problem("digest", f"digest {topic} {day} via {channel} is late ({state})"))
    return problems
