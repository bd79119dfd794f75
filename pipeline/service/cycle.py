"""One full cycle: poll the due feeds, then work the queue of pending entries until it is empty.

Each cycle's outcome is recorded in the store (ok, stopped, or failed with the error), so that
`newswatch health` can tell a service that works from one whose every cycle fails. A unit of work
that raises (a feed, an entry) is that unit's failure and never fails the cycle; what does is the
machine itself: the database full, locked or gone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.context import Context
from pipeline.store import Store, utcnow

from .poll import PollReport, poll_feeds
from .process import Processor, ProcessReport

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    poll: PollReport = field(default_factory=PollReport)
    process: ProcessReport = field(default_factory=ProcessReport)
    stopped: bool = False  # asked to stop before the queue was worked through
    alerts: list = field(default_factory=list)  # SendOutcome of the alerts this cycle sent or held


async def _until_stopped(work: asyncio.Future, stop: threading.Event | None) -> bool:
    """Wait for `work`; give up on it when `stop` is set. Returns True when stopped early.

    Stopping is safe at any moment: an entry is only marked done together with its article, so
    whatever was in flight is simply still pending next time.
    """
    while not work.done():
        if stop is not None and stop.is_set():
            work.cancel()
            return True
        await asyncio.wait([work], timeout=0.2)
    return False


async def run_cycle_async(
    ctx: Context,
    store: Store,
    *,
    poll: bool = True,
    process: bool = True,
    stop: threading.Event | None = None,
    on_feed: Callable[[], None] | None = None,
    on_entry: Callable[[], None] | None = None,
    executor: Executor | None = None,
) -> CycleReport:
    started = utcnow()
    report = CycleReport()
    try:
        await _work(ctx, store, report, poll, process, stop, on_feed, on_entry, executor)
    except Exception as exc:
        if stop is not None and stop.is_set():
            # Whatever the stop tore down under the cycle (the pool, the client) is not its failure:
            # the units in flight stay pending, and `health` must not count a deploy as a fault.
            log.debug("cycle ended by the stop: %s: %s", type(exc).__name__, exc, exc_info=True)
            report.stopped = True
            _record(store, started, report)
            return report
        _record(store, started, report, error=f"{type(exc).__name__}: {exc}")
        raise
    _record(store, started, report)
    return report


async def _work(ctx: Context, store: Store, report: CycleReport, poll: bool, process: bool,
                stop: threading.Event | None,
                on_feed: Callable[[], None] | None, on_entry: Callable[[], None] | None,
                executor: Executor | None) -> None:
    if process and ctx.config.channels:
        # Before anything is tagged: a channel's alerts start with the first cycle that knows it.
        from pipeline.alerts import register_channels

        register_channels(store, ctx.config)
    if poll:
        task = asyncio.ensure_future(poll_feeds(store, ctx.config, ctx.sources, progress=on_feed, executor=executor))
        if await _until_stopped(task, stop):
            report.stopped = True
            return
        report.poll = task.result()
    if not process:
        return
    processor = Processor(store, ctx.config, ctx.sources, ctx.tagger, executor)
    while store.pending_entries(1):
        task = asyncio.ensure_future(processor.run(progress=on_entry))
        if await _until_stopped(task, stop):
            report.stopped = True
            return
        batch = task.result()
        report.process.add(batch)
        if batch.processed == 0:
            break  # everything left is waiting for a retry time
    if ctx.config.channels:
        report.alerts = await asyncio.to_thread(_alert, ctx, store)


def _alert(ctx: Context, store: Store) -> list:
    """Alerts for what this cycle tagged, sent now; a failure here is the alerts' and is logged,
    never the cycle's (the items are stored; the next cycle queues and sends what is owed)."""
    from pipeline.alerts import queue_alerts, send_due

    try:
        queue_alerts(store, ctx.config)
        return send_due(store, ctx.config)
    except Exception as exc:
        if store.is_storage_failure(exc):
            raise
        log.exception("alerts: internal error: %s: %s", type(exc).__name__, exc)
        return []


def _record(store: Store, started: datetime, report: CycleReport, error: str | None = None) -> None:
    outcome = "failed" if error else "stopped" if report.stopped else "ok"
    try:
        store.record_cycle(started, outcome, error=error, feeds=report.poll.feeds,
                           entries=report.process.processed + report.process.retried + report.process.failed,
                           unit_failures=report.poll.unit_failures + report.process.unit_failures)
    except Exception as exc:  # a full disk fails this write too; the cycle's own error is the one to raise
        log.warning("cannot record the cycle's outcome (%s): %s: %s", outcome, type(exc).__name__, exc)


def run_cycle(ctx: Context, store: Store, **kwargs: object) -> CycleReport:
    return asyncio.run(run_cycle_async(ctx, store, **kwargs))
