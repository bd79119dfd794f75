"""A process pool for the CPU-bound stages (extract, tag), so both cores work while the event
loop keeps the network busy.

Workers build their own Tagger once, from the topic files, instead of receiving it with every
page: compiled rules are large to pickle and identical for every call. A worker that dies is a
failed attempt for the pages it held, never the end of extraction: the pool replaces itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from pathlib import Path

from pipeline.errors import StageError, UnitFailure
from pipeline.extract import extract_article
from pipeline.models import Article, ExtractionRules, Tag
from pipeline.topics import Tagger, load_topics

log = logging.getLogger(__name__)
_tagger: Tagger | None = None
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


def _init_worker(topic_files: list[str], service_pid: int | None = None) -> None:
    global _tagger
    if service_pid is not None:
        threading.Thread(target=_exit_when_orphaned, args=(service_pid,), daemon=True, name="orphan-watch").start()
    _tagger = Tagger(load_topics([Path(f) for f in topic_files]))


def analyse(page: bytes, url: str, content_type: str | None, rules: ExtractionRules | None,
            boilerplate: frozenset[str], tagger: Tagger | None = None) -> tuple[Article, list[Tag]]:
    """Extract then tag one page. Pure: the same input always gives the same output.

    What raises comes out as a StageError naming the stage ("extract" or "tag"): the caller records
    it against the entry, and plain strings pickle back from a worker whatever the exception was.
    """
    tagger = tagger or _tagger
    assert tagger is not None, "analyse() in a worker needs _init_worker first"
    try:
        article = extract_article(page, url, rules, content_type=content_type, known_boilerplate=boilerplate)
    except Exception as exc:
        raise StageError(UnitFailure.of("extract", exc)) from None
    try:
        return article, tagger.tag(article.title, article.text, article.language)
    except Exception as exc:
        raise StageError(UnitFailure.of("tag", exc)) from None


class WorkerPool(Executor):
    """A process pool that replaces itself when it breaks.

    A worker that dies (a page that crashes a C extension, the OOM killer) breaks a
    ProcessPoolExecutor for good: every later submit fails. Left so, one poison page would stop all
    extraction until a restart; here it costs the pages in flight at that moment one attempt each
    (they are retried like any failed entry) and the next submit starts a fresh pool.
    """

    def __init__(self, make: Callable[[], ProcessPoolExecutor]):
        self._make = make
        self._pool = make()
        self._lock = threading.Lock()

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenExecutor:
                log.error("a worker process died; starting a new pool")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._make()
                return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def __getattr__(self, name: str) -> object:  # the rest (e.g. the benchmark's _processes) is the pool's
        return getattr(self._pool, name)


def make_pool(topic_files: list[Path], workers: int | None = None) -> WorkerPool:
    def make() -> ProcessPoolExecutor:
        # forkserver: the service has threads (scheduler, event loop) that a plain fork would copy mid-state.
        return ProcessPoolExecutor(
            max_workers=workers or os.cpu_count() or 1,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_init_worker,
            initargs=([str(f) for f in topic_files], service_pid),
        )

    service_pid = os.getpid()
    return WorkerPool(make)
