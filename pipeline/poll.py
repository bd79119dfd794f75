"""One polling cycle: fetch the due feeds, store their new items as pending entries."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from .config import Config
from .feeds import parse_feed
from .fetch import FEED_ACCEPT, HttpClient
from .models import FetchResult, Source
from .schedule import next_poll
from .store import FeedState, Store, utcnow

log = logging.getLogger(__name__)
PERMANENT_REDIRECT_POLLS = 3  # a 301/308 must be seen this many polls in a row before we move the feed


@dataclass
class PollReport:
    feeds: int = 0
    ok: int = 0
    not_modified: int = 0
    unchanged: int = 0
    failed: int = 0
    new_items: int = 0


def _retry_after(result: FetchResult) -> float | None:
    value = result.headers.get("retry-after")
    if not value or result.status not in (429, 503):
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def _record_failure(store: Store, config: Config, feed: FeedState, result: FetchResult, kind: str,
                    message: str, report: PollReport) -> None:
    now = utcnow()
    failures = feed.failures + 1
    health = "gone" if result.status == 410 else "failing"
    store.update_feed(
        feed.id, health=health, failures=failures, http_status=result.status or None, last_error=message,
        last_error_kind=kind, last_attempt_at=now,
        next_poll_at=next_poll(now, config.schedule, configured_seconds=feed.interval_seconds,
                               failures=failures, retry_after=_retry_after(result)),
    )
    store.log_event(f"feed_{kind}", message, source=feed.source, feed_id=feed.id)
    log.warning("feed failed: %s %s: %s: %s", feed.source, feed.current_url, kind, message)
    report.failed += 1


def handle_feed_result(store: Store, config: Config, feed: FeedState, result: FetchResult, report: PollReport) -> None:
    """Apply one feed fetch to the store: new entries, validators, health, next poll time."""
    if result.error and not result.not_modified:
        _record_failure(store, config, feed, result, result.error_kind or "http", result.error, report)
        return
    now = utcnow()
    updates: dict[str, object] = {"health": "ok", "failures": 0, "http_status": result.status,
                                  "last_error": None, "last_error_kind": None, "last_attempt_at": now,
                                  "last_success_at": now}
    if result.permanent_redirect and result.final_url != feed.current_url:
        streak = feed.redirect_streak + 1 if feed.redirect_target == result.final_url else 1
        updates.update(redirect_target=result.final_url, redirect_streak=streak)
        if streak >= PERMANENT_REDIRECT_POLLS:
            updates.update(current_url=result.final_url, redirect_target=None, redirect_streak=0)
            store.log_event("feed_moved", f"now {result.final_url}", source=feed.source, feed_id=feed.id)
    else:
        updates.update(redirect_target=None, redirect_streak=0)
    ttl = None
    if result.not_modified:
        report.not_modified += 1
    else:
        body_hash = hashlib.sha256(result.body).hexdigest()
        updates.update(etag=result.headers.get("etag"), last_modified=result.headers.get("last-modified"),
                       body_hash=body_hash)
        if body_hash == feed.body_hash:
            report.unchanged += 1  # validators that lie: new ETag, same bytes
        else:
            parsed = parse_feed(result.body, result.final_url, result.headers)
            if parsed.error:
                _record_failure(store, config, feed, result, "parse", parsed.error, report)
                return
            ttl = parsed.ttl_seconds
            added = store.add_items(feed.id, feed.source, parsed.items)
            report.new_items += added
            if added:
                log.info("feed %s %s: %d new items", feed.source, feed.current_url, added)
        report.ok += 1
    updates["next_poll_at"] = next_poll(now, config.schedule, configured_seconds=feed.interval_seconds,
                                        ttl_seconds=ttl)
    store.update_feed(feed.id, **updates)


async def poll_feeds(
    store: Store,
    config: Config,
    sources: dict[str, Source],
    *,
    feeds: list[FeedState] | None = None,
    progress: Callable[[], None] | None = None,
) -> PollReport:
    """Fetch every due feed concurrently (the client enforces politeness) and record the outcome."""
    due = store.due_feeds() if feeds is None else feeds
    report = PollReport(feeds=len(due))

    async with HttpClient(config.network) as client:
        async def one(feed: FeedState) -> tuple[FeedState, FetchResult]:
            source = sources.get(feed.source)
            result = await client.get(
                feed.current_url, accept=FEED_ACCEPT, etag=feed.etag, last_modified=feed.last_modified,
                min_delay=source.min_delay if source else None,
            )
            return feed, result

        for next_done in asyncio.as_completed([one(f) for f in due]):
            feed, result = await next_done
            handle_feed_result(store, config, feed, result, report)
            if progress:
                progress()
    return report
