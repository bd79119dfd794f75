"""One polling cycle: fetch the due feeds, store their new items as pending entries.

Network waiting dominates, so every due feed is fetched at once and the client's limits do the
pacing. Parsing is the one CPU-heavy step (feedparser takes a few milliseconds per feed), so in a
big cycle it runs in worker processes, in parallel with the fetching; the store is written from
this task only.

A feed is the unit of work: an unexpected exception while fetching, parsing or storing it is
caught at the feed's boundary and recorded against it as an "internal" failure of that stage (the
feed backs off like any failing feed), and the other feeds of the cycle go on. One item the store
cannot take costs that item alone. Only the database itself failing ends the cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from pipeline.config import Config
from pipeline.errors import StageError, UnitFailure
from pipeline.feeds import ParsedFeed, parse_feed
from pipeline.fetch import FEED_ACCEPT, HttpClient, retry_after_seconds
from pipeline.models import FeedItem, FetchResult, Source
from pipeline.store import FeedState, Store, utcnow

from .schedule import RATE_WINDOW, next_poll, publishing_interval

log = logging.getLogger(__name__)
PERMANENT_REDIRECT_POLLS = 3  # a 301/308 must be seen this many polls in a row before we move the feed
POOL_MIN_FEEDS = 64  # below this, starting worker processes costs more than parsing in-line
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.I)


@dataclass
class PollReport:
    feeds: int = 0
    ok: int = 0
    not_modified: int = 0
    unchanged: int = 0
    failed: int = 0
    new_items: int = 0
    bytes_received: int = 0  # on the wire, headers estimated
    requests: int = 0  # HTTP requests, redirects and robots.txt included
    unit_failures: int = 0  # feeds and items that raised unexpectedly (also counted in failed for feeds)

    def add(self, other: PollReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Fetched:
    feed: FeedState
    result: FetchResult | None = None  # None when the fetch itself raised
    parsed: ParsedFeed | None = None  # parsed off the event loop when the body is new
    failure: UnitFailure | None = None  # an unexpected exception while fetching or parsing this feed
    body_hash: str | None = None  # the body's SHA-256, when it was taken before parsing


def _retry_after(result: FetchResult) -> float | None:
    if result.status not in (429, 503) and result.error_kind != "deferred":
        return None
    return retry_after_seconds(result.headers.get("retry-after"))


def _cache_lifetime(result: FetchResult) -> float | None:
    """Seconds the response says it stays fresh (Cache-Control max-age, else Expires - Date)."""
    cache_control = result.headers.get("cache-control", "")
    match = _MAX_AGE.search(cache_control)
    if match:
        return float(match.group(1))
    expires, date = result.headers.get("expires"), result.headers.get("date")
    if expires and date:
        try:
            return max(0.0, (parsedate_to_datetime(expires) - parsedate_to_datetime(date)).total_seconds())
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _record_failure(store: Store, config: Config, feed: FeedState, result: FetchResult | None, kind: str,
                    message: str, report: PollReport, stage: str | None = None) -> None:
    now = utcnow()
    failures = feed.failures + 1
    status = result.status if result else 0
    gone = status == 410
    store.update_feed(
        feed.id, health="gone" if gone else "failing", failures=failures, http_status=status or None,
        last_error=message, last_error_kind=kind, last_error_stage=stage, last_attempt_at=now,
        next_poll_at=next_poll(now, config.schedule, configured_seconds=feed.interval_seconds, failures=failures,
                               retry_after=_retry_after(result) if result else None, gone=gone),
    )
    shown = message if stage is None else f"{stage}: {message}"
    store.log_event(f"feed_{kind}", shown, source=feed.source, feed_id=feed.id)
    # A bug (kind internal) is an error for the operator; a site's trouble is a warning.
    (log.error if kind == UnitFailure.kind else log.warning)(
        "feed failed: %s %s: %s: %s", feed.source, feed.current_url, kind, shown)
    report.failed += 1


def _record_internal(store: Store, config: Config, fetched: _Fetched, failure: UnitFailure,
                     report: PollReport) -> None:
    """A feed whose handling raised: a failing feed like any other (it backs off and shows in status),
    with the stage and the exception as its error."""
    _record_failure(store, config, fetched.feed, fetched.result, UnitFailure.kind,
                    f"{failure.error}: {failure.message}", report, stage=failure.stage)
    report.unit_failures += 1


def _apply_feed(store: Store, config: Config, fetched: _Fetched, report: PollReport) -> None:
    """Record one feed's poll; whatever it raises costs this feed alone, never the cycle."""
    failure = fetched.failure
    if failure is None:
        outcome = PollReport()
        try:
            with store.transaction():  # a savepoint: a feed that raises leaves nothing half-written
                handle_feed_result(store, config, fetched.feed, fetched.result, outcome, fetched.parsed,
                                   fetched.body_hash)
        except Exception as exc:
            if store.is_storage_failure(exc):
                raise
            failure = UnitFailure.of("store", exc)
        else:
            report.add(outcome)
            return
    _record_internal(store, config, fetched, failure, report)


def _parse(result: FetchResult, known_guids: frozenset[str] = frozenset()) -> ParsedFeed:
    try:
        return parse_feed(result.body, result.final_url, result.headers, known_guids)
    except Exception as exc:
        raise StageError(UnitFailure.of("parse", exc)) from exc


def _store_items(store: Store, feed: FeedState, items: list[FeedItem], skipped: Iterable[str],
                 report: PollReport) -> int:
    """Store a feed's new items, all at once; if that raises, one by one, so an item the store
    cannot take costs that item alone (recorded as an event of the feed) and its siblings are kept.
    `skipped` are the reasons of the body's entries that gave nothing to store."""
    try:
        with store.transaction():
            return store.add_items(feed.id, feed.source, items, skipped=skipped)
    except Exception as exc:
        if store.is_storage_failure(exc):
            raise
    store.add_items(feed.id, feed.source, [], skipped=skipped)
    added = 0
    for item in items:
        try:
            with store.transaction():
                added += store.add_items(feed.id, feed.source, [item])
        except Exception as exc:
            if store.is_storage_failure(exc):
                raise
            failure = UnitFailure.of("store", exc)
            name = item.url or repr(item.title)  # an item without a usable link has no URL to name it by
            store.log_event("entry_internal", f"{name}: {failure}", source=feed.source, feed_id=feed.id)
            log.error("entry failed: %s %s: internal: %s", feed.source, name, failure)
            report.unit_failures += 1
    return added


def _new_body_hash(feed: FeedState, result: FetchResult) -> str | None:
    """The body's hash when the feed answered with a body unlike the last one, else None."""
    if result.error or result.not_modified:
        return None
    digest = hashlib.sha256(result.body).hexdigest()
    return digest if digest != feed.body_hash else None


def handle_feed_result(store: Store, config: Config, feed: FeedState, result: FetchResult, report: PollReport,
                       parsed: ParsedFeed | None = None, body_hash: str | None = None) -> None:
    """Apply one feed fetch to the store: new entries, validators, health, next poll time.

    `parsed` is the body already parsed (by a worker); without it the body is parsed here if needed.
    """
    if result.error and not result.not_modified:
        _record_failure(store, config, feed, result, result.error_kind or "http", result.error, report)
        return
    now = utcnow()
    updates: dict[str, object] = {"health": "ok", "failures": 0, "http_status": result.status,
                                  "last_error": None, "last_error_kind": None, "last_error_stage": None,
                                  "last_attempt_at": now, "last_success_at": now}
    if result.permanent_redirect and result.final_url != feed.current_url:
        streak = feed.redirect_streak + 1 if feed.redirect_target == result.final_url else 1
        updates.update(redirect_target=result.final_url, redirect_streak=streak)
        if streak >= PERMANENT_REDIRECT_POLLS:
            updates.update(current_url=result.final_url, redirect_target=None, redirect_streak=0)
            store.log_event("feed_moved", f"now {result.final_url}", source=feed.source, feed_id=feed.id)
    else:
        updates.update(redirect_target=None, redirect_streak=0)
    ttl: float | None = None
    if result.not_modified:
        report.not_modified += 1
    else:
        body_hash = body_hash or hashlib.sha256(result.body).hexdigest()
        updates.update(etag=result.headers.get("etag"), last_modified=result.headers.get("last-modified"),
                       body_hash=body_hash)
        if body_hash == feed.body_hash:
            report.unchanged += 1  # validators that lie: a new ETag, or none, for the same bytes
        else:
            parsed = parsed or _parse(result, store.known_guids(feed.id))
            if parsed.error:
                _record_failure(store, config, feed, result, "parse", parsed.error, report)
                return
            ttl = parsed.ttl_seconds
            updates["ttl_seconds"] = ttl
            added = _store_items(store, feed, list(parsed.items), parsed.skipped, report)
            report.new_items += added
            if added:
                log.info("feed %s %s: %d new items", feed.source, feed.current_url, added)
        report.ok += 1
    if ttl is None:
        ttl = feed.ttl_seconds  # read with the feed: one query less per 304
    floor = max(ttl or 0.0, _cache_lifetime(result) or 0.0) or None
    pace = publishing_interval(store.feed_item_times(feed.id, now - RATE_WINDOW), now)
    updates["next_poll_at"] = next_poll(now, config.schedule, configured_seconds=feed.interval_seconds,
                                        ttl_seconds=floor, publish_interval=pace)
    store.update_feed(feed.id, **updates)


def _parse_pool(config: Config, due: int) -> Executor | None:
    workers = config.schedule.parse_workers or min(os.cpu_count() or 1, 4)
    if workers <= 1 or due < POOL_MIN_FEEDS:
        return None
    # spawn, not fork: the parent has threads (the resolver, SQLite) that fork would copy mid-flight
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


async def poll_feeds(
    store: Store,
    config: Config,
    sources: dict[str, Source],
    *,
    feeds: list[FeedState] | None = None,
    progress: Callable[[], None] | None = None,
    client: HttpClient | None = None,
    executor: Executor | None = None,
) -> PollReport:
    """Fetch every due feed concurrently (the client enforces politeness) and record the outcome.

    `client` lets a caller share one client (and its counters) across cycles; by default each cycle
    opens its own. `executor` is a long-lived process pool to parse in (the service's); without
    one, a large cycle starts a pool of its own.
    """
    due = store.due_feeds() if feeds is None else feeds
    report = PollReport(feeds=len(due))
    if not due:
        return report
    own_pool = _parse_pool(config, len(due)) if executor is None else None
    pool = own_pool or (executor if len(due) >= POOL_MIN_FEEDS else None)
    loop = asyncio.get_running_loop()

    async def one(http: HttpClient, feed: FeedState) -> _Fetched:
        """Fetch one feed, and parse it in the pool when there is one and the body is new."""
        source = sources.get(feed.source)
        result = await http.get(
            feed.current_url, accept=FEED_ACCEPT, etag=feed.etag, last_modified=feed.last_modified,
            min_delay=source.min_delay if source else None,
        )
        body_hash = None if pool is None else _new_body_hash(feed, result)
        if body_hash is None:
            return _Fetched(feed, result)
        try:
            # Only the entries the store does not know come back from the worker: fewer to parse
            # into items and to pickle (one query per feed, against one or two per item later).
            known = store.known_guids(feed.id)
            parsed = await loop.run_in_executor(pool, parse_feed, result.body, result.final_url, result.headers,
                                                known)
        except BrokenExecutor:
            log.warning("feed parser worker died; parsing in-line instead", exc_info=True)
            return _Fetched(feed, result, body_hash=body_hash)  # handle_feed_result parses it
        except Exception as exc:
            return _Fetched(feed, result, failure=UnitFailure.of("parse", exc))
        return _Fetched(feed, result, parsed, body_hash=body_hash)

    async def run(http: HttpClient) -> None:
        before_bytes, before_requests = http.bytes_received, http.requests
        finished: asyncio.Queue[_Fetched] = asyncio.Queue()

        async def fetch(feed: FeedState) -> None:
            try:
                fetched = await one(http, feed)
            except Exception as exc:  # the feed's failure; and the writer below waits for every feed
                fetched = _Fetched(feed, failure=UnitFailure.of("fetch", exc))
            finished.put_nowait(fetched)

        tasks = [asyncio.create_task(fetch(f)) for f in due]
        try:
            handled = 0
            while handled < len(due):
                # Everything that finished meanwhile is written in one transaction: a commit per feed
                # costs more than the rest of the bookkeeping and delays the next requests.
                batch = [await finished.get()]
                while not finished.empty():
                    batch.append(finished.get_nowait())
                with store.transaction():
                    for fetched in batch:
                        _apply_feed(store, config, fetched, report)
                handled += len(batch)
                if progress:
                    for _ in batch:
                        progress()
        finally:
            for task in tasks:
                task.cancel()
        report.bytes_received = http.bytes_received - before_bytes
        report.requests = http.requests - before_requests

    try:
        if client is not None:
            await run(client)
        else:
            async with HttpClient(config.network) as own:
                await run(own)
    finally:
        if own_pool is not None:
            own_pool.shutdown(wait=False, cancel_futures=True)
    return report
