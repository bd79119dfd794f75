"""`newswatch run`: the long-running service.

Jobs: a poll-and-process cycle every tick (each feed has its own next-poll time in the store, so
the tick only sets the granularity), a digest check every tick (at most a minute) that delivers
whatever is due by the local wall clock, catching up missed or failed deliveries, and daily
retention. Each job is a thread paced by the monotonic clock, so a wall-clock step costs at most
one tick: a step back would otherwise hold every job for as long as the step. The cycle job also
watches the wall clock; when it steps back, the times planned in the store move with it.

Stopping is a state, not an error: the first SIGTERM or SIGINT lets the units in flight finish
(or hand back their leases), then closes the jobs, the worker pool and the leases in that order
and exits 0 with one log line; a second signal ends the process at once, workers included.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta

from pipeline.context import Context
from pipeline.digest import deliver_due
from pipeline.store import Store, open_store, utcnow

from .cycle import run_cycle
from .guard import StoreChanged, StoreGuard
from .lock import InstanceLock
from .metrics import serve_metrics
from .schedule import ClockWatch
from .workers import WorkerPool, make_pool

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 8.0  # SIGTERM must end us within 10 s
STORAGE_PAUSE_SECONDS = 300
DIGEST_CHECK_SECONDS = 60.0  # a digest goes out within this long of its local time
RETENTION_SECONDS = 86_400.0
ROLES = ("all", "poll", "process", "digest")


class Service:
    def __init__(self, ctx: Context, tick_seconds: float = 60.0, metrics_port: int | None = None,
                 role: str = "all", *, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = utcnow):
        """`monotonic` and `wall` are the two clocks: the first paces the jobs, the second says what
        time it is (digests, the store's plans). Tests pass their own to step one without the other."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        self.ctx = ctx
        self.role = role
        self.tick_seconds = tick_seconds
        self.metrics_port = metrics_port
        self.monotonic, self.wall = monotonic, wall
        self.clock_watch = ClockWatch(wall, monotonic)
        self.paused_until = 0.0
        self.stop = threading.Event()
        self.signal_name: str | None = None  # the signal that asked us to stop
        self.pool: WorkerPool | None = None
        self._threads: list[threading.Thread] = []
        self.exit_code = 0
        self.guard: StoreGuard | None = None
        self.store_problem: str | None = None
        self._guard_lock = threading.Lock()

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
                    self.signal_name = "a change of store"
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
            if self.stop.is_set() or self.monotonic() < self.paused_until or not self._store_usable():
                return
            try:
                job()
            except sqlite3.OperationalError as exc:
                kind = getattr(exc, "sqlite_errorname", "") or ""
                if kind.startswith(("SQLITE_FULL", "SQLITE_IOERR")) or "full" in str(exc):
                    # The transaction was rolled back; we stop writing until space is freed rather
                    # than hammer a failing disk every tick.
                    self.paused_until = self.monotonic() + STORAGE_PAUSE_SECONDS
                    log.error("%s: storage is full or failing (%s); pausing all jobs for %d s", name, exc,
                              STORAGE_PAUSE_SECONDS)
                elif kind.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc):
                    log.warning("%s: database busy (%s); will retry on the next tick", name, exc)
                else:
                    log.error("%s failed: database error %s: %s", name, kind or "?", exc)
            except Exception as exc:
                if self.stop.is_set():  # torn down under it by the stop: not a failure of the job
                    log.debug("%s ended by the stop: %s: %s", name, type(exc).__name__, exc, exc_info=True)
                    return
                log.error("%s failed: %s: %s", name, type(exc).__name__, exc)
                log.debug("%s traceback", name, exc_info=True)

        return run

    def follow_clock(self) -> None:
        """After the wall clock stepped back, move the store's planned times back with it: a feed
        polled under a clock a day ahead would otherwise wait a day. A step forward needs nothing:
        what was planned is simply due sooner."""
        step = self.clock_watch.step()
        if not step:
            return
        with self._store() as store:
            moved = store.shift_schedule(self.wall(), timedelta(seconds=step)) if step < 0 else 0
            store.log_event("clock_step", f"the wall clock stepped {step:+.0f} s; {moved} planned times moved")
        log.warning("the wall clock stepped %+.0f s; %d planned polls and retries moved with it", step, moved)

    def cycle_job(self) -> None:
        self.follow_clock()
        with self._store() as store:
            report = run_cycle(self.ctx, store, stop=self.stop, executor=self.pool,
                               poll=self.role in ("all", "poll"), process=self.role in ("all", "process"))
        p, q = report.poll, report.process
        if (p.feeds or q.processed or q.retried) and not report.stopped:
            log.info("cycle: %d feeds polled (%d ok, %d not modified, %d failed), %d new items, "
                     "%d entries processed, %d tagged, %d to retry; %d internal errors", p.feeds, p.ok,
                     p.not_modified, p.failed, p.new_items, q.processed, q.tagged, q.retried,
                     p.unit_failures + q.unit_failures)

    def digest_job(self) -> None:
        with self._store() as store:
            for outcome in deliver_due(store, self.ctx.config, self.wall()):
                log.info("digest: %s", outcome)
            if self.ctx.config.channels:
                from pipeline.alerts import deliver_digests, send_due

                # The digest channels' digests, then what else is owed: retries, held alerts once
                # the quiet hours are over. Each logs its own outcomes.
                deliver_digests(store, self.ctx.config, self.wall())
                send_due(store, self.ctx.config, self.wall())

    def retention_job(self) -> None:
        days = self.ctx.config.storage.keep_html_days
        if days:
            with self._store() as store:
                dropped = store.prune_html(timedelta(days=days))
            if dropped:
                log.info("retention: dropped the raw HTML of %d articles older than %d days", dropped, days)

    def jobs(self) -> list[tuple[str, Callable[[], None], float]]:
        """(name, job, seconds between runs) for this role."""
        jobs = []
        if self.role != "digest":
            jobs.append(("cycle", self.cycle_job, self.tick_seconds))
        if self.role in ("all", "digest"):
            jobs.append(("digest", self.digest_job, min(self.tick_seconds, DIGEST_CHECK_SECONDS)))
            jobs.append(("retention", self.retention_job, RETENTION_SECONDS))
        return jobs

    def _every(self, name: str, job: Callable[[], None], seconds: float) -> None:
        """Run `job` now and then every `seconds` of monotonic time until the stop. A run that
        overruns its tick is followed by the next at once, never by a burst of missed ones."""
        run = self._guarded(name, job)
        due = self.monotonic()
        while not self.stop.is_set():
            wait = due - self.monotonic()
            if wait > 0:
                self.stop.wait(min(wait, seconds))
                continue
            run()
            due = max(due + seconds, self.monotonic())

    def _heartbeat(self) -> None:
        """Renew this process's leases well before they run out (PostgreSQL only).

        A thread of its own, not a job: long cycles must not starve it, or the leases of a live
        process would expire and its work be taken over."""
        interval = max(self.ctx.config.storage.lease_seconds / 3, 0.5)
        while True:
            try:
                with open_store(self.ctx.config) as store:
                    store.heartbeat(self.role)
            except Exception as exc:
                log.warning("heartbeat failed: %s: %s", type(exc).__name__, exc)
            if self.stop.wait(interval):
                return

    def start(self) -> None:
        """Start the jobs' threads (for `run`, and for tests that drive the service in-process)."""
        for name, job, seconds in self.jobs():
            thread = threading.Thread(target=self._every, args=(name, job, seconds), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> list[str]:
        """Stop in order: the jobs (a cycle stops at its next unit boundary and records itself
        `stopped`), then the worker pool, whose workers finish their unit or are killed at the
        deadline. Returns the names of jobs that did not stop in time."""
        self.stop.set()
        deadline = self.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - self.monotonic()))
        stuck = [t.name for t in self._threads if t.is_alive()]
        if self.pool is not None:
            self.pool.close(max(0.5, deadline - self.monotonic()))
        return stuck

    def run(self) -> int:
        # Many processes share a PostgreSQL store through leases; a SQLite file has one service.
        sqlite = self.ctx.config.backend == "sqlite"
        with InstanceLock(self.ctx.config.db_path) if sqlite else nullcontext():
            self._install_signal_handlers()
            # Migrate and sync sources once, before jobs open stores side by side: concurrent first
            # opens of a new database race on creating the schema.
            with self._store() as store:
                self.guard = StoreGuard.take(self.ctx.config, store)
            self.pool = make_pool(self.ctx.config.topic_files,
                                  unit_seconds=self.ctx.config.schedule.unit_timeout_seconds)
            heartbeat = threading.Thread(target=self._heartbeat, daemon=True, name="heartbeat")
            if not sqlite:
                heartbeat.start()
            if self.metrics_port:
                serve_metrics(self.ctx.config, self.metrics_port)
                log.info("metrics on http://127.0.0.1:%d/metrics", self.metrics_port)
            self.start()
            log.info("newswatch running (%s): %d sources, database %s", self.role, len(self.ctx.sources),
                     self.ctx.config.storage.url or self.ctx.config.db_path)
            self.stop.wait()
            started = self.monotonic()
            stuck = self.close()
            released = ""
            if not sqlite:
                heartbeat.join(1.0)  # it wakes on `stop`; only a renewal in flight keeps it
                try:
                    with open_store(self.ctx.config) as store:
                        store.release_leases()
                    released = ", leases handed back"
                except Exception as exc:  # they expire on their own
                    released = f", leases left to expire ({type(exc).__name__}: {exc})"
            # Nothing is lost by leaving a stuck job: entries stay pending and are taken up next time.
            left = f", left {' and '.join(stuck)} unfinished" if stuck else ""
            log.info("stopped on %s in %.1f s%s%s", self.signal_name or "request", self.monotonic() - started,
                     released, left)
        return self.exit_code

    def _install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: object) -> None:
            if self.stop.is_set():
                # The second signal: someone will not wait. The workers go with us, never orphaned.
                if self.pool is not None:
                    self.pool.kill()
                os.write(2, f"newswatch: second {signal.Signals(signum).name}: exiting at once\n".encode())
                os._exit(128 + signum)
            self.signal_name = signal.Signals(signum).name
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
