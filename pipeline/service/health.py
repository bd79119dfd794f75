"""`newswatch health`: a yes/no answer for monitors and systemd, with the reasons."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.config import Config
from pipeline.digest import due_at, due_days, window
from pipeline.store import Store, parse_iso

DIGEST_GRACE = timedelta(minutes=30)
DELIVERED = ("sent", "skipped")


def check_health(store: Store, config: Config, now: datetime, max_poll_age: timedelta) -> list[str]:
    """Problems that need a person; an empty list means healthy."""
    problems = []
    feeds = store.feeds()
    successes = [parse_iso(f["last_success_at"]) for f in feeds if f["last_success_at"]]
    if feeds and (not successes or now - max(successes) > max_poll_age):
        last = max(successes).isoformat() if successes else "never"
        problems.append(f"no feed polled successfully in {max_poll_age} (last success: {last})")
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
                    problems.append(f"digest {topic} {day} via {channel} is late ({state})")
    return problems
