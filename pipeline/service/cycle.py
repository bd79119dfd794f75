"""One full cycle: poll the due feeds, then work the queue of pending entries until it is empty."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from pipeline.context import Context
from pipeline.store import Store

from .poll import PollReport, poll_feeds
from .process import Processor, ProcessReport


@dataclass
class CycleReport:
    poll: PollReport = field(default_factory=PollReport)
    process: ProcessReport = field(default_factory=ProcessReport)


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
    report = CycleReport()
    if poll:
        task = asyncio.ensure_future(poll_feeds(store, ctx.config, ctx.sources, progress=on_feed, executor=executor))
        if await _until_stopped(task, stop):
            return report
        report.poll = task.result()
    if not process:
        return report
    processor = Processor(store, ctx.config, ctx.sources, ctx.tagger, executor)
    while store.pending_entries(1):
        task = asyncio.ensure_future(processor.run(progress=on_entry))
        if await _until_stopped(task, stop):
            break
        batch = task.result()
        report.process.add(batch)
        if batch.processed == 0:
            break  # everything left is waiting for a retry time
    return report


def run_cycle(ctx: Context, store: Store, **kwargs: object) -> CycleReport:
    return asyncio.run(run_cycle_async(ctx, store, **kwargs))
