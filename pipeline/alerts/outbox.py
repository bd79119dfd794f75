"""Alerts, summaries and digests on the `[[channels]]`, each (channel, message) delivered once.

The deliveries table is the outbox and the ledger. A message is composed once and written as a
"pending" record (the text is kept, so every retry sends what was first composed), then sent with
the digest's claim-send-record protocol:

1. claim: "pending" (or "failed" whose retry time came) becomes "sending" with a lease, in one
   compare-and-set statement, so two senders never both send;
2. send through Apprise;
3. record "sent", or "failed" with a backed-off retry time; a channel is retried for a day after
   the message was composed, then the record is given up and shown as such.

A crash between 2 and 3 leaves "sending" behind. Once its lease has run out it is sent again as
"resending", titled "[resent]" and noted so: at most one extra copy, which people can recognise. A
"resending" left behind again is given up, never sent a third time.

Alerts: an item that reaches a channel's `alert_level` on a topic it follows, and is not backlog,
becomes one alert per story: an item the digest would cluster with one already alerted on that
channel is recorded "same-story" and left to the digest, never a second ping. In quiet hours, or
past the channel's hourly cap, alerts are "held"; once sending is allowed again the held ones go
out as one summary.

Each channel sends on a thread of its own: a channel that hangs or fails never holds up another.
The store is shared among them behind one lock (each call is one short transaction).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from pipeline.config import ChannelSection, Config
from pipeline.retry import backoff_seconds
from pipeline.store import StoreProtocol, TaggedItem, parse_iso, utcnow

from . import channels as apprise_channels

log = logging.getLogger(__name__)

RETRY_FOR = timedelta(days=1)  # a message is retried this long after it was composed, then given up
RETRY_BASE_SECONDS, RETRY_CAP_SECONDS = 60.0, 3 * 3600.0
LEASE = timedelta(minutes=5)  # a claimed send not recorded for this long is taken for dead
STORY_WINDOW = timedelta(days=2)  # earlier items a new one may be the same story as
FRESH_FOR = timedelta(days=1)  # an item processed longer ago than this never alerts (a service long down)
MAX_PER_RUN = 200  # records one channel works through per call; the rest wait for the next
IN_FLIGHT = ("sending", "resending")
WAITING = ("pending", "failed", *IN_FLIGHT)
ALERT_KINDS = ("alert", "summary")  # what the hourly cap counts


@dataclass(frozen=True)
class SendOutcome:
    channel: str
    kind: str  # alert, summary, digest, test
    key: str
    status: str  # sent, failed, held, skipped
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.key}: {self.status}" + (f" — {self.detail}" if self.detail else "")


# -- channels -------------------------------------------------------------------------------------

def alert_channels(config: Config) -> list[ChannelSection]:
    return [c for c in config.channels if "alerts" in c.receives]


def digest_channels(config: Config) -> list[ChannelSection]:
    return [c for c in config.channels if "digest" in c.receives]


def register_channels(store: StoreProtocol, config: Config, now: datetime | None = None) -> None:
    """Note when each channel was first seen: alerts and digests start from then, so adding a
    channel does not send it the last day's backlog of news."""
    now = now or utcnow()
    for channel in config.channels:
        store.add_delivery(channel.name, "channel", "", status="registered", created_at=now, updated_at=now)


def registered_at(store: StoreProtocol, channel: str) -> datetime | None:
    record = store.delivery(channel, "channel", "")
    return parse_iso(record["created_at"]) if record else None


def channel_states(store: StoreProtocol, names: Iterable[str] | None = None) -> list[dict]:
    """Per channel (those named, or every one with records): the store's report, plus `failing`:
    its latest attempt failed, and nothing was delivered since."""
    report = {r["channel"]: r for r in store.channel_report()}
    names = list(report) if names is None else list(names)
    out = []
    for name in names:
        row = dict(report.get(name) or {"channel": name, "last_delivered_at": None, "last_failed_at": None,
                                         "last_error": None, "waiting": 0, "given_up": 0})
        failed, delivered = row["last_failed_at"], row["last_delivered_at"]
        row["failing"] = bool(failed and (not delivered or failed > delivered))
        out.append(row)
    return out


def describe_state(row: dict) -> str:
    last = f"last delivery {row['last_delivered_at']}" if row["last_delivered_at"] else "nothing delivered yet"
    parts = [last]
    if row["failing"]:
        parts.append(f"FAILING, last attempt {row['last_failed_at']}: {row['last_error']}")
    elif row["last_failed_at"]:
        parts.append(f"last failure {row['last_failed_at']}: {row['last_error']}")
    if row["waiting"]:
        parts.append(f"{row['waiting']} waiting")
    if row["given_up"]:
        parts.append(f"{row['given_up']} given up")
    return "; ".join(parts)


# -- composing alerts -----------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _all_topics(files: tuple[Path, ...]) -> tuple[str, ...]:
    from pipeline.topics import load_topics

    return tuple(t.id for t in load_topics(list(files)))


def _topics(config: Config, wanted: Iterable[ChannelSection]) -> list[str]:
    every = _all_topics(tuple(config.topic_files))
    return [t for t in every if any(c.wants(t) for c in wanted)]


def _level_ok(item: TaggedItem, channel: ChannelSection) -> bool:
    return item.level == "strong" or channel.alert_level == "mention"


def queue_alerts(store: StoreProtocol, config: Config, now: datetime | None = None) -> int:
    """Write a pending alert for every newly tagged item that earns one; returns how many."""
    from pipeline.digest.build import cluster_items, topic_name  # numpy: only when there are alerts

    wanted = alert_channels(config)
    if not wanted:
        return 0
    now = now or utcnow()
    register_channels(store, config, now)
    since = {c.name: max((registered_at(store, c.name) or now) - timedelta(minutes=1), now - FRESH_FOR)
             for c in wanted}
    queued = 0
    for topic in _topics(config, wanted):
        recent = [i for i in store.tagged_items(topic, now - STORY_WINDOW, now + timedelta(days=1))
                  if not i.is_backlog]
        # Per channel, the fresh items that earn an alert and have no record yet: the common case
        # is none, and then nothing is clustered (shingling a day's items every cycle is the cost).
        owed: dict[str, list[TaggedItem]] = {}
        for channel in (c for c in wanted if c.wants(topic)):
            fresh = [i for i in recent if i.processed_at and i.processed_at >= since[channel.name]
                     and _level_ok(i, channel)]
            done = store.alerted_entries(channel.name, topic, [i.entry_id for i in fresh])
            if todo := [i for i in fresh if i.entry_id not in done]:
                owed[channel.name] = sorted(todo, key=lambda i: (i.processed_at, i.entry_id))
        if not owed:
            continue
        story_of: dict[int, list[TaggedItem]] = {}
        for group in cluster_items(recent, config.digest.cluster_threshold):
            for item in group:
                story_of[item.entry_id] = group
        for name, todo in owed.items():
            alerted = store.alerted_entries(name, topic, {m.entry_id for i in todo for m in story_of[i.entry_id]})
            for item in todo:
                first = next((m for m in story_of[item.entry_id] if m.entry_id in alerted), None)
                fields = dict(topic=topic, entry_id=item.entry_id, created_at=now, updated_at=now)
                if first is not None:
                    store.add_delivery(name, "alert", f"{topic}/{item.entry_id}", status="same-story",
                                       note=f"same story as entry {first.entry_id} ({first.source}), already "
                                            "alerted: left to the digest", **fields)
                else:
                    title, body = compose_alert(config, item, topic_name(config, topic))
                    queued += store.add_delivery(name, "alert", f"{topic}/{item.entry_id}",
                                                 status="pending", title=title, body=body, **fields)
                alerted.add(item.entry_id)
    return queued


def compose_alert(config: Config, item: TaggedItem, topic: str) -> tuple[str, str]:
    """Title and plain-text body: headline; outlet and published time; the evidence sentence; links."""
    published = item.published or item.discovered_at
    when = published.astimezone(config.tz).strftime("%Y-%m-%d %H:%M %Z")
    from pipeline.digest.build import evidence_sentence

    evidence = evidence_sentence(item)
    lines = [f"{item.source} · {when} · {topic}"]
    if evidence:
        lines += ["", f"“{evidence}”"]
    lines += [""]
    if item.url:
        lines.append(f"Original: {item.url}")
    if room := config.item_url(item.entry_id):
        lines.append(f"Why tagged: {room}")
    headline = " ".join((item.title or "(no headline)").split())
    return headline, "\n".join(lines)


# -- quiet hours and the cap ----------------------------------------------------------------------

def quiet_now(config: Config, now: datetime) -> bool:
    window = config.alerts.quiet_hours
    if not window:
        return False
    start, end = (time.fromisoformat(part) for part in window.split("-"))
    local = now.astimezone(config.tz).time()
    return start <= local < end if start < end else (local >= start or local < end)


# -- sending --------------------------------------------------------------------------------------

class _Locked:
    """The store, one call at a time: the channel threads share one connection."""

    def __init__(self, store: StoreProtocol):
        self._store, self._lock = store, threading.Lock()

    def __getattr__(self, name: str):
        method = getattr(self._store, name)

        def call(*args: object, **kwargs: object) -> object:
            with self._lock:
                return method(*args, **kwargs)

        return call


def send_due(store: StoreProtocol, config: Config, now: datetime | None = None,
             only: Iterable[str] | None = None) -> list[SendOutcome]:
    """Send what is due on every channel (or those named in `only`), each channel on its own thread."""
    now = now or utcnow()
    picked = [c for c in config.channels if only is None or c.name in set(only)]
    if not picked:
        return []
    shared = _Locked(store)
    with ThreadPoolExecutor(max_workers=len(picked), thread_name_prefix="channel") as pool:
        futures = [pool.submit(_work_channel, shared, config, channel, now) for channel in picked]
        outcomes = []
        for channel, future in zip(picked, futures, strict=True):
            try:
                outcomes += future.result()
            except Exception as exc:
                if store.is_storage_failure(exc):
                    raise
                log.exception("channel %s: internal error while sending", channel.name)
                outcomes.append(SendOutcome(channel.name, "-", "-", "failed", f"internal: {type(exc).__name__}: {exc}"))
    for outcome in outcomes:
        (log.warning if outcome.status == "failed" else log.info)("channel %s", outcome)
    return outcomes


def _work_channel(store: StoreProtocol, config: Config, channel: ChannelSection, now: datetime) -> list[SendOutcome]:
    url = config.channel_urls.get(channel.name)
    if not url:
        return []
    outcomes: list[SendOutcome] = []
    quiet = quiet_now(config, now)
    sent_this_hour = store.delivered_count(channel.name, ALERT_KINDS, now - timedelta(hours=1))
    allowed = not quiet and sent_this_hour < config.alerts.max_per_hour
    if allowed and (summary := _summarize_held(store, config, channel, now)):
        outcomes.append(summary)
    for record in store.deliveries(channel.name, statuses=WAITING, limit=MAX_PER_RUN):
        if record["kind"] == "channel" or not _due(record, now):
            continue
        if record["kind"] == "alert" and record["status"] == "failed" and quiet:
            continue  # a retry is a ping too: it waits for the end of the quiet hours
        if record["kind"] == "alert" and record["status"] == "pending":
            reason = "quiet hours" if quiet else (
                "over the hourly cap" if sent_this_hour >= config.alerts.max_per_hour else None)
            if reason:
                store.claim_delivery(channel.name, "alert", record["key"], record, status="held",
                                     note=f"held: {reason}; sent in one summary later", updated_at=now)
                outcomes.append(SendOutcome(channel.name, "alert", record["key"], "held", reason))
                continue
        outcome = deliver(store, channel.name, url, record, now)
        if outcome is not None:
            outcomes.append(outcome)
            sent_this_hour += outcome.status == "sent" and record["kind"] in ALERT_KINDS
    return outcomes


def _due(record: dict, now: datetime) -> bool:
    next_at = parse_iso(record["next_attempt_at"])
    if record["status"] == "pending":
        return True
    return next_at is not None and next_at <= now  # failed: its retry time; in flight: its lease ran out


def _summarize_held(store: StoreProtocol, config: Config, channel: ChannelSection, now: datetime
                    ) -> SendOutcome | None:
    held = store.deliveries(channel.name, kind="alert", statuses=("held",), limit=MAX_PER_RUN)
    if not held:
        return None
    title = f"{len(held)} alert{'s' if len(held) != 1 else ''} held" + (
        " during quiet hours" if config.alerts.quiet_hours else "")
    body = "\n\n".join(f"• {r['title']}\n{r['body']}" for r in held)
    key = f"{now.isoformat(timespec='seconds')}/{held[0]['key']}"
    if not store.fold_deliveries(channel.name, [("alert", r["key"]) for r in held], key, status="pending",
                                 title=title, body=body, created_at=now, updated_at=now):
        return None
    return SendOutcome(channel.name, "summary", key, "queued", f"{len(held)} held alerts")


def deliver(store: StoreProtocol, channel: str, url: str, record: dict, now: datetime) -> SendOutcome | None:
    """Claim, send and record one message; None when another sender has it."""
    kind, key = record["kind"], record["key"]
    if record["status"] == "resending":
        note = ("interrupted twice between sending and recording; not sent a third time: check the "
                "channel, and send it again by hand if it is missing")
        store.claim_delivery(channel, kind, key, record, status="failed", next_attempt_at=None,
                             last_error=note, updated_at=now)
        return SendOutcome(channel, kind, key, "failed", note)
    again = record["status"] == "sending"  # its sender died: it may have arrived already
    attempts = (record["attempts"] or 0) + 1
    claim = dict(status="resending" if again else "sending", attempts=attempts, next_attempt_at=now + LEASE,
                 updated_at=now)
    if not store.claim_delivery(channel, kind, key, record, **claim):
        return None
    title = f"[resent] {record['title']}" if again else record["title"]
    answer = apprise_channels.send(url, title or "", record["body"] or "")
    if answer.ok:
        note = "resent after an interrupted send: it may have arrived twice" if again else None
        store.claim_delivery(channel, kind, key, claim, status="sent", delivered_at=now, next_attempt_at=None,
                             last_error=None, note=note, updated_at=now)
        return SendOutcome(channel, kind, key, "sent", note or "")
    created = parse_iso(record["created_at"]) or now
    retry = now + timedelta(seconds=backoff_seconds(attempts, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS))
    retry_at = retry if retry <= created + RETRY_FOR else None
    store.claim_delivery(channel, kind, key, claim, status="failed", last_error=answer.detail,
                         next_attempt_at=retry_at, updated_at=now)
    # Kept as an event too: the record forgets its error once delivered, `channels list` and the
    # status's error counts do not.
    store.log_event("channel_failed", f"{channel}: {kind} {key}: {answer.detail}")
    when = (f"retry at {retry_at.isoformat(timespec='minutes')}" if retry_at
            else f"gave up after {attempts} attempts over a day")
    return SendOutcome(channel, kind, key, "failed", f"{answer.detail}; {when}")


def send_test(store: StoreProtocol, config: Config, names: Iterable[str] | None = None,
              now: datetime | None = None) -> list[SendOutcome]:
    """`newswatch channels test`: one test message per channel, recorded like any delivery."""
    now = now or utcnow()
    picked = [c for c in config.channels if names is None or c.name in set(names)]
    key = now.isoformat(timespec="microseconds")  # two tests in one second are two records
    for channel in picked:
        store.add_delivery(channel.name, "test", key, status="pending", title="newswatch: test message",
                           body=f"A test from newswatch to the channel {channel.name!r} "
                                f"(receives {', '.join(channel.receives)}).", created_at=now, updated_at=now)
    shared = _Locked(store)
    with ThreadPoolExecutor(max_workers=max(1, len(picked)), thread_name_prefix="channel") as pool:
        futures = [pool.submit(_test_one, shared, config, c.name, key, now) for c in picked]
        return [f.result() for f in futures]


def _test_one(store: StoreProtocol, config: Config, name: str, key: str, now: datetime) -> SendOutcome:
    record = store.delivery(name, "test", key)
    outcome = deliver(store, name, config.channel_urls[name], record, now)
    if outcome is not None and outcome.status == "failed":
        # A test is not retried: its answer is the point.
        store.claim_delivery(name, "test", key, store.delivery(name, "test", key), next_attempt_at=None)
    return outcome or SendOutcome(name, "test", key, "skipped", "another sender has it")
