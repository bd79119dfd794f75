"""`newswatch run`: the long-running service on APScheduler.

Jobs: a poll-and-process cycle every minute (each feed has its own next-poll time in the store,
so the minute tick only sets the granularity), the digest at the configured local time plus a
frequent check that catches up missed or failed deliveries, and daily retention. Jobs never
overlap themselves (max_instances=1) and missed runs are coalesced into one.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import nullcontext
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.context import Context
from pipeline.digest import deliver_due
from pipeline.store import Store, open_store, utcnow

from .cycle import run_cycle
from .guard import StoreChanged, StoreGuard
from .lock import InstanceLock
from .metrics import serve_metrics
from .workers import make_pool

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 8.0  # SIGTERM must end us within 10 s
STORAGE_PAUSE_SECONDS = 300
ROLES = ("all", "poll", "process", "digest")


class Service:
    def __init__(self, ctx: Context, tick_seconds: float = 60.0, metrics_port: int | None = None,
                 role: str = "all"):
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        self.ctx = ctx
        self.role = role
        self.tick_seconds = tick_seconds
        self.metrics_port = metrics_port
        self.paused_until = 0.0
        self.stop = threading.Event()
        self.exit_code = 0
        self.guard: StoreGuard | None = None
        self.store_problem: str | None = None
        self._guard_lock = threading.Lock()
        self.pool: Executor | None = None
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=ctx.config.tz,
        )

    def _store(self) -> Store:
        # Never create: the database is made once at start-up, and one missing later is missing.
        store = open_store(self.ctx.config, create=self.guard is None)
        store.sync_sources(self.ctx.sources.values())
        return store

    def _store_usable(self) -> bool:
        """Whether the store is still the one we started with and writable; says so once when not."""
        if self.guard is None:
            return True
        with self._guard_lock:
            try:
                problem = self.guard.check()
            except StoreChanged as exc:
                if not self.stop.is_set():
                    log.error("%s; stopping: restart the service to use it", exc)
                    self.exit_code = 1
                    self.stop.set()
                return False
            if problem != self.store_problem:
                if problem:
                    log.error("%s; pausing every job until it is back", problem)
                else:
                    log.info("the store is back and writable; resuming")
                self.store_problem = problem
        return problem is None

    def _guarded(self, name: str, job: Callable[[], None]) -> Callable[[], None]:
        """Run a job; a failure is one log line and a pause, never a dead scheduler or a torn store."""

        def run() -> None:
            if self.stop.is_set() or time.monotonic() < self.paused_until or not self._store_usable():
                return
            try:
                job()
            except sqlite3.OperationalError as exc:
                kind = getattr(exc, "sqlite_errorname", "") or ""
                if kind.startswith(("SQLITE_FULL", "SQLITE_IOERR")) or "full" in str(exc):
                    # The transaction was rolled back; we stop writing until space is freed rather
                    # than hammer a failing disk every tick.
                    self.paused_until = time.monotonic() + STORAGE_PAUSE_SECONDS
                    log.error("%s: storage is full or failing (%s); pausing all jobs for %d s", name, exc,
                              STORAGE_PAUSE_SECONDS)
                elif kind.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc):
                    log.warning("%s: database busy (%s); will retry on the next tick", name, exc)
                else:
                    log.error("%s failed: database error %s: %s", name, kind or "?", exc)
            except Exception as exc:
                log.error("%s failed: %s: %s", name, type(exc).__name__, exc)
                log.debug("%s traceback", name, exc_info=True)

        return run

    def cycle_job(self) -> None:
        with self._store() as store:
            report = run_cycle(self.ctx, store, stop=self.stop, executor=self.pool,
                               poll=self.role in ("all", "poll"), process=self.role in ("all", "process"))
        p, q = report.poll, report.process
        if p.feeds or q.processed or q.retried:
            log.info("cycle: %d feeds polled (%d ok, %d not modified, %d failed), %d new items, "
                     "%d entries processed, %d tagged, %d to retry; %d internal errors", p.feeds, p.ok,
                     p.not_modified, p.failed, p.new_items, q.processed, q.tagged, q.retried,
                     p.unit_failures + q.unit_failures)

    def digest_job(self) -> None:
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
        cycle = self._guarded("cycle", self.cycle_job)
        digest = self._guarded("digest", self.digest_job)
        if self.role != "digest":
            add(cycle, IntervalTrigger(seconds=self.tick_seconds), id="cycle", next_run_time=now)
        if self.role in ("all", "digest"):
            # The cron trigger keeps the local wall-clock time across DST; the interval job retries
            # failed deliveries and catches up a digest missed while we were down.
            add(digest, CronTrigger(hour=hour, minute=minute, timezone=self.ctx.config.tz), id="digest")
            add(digest, IntervalTrigger(minutes=5), id="digest-check", next_run_time=now)
            add(self._guarded("retention", self.retention_job), IntervalTrigger(hours=24), id="retention",
                next_run_time=now)

    def _heartbeat(self) -> None:
        """Renew this process's leases well before they run out (PostgreSQL only).

        A thread of its own, not a scheduler job: long cycles must not starve it, or the leases of
        a live process would expire and its work be taken over."""
        interval = max(self.ctx.config.storage.lease_seconds / 3, 0.5)
        while True:
            try:
                with open_store(self.ctx.config) as store:
                    store.heartbeat(self.role)
            except Exception as exc:
                log.warning("heartbeat failed: %s: %s", type(exc).__name__, exc)
            if self.stop.wait(interval):
                return

    def run(self) -> int:
        # Many processes share a PostgreSQL store through leases; a SQLite file has one service.
        sqlite = self.ctx.config.backend == "sqlite"
        with InstanceLock(self.ctx.config.db_path) if sqlite else nullcontext():
            self._install_signal_handlers()
            # Migrate and sync sources once, before jobs open stores side by side: concurrent first
            # opens of a new database race on creating the schema.
            with self._store() as store:
                self.guard = StoreGuard.take(self.ctx.config, store)
            self.pool = make_pool(self.ctx.config.topic_files)
            heartbeat = threading.Thread(target=self._heartbeat, daemon=True, name="heartbeat")
            if not sqlite:
                heartbeat.start()
            if self.metrics_port:
                serve_metrics(self.ctx.config, self.metrics_port)
                log.info("metrics on http://127.0.0.1:%d/metrics", self.metrics_port)
            self._schedule()
            self.scheduler.start()
            log.info("newswatch running (%s): %d sources, database %s", self.role, len(self.ctx.sources),
                     self.ctx.config.storage.url or self.ctx.config.db_path)
            self.stop.wait()
            log.info("stopping")
            stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
            stopper.start()
            stopper.join(SHUTDOWN_GRACE_SECONDS)
            if stopper.is_alive():
                # A job stuck in a C call; nothing is lost by leaving it (entries stay pending).
                log.warning("a job did not stop within %.0f s; exiting anyway", SHUTDOWN_GRACE_SECONDS)
            self.pool.shutdown(wait=False, cancel_futures=True)
            if not sqlite:
                heartbeat.join(1.0)  # it wakes on `stop`; only a renewal in flight keeps it
                try:
                    with open_store(self.ctx.config) as store:
                        store.release_leases()
                except Exception as exc:  # they expire on their own
                    log.warning("could not hand back leases: %s: %s", type(exc).__name__, exc)
            log.info("stopped")
        return self.exit_code

    def _install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: object) -> None:
            log.info("received %s", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
