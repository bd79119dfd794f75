"""`newswatch run`: the long-running service on APScheduler.

Jobs: a poll-and-process cycle every minute (each feed has its own next-poll time in the store,
so the minute tick only sets the granularity), the digest at the configured local time plus a
frequent check that catches up missed or failed deliveries, and daily retention. Jobs never
overlap themselves (max_instances=1) and missed runs are coalesced into one.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .context import Context
from .cycle import run_cycle
from .deliver import deliver_due
from .lock import InstanceLock
from .store import Store, utcnow

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 8.0  # SIGTERM must end us within 10 s


class Service:
    def __init__(self, ctx: Context, tick_seconds: float = 60.0):
        self.ctx = ctx
        self.tick_seconds = tick_seconds
        self.stop = threading.Event()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=ctx.config.tz,
        )

    def _store(self) -> Store:
        return self.ctx.open_store()

    def cycle_job(self) -> None:
        if self.stop.is_set():
            return
        with self._store() as store:
            report = run_cycle(self.ctx, store, stop=self.stop)
        p, q = report.poll, report.process
        if p.feeds or q.processed:
            log.info("cycle: %d feeds polled (%d ok, %d not modified, %d failed), %d new items, "
                     "%d entries processed, %d tagged", p.feeds, p.ok, p.not_modified, p.failed, p.new_items,
                     q.processed, q.tagged)

    def digest_job(self) -> None:
        if self.stop.is_set():
            return
        with self._store() as store:
            for outcome in deliver_due(store, self.ctx.config, utcnow()):
                log.info("digest: %s", outcome)

    def retention_job(self) -> None:
        days = self.ctx.config.storage.keep_html_days
        if days:
            with self._store() as store:
                dropped = store.prune_html(timedelta(days=days))
            if dropped:
                log.info("retention: dropped the raw HTML of %d articles older than %d days", dropped, days)

    def _schedule(self) -> None:
        hour, minute = map(int, self.ctx.config.digest.time.split(":"))
        now = utcnow()
        add = self.scheduler.add_job
        add(self.cycle_job, IntervalTrigger(seconds=self.tick_seconds), id="cycle", next_run_time=now)
        # The cron trigger keeps the local wall-clock time across DST; the interval job retries
        # failed deliveries and catches up a digest missed while we were down.
        add(self.digest_job, CronTrigger(hour=hour, minute=minute, timezone=self.ctx.config.tz), id="digest")
        add(self.digest_job, IntervalTrigger(minutes=5), id="digest-check", next_run_time=now)
        add(self.retention_job, IntervalTrigger(hours=24), id="retention", next_run_time=now)

    def run(self) -> int:
        with InstanceLock(self.ctx.config.db_path):
            self._install_signal_handlers()
            self._schedule()
            self.scheduler.start()
            log.info("newswatch running: %d sources, database %s", len(self.ctx.sources), self.ctx.config.db_path)
            self.stop.wait()
            log.info("stopping")
            stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
            stopper.start()
            stopper.join(SHUTDOWN_GRACE_SECONDS)
            if stopper.is_alive():
                # A job stuck in a C call; nothing is lost by leaving it (entries stay pending).
                log.warning("a job did not stop within %.0f s; exiting anyway", SHUTDOWN_GRACE_SECONDS)
            log.info("stopped")
        return 0

    def _install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: object) -> None:
            log.info("received %s", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
