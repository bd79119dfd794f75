"""A process pool for the CPU-bound stages (extract, tag), so both cores work while the event
loop keeps the network busy.

Workers build their own Tagger once, from the topic files, instead of receiving it with every
page: compiled rules are large to pickle and identical for every call. A worker that dies is a
failed attempt for the pages it held, never the end of extraction: the pool replaces itself.

A watchdog bounds each unit: a page whose analysis outlasts `unit_seconds` (a pathological input
nothing foresaw; patterns are linear-time, see `pipeline.regex`) has its workers killed and the pool
replaced; the unit is recorded as an internal timeout and the other units in flight are resubmitted.
No worker outlives the service: each dies with the fork server that started it (which dies with
the service), and a thread in each also watches for the service going away.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from contextlib import suppress
from multiprocessing import forkserver
from pathlib import Path

from pipeline.errors import StageError, UnitFailure
from pipeline.extract import extract_article
from pipeline.models import Article, ExtractionRules, Tag
from pipeline.topics import Tagger, load_topics

log = logging.getLogger(__name__)
_tagger: Tagger | None = None
_starts: multiprocessing.SimpleQueue | None = None  # where a worker says when it starts a unit
ORPHAN_CHECK_SECONDS = 0.5


def _exit_when_orphaned(service_pid: int) -> None:
    """A SIGKILLed service cannot shut its pool down, and a worker waiting on the call queue never
    sees EOF (it holds a copy of the queue's write end); left alone it would live for ever, and a
    service restarted by systemd or cron would pile up a pool of orphans per crash."""
    parent = os.getppid()
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        try:
            os.kill(service_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass  # the pid was reused by another user's process: the parent check below decides
        if os.getppid() != parent:
            os._exit(0)


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when its parent (the fork server) dies: unlike the watching
    thread, that works while the worker is stuck in C code that holds the GIL.

    The fork server lives until every holder of its "alive" pipe is gone, and each child it forks
    is handed one end: a stuck worker would keep its own parent alive. A worker never forks, so
    it lets go of that end, and the fork server ends with the service."""
    with suppress(OSError, AttributeError):  # not Linux: the watching thread has to do
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    server = getattr(forkserver, "_forkserver", None)
    alive = getattr(server, "_forkserver_alive_fd", None)
    if alive is not None:
        with suppress(OSError):
            os.close(alive)
        server._forkserver_alive_fd = None


def _init_worker(topic_files: list[str], service_pid: int | None = None,
                 starts: multiprocessing.SimpleQueue | None = None) -> None:
    global _tagger, _starts
    _starts = starts
    if service_pid is not None:
        _die_with_parent()
        threading.Thread(target=_exit_when_orphaned, args=(service_pid,), daemon=True, name="orphan-watch").start()
    _tagger = Tagger(load_topics([Path(f) for f in topic_files]))


def analyse(page: bytes, url: str, content_type: str | None, rules: ExtractionRules | None,
            boilerplate: frozenset[str], summary: str = "", tagger: Tagger | None = None,
            ) -> tuple[Article, list[Tag]]:
    """Extract then tag one page. Pure: the same input always gives the same output.

    `summary` is the feed entry's summary: where a page offers several candidate texts, the slow
    path of extraction prefers the one about the feed's subject.
    What raises comes out as a StageError naming the stage ("extract" or "tag"): the caller records
    it against the entry, and plain strings pickle back from a worker whatever the exception was.
    """
    tagger = tagger or _tagger
    assert tagger is not None, "analyse() in a worker needs _init_worker first"
    try:
        article = extract_article(page, url, rules, content_type=content_type, known_boilerplate=boilerplate,
                                  summary=summary)
    except Exception as exc:
        raise StageError(UnitFailure.of("extract", exc)) from None
    try:
        return article, tagger.tag(article.title, article.text, article.language)
    except Exception as exc:
        raise StageError(UnitFailure.of("tag", exc)) from None


def _timed(token: int, fn: Callable, *args: object) -> object:
    """Run one unit in a worker, first telling the service when it started: its budget counts from
    there, not from when it was queued behind others or behind a worker still starting. A
    SimpleQueue writes at once, before the unit can hold the GIL; CLOCK_MONOTONIC is system-wide."""
    if _starts is not None:
        _starts.put((token, time.monotonic()))
    return fn(*args)


class UnitTimeout(Exception):
    """A unit of work outlasted its budget; its worker was killed and replaced."""


class WorkerPool(Executor):
    """A process pool that replaces itself when it breaks, and kills a unit that hangs.

    A worker that dies (a page that crashes a C extension, the OOM killer) breaks a
    ProcessPoolExecutor for good: every later submit fails. Left so, one poison page would stop all
    extraction until a restart; here it costs the pages in flight at that moment one attempt each
    (they are retried like any failed entry) and the next submit starts a fresh pool.
    """

    def __init__(self, make: Callable[[], ProcessPoolExecutor], unit_seconds: float | None = None,
                 starts: multiprocessing.SimpleQueue | None = None):
        self._make = make
        self._pool = make()
        self._lock = threading.Lock()
        self.unit_seconds = unit_seconds
        self.generation = 0  # how many times a hung unit's pool was replaced
        self._closing: list = []  # the workers of a pool being closed
        self._closed = False  # once closing, a hang or a broken pool no longer brings a new pool
        self._tokens = itertools.count()
        self._started: dict[int, float] = {}  # unit token -> when a worker started it (monotonic)
        if starts is not None:
            threading.Thread(target=self._read_starts, args=(starts,), daemon=True, name="unit-starts").start()

    def _read_starts(self, starts: multiprocessing.SimpleQueue) -> None:
        while True:
            token, at = starts.get()
            self._started[token] = at

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenExecutor:
                if self._closed:
                    raise RuntimeError("the worker pool is closed: the service is stopping") from None
                log.error("a worker process died; starting a new pool")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._make()
                return self._pool.submit(fn, *args, **kwargs)

    async def run_unit(self, fn: Callable, /, *args: object) -> object:
        """`fn(*args)` in a worker, ended `unit_seconds` after a worker started it (raising
        UnitTimeout). A unit that lost its worker because another unit hung is run again rather
        than charged a failure."""
        for _ in range(3):
            generation, token = self.generation, next(self._tokens)
            work = asyncio.wrap_future(self.submit(_timed, token, fn, *args))
            try:
                while True:
                    started = self._started.get(token)
                    left = self.unit_seconds if started is None or self.unit_seconds is None else (
                        started + self.unit_seconds - time.monotonic())
                    if left is not None and left <= 0:
                        self.replace(generation)
                        raise UnitTimeout(f"took longer than {self.unit_seconds:g} s; its worker was replaced")
                    try:
                        return await asyncio.wait_for(asyncio.shield(work), left)
                    except TimeoutError:
                        continue  # not started yet, or started later than we looked: look again
            except BrokenExecutor:
                if self.generation == generation:
                    raise
            finally:
                self._started.pop(token, None)
        raise UnitTimeout("its worker was replaced three times while it waited")

    def replace(self, generation: int) -> None:
        """Kill the pool that ran a hung unit and start a new one (once per hang, however many
        units notice it). Which worker holds the unit is not known, so all of them go."""
        with self._lock:
            if generation != self.generation:
                return
            self.generation += 1
            old = self._pool
            # After close() a unit still waiting in a job thread that did not stop in time may time
            # out: a new pool then would start workers nobody kills, and the interpreter's exit
            # would wait on them for ever (a unit that hangs again hangs the exit).
            if not self._closed:
                self._pool = self._make()
        log.error("a unit of work outlasted its %g s budget; its workers were killed%s", self.unit_seconds,
                  " (the pool is closing)" if self._closed else " and replaced")
        _kill(_processes(old))
        old.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def close(self, grace: float) -> None:
        """Stop taking work, let the units in flight finish for up to `grace` seconds, kill what is
        left, and wait for the pool's own thread: nothing may be left for the interpreter's exit
        handlers, which would otherwise trip over a half-closed pool."""
        with self._lock:
            self._closed = True
            pool = self._pool
        # shutdown() forgets its processes and thread; what we wait for and kill is taken first.
        self._closing = _processes(pool)
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for process in self._closing:
            process.join(max(0.0, deadline - time.monotonic()))
        _kill(self._closing)
        for process in self._closing:
            process.join(1.0)
        if manager is not None:
            manager.join(max(1.0, deadline - time.monotonic()))

    def kill(self) -> None:
        """Kill every worker now. Takes no lock: a signal handler calls it."""
        _kill([*_processes(self._pool), *self._closing])

    def __getattr__(self, name: str) -> object:  # the rest (e.g. the benchmark's _processes) is the pool's
        return getattr(self._pool, name)


def _processes(pool: ProcessPoolExecutor) -> list:
    return list((getattr(pool, "_processes", None) or {}).values())


def _kill(processes: list) -> None:
    for process in processes:
        if process.exitcode is None:
            with suppress(OSError, ValueError):  # it ended meanwhile
                process.kill()


def make_pool(topic_files: list[Path], workers: int | None = None, unit_seconds: float | None = None) -> WorkerPool:
    def make() -> ProcessPoolExecutor:
        # forkserver: the service has threads (scheduler, event loop) that a plain fork would copy mid-state.
        return ProcessPoolExecutor(
            max_workers=workers or os.cpu_count() or 1,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_init_worker,
            initargs=([str(f) for f in topic_files], service_pid, starts),
        )

    service_pid = os.getpid()
    starts = multiprocessing.get_context("forkserver").SimpleQueue() if unit_seconds else None
    return WorkerPool(make, unit_seconds, starts)
