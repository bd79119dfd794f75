"""The digest on the `[[channels]]` that receive it: one delivery record per (channel, digest),
sent, retried and recorded by the outbox like an alert.

The digest package builds and renders; this module only decides which digests each channel is owed
(every daily digest due since the channel was first configured, back to `catch_up_days`) and hands
them to the outbox. Email and files stay with `pipeline.digest.deliver`.
"""

from __future__ import annotations

from datetime import date, datetime

from pipeline.config import Config
from pipeline.digest.build import SO_FAR, Digest, build_digest
from pipeline.digest.days import due_at, due_days, window
from pipeline.digest.deliver import DeliveryOutcome
from pipeline.digest.render import render
from pipeline.store import StoreProtocol, utcnow

from .outbox import digest_channels, register_channels, registered_at, send_due


def deliver_digests(store: StoreProtocol, config: Config, now: datetime | None = None, *,
                    day: date | None = None) -> list[DeliveryOutcome]:
    """Queue and send the digests the channels are owed; with `day` (`digest --send`), that day's
    digest now, whenever the channel was added, "so far" when the day is not over."""
    now = now or utcnow()
    wanted = digest_channels(config)
    first_seen = store.first_discovered_at()
    if not wanted or first_seen is None:
        return []
    register_channels(store, config, now)
    explicit = day is not None
    digests: list[Digest] = []
    for topic in config.digest.topics:
        if day is not None:
            kind = "daily" if due_at(day, config.digest) <= now else SO_FAR
            digests.append(build_digest(store, config, topic, day, kind=kind, now=now))
            continue
        for due in due_days(now, config.digest, config.digest.catch_up_days):
            end = window(due, 1, config.tz)[1]
            owed = [c for c in wanted if c.wants(topic) and end > (registered_at(store, c.name) or now)
                    and store.delivery(c.name, "digest", f"{topic}/daily/{due}") is None]
            if end > first_seen and owed:
                digests.append(build_digest(store, config, topic, due, now=now))
    out: list[DeliveryOutcome] = []
    for digest in digests:
        key = f"{digest.topic}/{digest.kind}/{digest.start.isoformat()}"
        end = window(digest.start, digest.days, config.tz)[1]
        for channel in wanted:
            if not channel.wants(digest.topic) or (not explicit and end <= (registered_at(store, channel.name) or now)):
                continue
            fields = dict(topic=digest.topic, created_at=now, updated_at=now)
            if digest.empty and config.digest.empty_day == "skip":
                store.add_delivery(channel.name, "digest", key, status="skipped",
                                   note=f"nothing on {digest.period} (empty_day = \"skip\")", **fields)
                continue
            added = store.add_delivery(channel.name, "digest", key, status="pending", title=digest.title,
                                       body=render(digest, "text"), **fields)
            if not added and explicit:
                record = store.delivery(channel.name, "digest", key) or {}
                out.append(DeliveryOutcome(topic=digest.topic, day=digest.start, kind=digest.kind,
                                           channel=f"channel {channel.name}", status="skipped",
                                           detail=f"already {record.get('status')} on this channel"))
    for sent in send_due(store, config, now, only=[c.name for c in wanted]):
        if sent.kind == "digest":
            topic, kind, start = sent.key.rsplit("/", 2)
            out.append(DeliveryOutcome(topic=topic, day=date.fromisoformat(start), kind=kind,
                                       channel=f"channel {sent.channel}", status=sent.status, detail=sent.detail))
    return out
