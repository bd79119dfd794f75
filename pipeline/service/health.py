"""`newswatch health`: a yes/no answer for monitors and systemd, with the reasons.

Unhealthy when the service does not do its work, whatever the reason: no feed polled successfully
for `max_poll_age`, the last cycles all failed, due entries waiting for `max_queue_age` with none
attempted meanwhile, or a digest late. A backlog that is being worked is healthy, however long it
is; a queue nothing touches is not, however short. A digest given up after its retries stays
unhealthy until it is delivered or acknowledged (`newswatch digest --ack DAY`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.config import Config
from pipeline.digest import due_at, due_days, window
from pipeline.store import Store, parse_iso

DIGEST_GRACE = timedelta(minutes=30)
DELIVERED = ("sent", "skipped", "acknowledged")
FAILED_CYCLES = 3  # this many failed cycles in a row (or every cycle so far, if fewer) is unhealthy
CHECKS = ("poll", "cycles", "queue", "digest", "feeds", "store", "channels")
# A feed that never succeeded has no "failing since": this many failed attempts in a row count as long.
NEVER_OK_FAILURES = 3


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
            *_digests(store, config, now), *_recipients(store, config, now),
            *_failing_feeds(store, config, now), *_channels(store, config)]


def _channels(store: Store, config: Config) -> list[Problem]:
    """A configured channel whose latest attempt failed and that delivered nothing since: its alerts
    and digests are not reaching anyone (they are retried for a day). Green again at its next delivery."""
    if not config.channels:
        return []
    from pipeline.alerts.outbox import channel_states

    return [Problem("channels", f"channel {row['channel']} is failing (last attempt {row['last_failed_at']}): "
                                f"{row['last_error']} ({row['waiting']} waiting, {row['given_up']} given up)")
            for row in channel_states(store, [c.name for c in config.channels]) if row["failing"]]


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
    """Every day of the catch-up window past its time and not delivered is late; a digest given up
    stays a problem, however old, until it is delivered or a person acknowledges it."""
    problems = []
    channels = (["files"] if config.digest.formats else []) + (["email"] if config.email.enabled else [])
    topics = set(config.digest.topics)
    given_up = [r for r in store.digest_records("failed") if r["next_attempt_at"] is None
                and r["topic"] in topics and r["channel"] in channels]
    reported = {(r["topic"], r["day"], r["channel"], r["kind"]) for r in given_up}
    first_seen = store.first_discovered_at()
    for day in due_days(now, config.digest, catch_up=config.digest.catch_up_days):
        # Delivery skips days before the first entry (nothing was watched), so they can never be late.
        watched = first_seen is not None and window(day, 1, config.tz)[1] > first_seen
        if not watched or now - due_at(day, config.digest) <= DIGEST_GRACE:
            continue
        for topic in config.digest.topics:
            for channel in channels:
                if (topic, day.isoformat(), channel, "daily") in reported:
                    continue
                record = store.digest_record(topic, day.isoformat(), channel)
                if not record or record["status"] not in DELIVERED:
                    state = record["status"] if record else "not attempted"
                    problems.append(Problem("digest", f"digest {topic} {day} via {channel} is late ({state})"))
    for r in given_up:
        kind = "" if r["kind"] == "daily" else f"{r['kind']} "
        problems.append(Problem("digest", f"digest {r['topic']} {kind}{r['day']} via {r['channel']} was given up "
                                          f"({r['last_error']}); deliver it with `newswatch digest --date {r['day']} "
                                          f"--resend` or acknowledge it with `newswatch digest --ack {r['day']}`"))
    return problems


def _critical_sources(config: Config) -> set[str]:
    from pipeline.feeds import read_sources

    return {s.name for s in read_sources(config.sources_dir) if s.critical}  # broken files: `status` says


def _failing_feeds(store: Store, config: Config, now: datetime, critical: set[str] | None = None) -> list[Problem]:
    """Feeds failed for longer than `max_failing_hours`: too many of them, or one of a critical source."""
    limit = timedelta(hours=config.health.max_failing_hours)
    feeds = store.feeds()
    dead = []
    for feed in feeds:
        if feed["health"] not in ("failing", "gone"):
            continue
        if feed["last_success_at"]:
            long = now - parse_iso(feed["last_success_at"]) > limit
        else:
            long = (feed["failures"] or 0) >= NEVER_OK_FAILURES
        if long:
            dead.append(feed)
    if not dead:
        return []
    critical = _critical_sources(config) if critical is None else critical

    def named(rows: list[dict]) -> str:
        shown = [f"{r['source']} ({r['url']})" for r in rows[:10]]
        return ", ".join(shown) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")

    problems = []
    share = config.health.max_failing_share
    if len(dead) > share * len(feeds):
        problems.append(Problem("feeds", f"{len(dead)} of {len(feeds)} feeds have failed for more than {limit} "
                                         f"(more than {share:.0%}): {named(dead)}"))
    vital = [f for f in dead if f["source"] in critical]
    if vital:
        problems.append(Problem("feeds", f"critical feeds have failed for more than {limit}: {named(vital)}"))
    return problems


def _recipients(store: Store, config: Config, now: datetime) -> list[Problem]:
    """A configured recipient whose latest digest of a topic did not reach them: refused for good,
    or refused for now (being retried, or given up) once the digest is DIGEST_GRACE late, as a
    late digest is. Green again once one reaches them."""
    if not config.email.enabled:
        return []
    latest: dict[tuple[str, str, str], dict] = {}
    for row in store.digest_recipients():  # newest day first
        latest.setdefault((row["recipient"], row["topic"], row["kind"]), row)
    # `digest --ack DAY` accepts the whole digest undelivered, its recipients included
    acknowledged = {(r["topic"], r["day"], r["kind"]) for r in store.digest_records("acknowledged")
                    if r["channel"] == "email"}
    problems = []
    for (recipient, topic, kind), row in latest.items():
        if recipient not in config.email.recipients or topic not in config.digest.topics or row["status"] == "sent":
            continue
        if (topic, row["day"], kind) in acknowledged:
            continue
        late = now - due_at(date.fromisoformat(row["day"]), config.digest) > DIGEST_GRACE
        if row["status"] == "refused" or late:
            state = "refused by the server" if row["status"] == "refused" else "not delivered yet"
            what = "" if kind == "daily" else f"{kind} "
            problems.append(Problem("digest", f"recipient {recipient} did not get the {what}digest {topic} "
                                              f"{row['day']}: {state} ({row['last_error'] or 'no reply recorded'})"))
    return problems
