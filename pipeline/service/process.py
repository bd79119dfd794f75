"""Work the queue: fetch each pending entry's page, extract it, tag it, store the result.

Pages are fetched concurrently; each is analysed (extract + tag) as soon as it arrives, in a
process pool when one is given, so network waits and CPU work overlap. Results are written to the
store one at a time, by this coroutine only.

An entry is the unit of work: an unexpected exception while fetching, extracting, tagging or
storing it is caught at the entry's boundary and recorded against it as an "internal" failure of
that stage; the entry is retried with backoff like a page that failed, and the batch goes on. Only
the database itself failing ends the run.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.config import Config
from pipeline.errors import StageError, UnitFailure
from pipeline.extract import learn_boilerplate
from pipeline.fetch import PAGE_ACCEPT, HttpClient
from pipeline.models import Article, FetchResult, Source, Tag
from pipeline.store import PendingEntry, Store, utcnow
from pipeline.topics import Tagger

from .schedule import entry_retry_at
from .workers import UnitTimeout, WorkerPool, analyse

log = logging.getLogger(__name__)
_PERMANENT_STATUSES = (401, 403, 404, 410, 451)
CHUNK_WINDOWS = 10  # entries read from the queue per run, in windows of `process_batch`
# When each host's next page may start (monotonic), kept across runs and cycles so that a source's
# delay holds from one cycle to the next too. Keyed by host and port.
_host_ready_at: dict[tuple[str, int | None], float] = {}
MAX_HOSTS_KEPT = 10_000


def _host_key(entry: PendingEntry) -> tuple[str, int | None]:
    if entry.link_problem:
        return ("", None)
    try:
        parts = urlsplit(entry.url)
        return ((parts.hostname or "").lower(), parts.port)
    except ValueError:  # the client reports the bad URL; here it only needs a bucket
        return (entry.url, None)


def _forget_passed_hosts() -> None:
    if len(_host_ready_at) > MAX_HOSTS_KEPT:
        now = time.monotonic()
        for key in [k for k, at in _host_ready_at.items() if at <= now]:
            del _host_ready_at[key]


@dataclass
class ProcessReport:
    processed: int = 0
    tagged: int = 0
    retried: int = 0
    fallback: int = 0  # page unavailable for good: the feed's own title and summary were used
    failed: int = 0  # given up: even the feed's own text could not be stored
    unit_failures: int = 0  # attempts that raised unexpectedly (also counted in retried, fallback or failed)

    def add(self, other: ProcessReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Outcome:
    entry: PendingEntry
    fetched: FetchResult | None = None  # None when the fetch itself raised
    article: Article | None = None
    tags: list[Tag] | None = None
    failure: UnitFailure | None = None  # an unexpected exception (a bug, a worker crash), not the page's fault


class Processor:
    def __init__(self, store: Store, config: Config, sources: dict[str, Source], tagger: Tagger,
                 executor: Executor | None = None):
        self.store, self.config, self.sources, self.tagger = store, config, sources, tagger
        self.executor = executor
        self._boilerplate: dict[str, frozenset[str]] = {}

    def boilerplate(self, source: str) -> frozenset[str]:
        """Lines that recur across this source's pages: what the store learned before, plus what its
        recent articles show now (learned once per processor, kept for good)."""
        if source not in self._boilerplate:
            known = self.store.boilerplate(source)
            new = learn_boilerplate(self.store.recent_texts(source)) - known
            if new:
                self.store.add_boilerplate(source, new)
                log.info("learned %d recurring boilerplate lines for %s", len(new), source)
            self._boilerplate[source] = known | new
        return self._boilerplate[source]

    async def _analyse(self, entry: PendingEntry, fetched: FetchResult) -> _Outcome:
        source = self.sources.get(entry.source)
        try:
            args = (fetched.body, fetched.final_url, fetched.content_type or None, source.rules if source else None,
                    self.boilerplate(entry.source), entry.summary)
            if self.executor is None:
                article, tags = await asyncio.to_thread(analyse, *args, tagger=self.tagger)
            elif isinstance(self.executor, WorkerPool):  # the service's: a hung page is killed, not waited for
                article, tags = await self.executor.run_unit(analyse, *args)
            else:
                loop = asyncio.get_running_loop()
                article, tags = await loop.run_in_executor(self.executor, functools.partial(analyse, *args))
        except UnitTimeout as exc:
            return _Outcome(entry, fetched, failure=UnitFailure("extract", "timeout", str(exc)))
        except Exception as exc:  # analyse() labels its own stage; what is left (a dead worker) is extraction's
            if self.store.is_storage_failure(exc):  # learning boilerplate writes to the store
                raise
            return _Outcome(entry, fetched, failure=UnitFailure.of("extract", exc))
        return _Outcome(entry, fetched, article, tags)

    async def run(self, limit: int | None = None, progress: Callable[[], None] | None = None) -> ProcessReport:
        """Process the entries due now (up to `limit`), keeping `process_batch` of them in flight:
        a new fetch starts as soon as one finishes, so no slow page holds the others back.

        A host's next page starts only once its delay (the source's `min_delay`, or the configured
        `min_host_delay`) has passed since the last one started. While other pages are in flight
        the run waits for it; with nothing else to do it waits at most `min_host_delay`, and a
        longer delay ends the run with the host's pages still pending: the cycle goes on to poll
        every other feed instead of sleeping on one source's delay, and a later cycle takes them."""
        report = ProcessReport()
        window = self.config.schedule.process_batch
        entries = self.store.pending_entries(limit or window * CHUNK_WINDOWS)
        if not entries:
            return report
        idle_wait = self.config.network.min_host_delay
        buckets: dict[tuple[str, int | None], deque[PendingEntry]] = {}
        for entry in entries:
            buckets.setdefault(_host_key(entry), deque()).append(entry)
        async with HttpClient(self.config.network) as client:
            async def one(entry: PendingEntry) -> _Outcome:
                if entry.link_problem:  # no page to fetch: the feed's own text is all there is
                    return _Outcome(entry, FetchResult("", "", 0, error=entry.link_problem, error_kind="no_link"))
                source = self.sources.get(entry.source)
                try:
                    fetched = await client.get(entry.url, accept=PAGE_ACCEPT,
                                               min_delay=source.min_delay if source else None,
                                               respect_robots=self.config.network.obey_robots)
                except Exception as exc:
                    return _Outcome(entry, failure=UnitFailure.of("fetch", exc))
                return await self._analyse(entry, fetched) if fetched.ok else _Outcome(entry, fetched)

            in_flight: set[asyncio.Future] = set()

            def start_ready() -> float | None:
                """Start pages of hosts whose delay has passed, one host after another, while the
                window has room; returns the seconds until the next waiting host is ready."""
                started = True
                while started and len(in_flight) < window:
                    started, now = False, time.monotonic()
                    for key in list(buckets):
                        if len(in_flight) >= window:
                            break
                        if _host_ready_at.get(key, 0.0) > now:
                            continue
                        entry = buckets[key].popleft()
                        if not buckets[key]:
                            del buckets[key]
                        _host_ready_at[key] = now + (0.0 if entry.link_problem else self._delay(entry))
                        in_flight.add(asyncio.ensure_future(one(entry)))
                        started = True
                if not buckets:
                    return None
                return max(0.0, min(_host_ready_at.get(key, 0.0) for key in buckets) - time.monotonic())

            try:
                while buckets or in_flight:
                    wait = start_ready()
                    if not in_flight:
                        if wait is None or wait > idle_wait:
                            log.info("%d pages left for a later cycle: their hosts' delay has not passed",
                                     sum(len(b) for b in buckets.values()))
                            break
                        await asyncio.sleep(wait)
                        continue
                    done, in_flight = await asyncio.wait(
                        in_flight, timeout=wait if len(in_flight) < window else None,
                        return_when=asyncio.FIRST_COMPLETED)
                    # Whatever finished meanwhile is written in one transaction: a commit per page
                    # costs more than the rest of the bookkeeping and stalls the event loop.
                    with self.store.transaction():
                        for task in done:
                            self._record(task.result(), report)
                    if progress:
                        for _ in done:
                            progress()
            finally:
                # A failed write (a full disk) ends the run: fetches still in flight must stop with
                # it, not run on against a closed client.
                for task in in_flight:
                    task.cancel()
        _forget_passed_hosts()
        return report

    def _delay(self, entry: PendingEntry) -> float:
        source = self.sources.get(entry.source)
        if source is not None and source.min_delay is not None:
            return source.min_delay
        return self.config.network.min_host_delay

    def _record(self, outcome: _Outcome, report: ProcessReport) -> None:
        """Store one entry's outcome; whatever raises costs this entry alone, never the batch."""
        failure = outcome.failure
        if failure is None:
            step = ProcessReport()
            try:
                with self.store.transaction():  # a savepoint: an entry that raises leaves nothing half-written
                    self._store_outcome(outcome, step)
            except Exception as exc:
                if self.store.is_storage_failure(exc):
                    raise
                failure = UnitFailure.of("store", exc)
            else:
                report.add(step)
                return
        self._record_internal(outcome.entry, failure, report)

    def _tag(self, title: str, text: str, language: str | None) -> list[Tag]:
        try:
            return self.tagger.tag(title, text, language)
        except Exception as exc:
            raise StageError(UnitFailure.of("tag", exc)) from exc

    def _store_outcome(self, outcome: _Outcome, report: ProcessReport) -> None:
        entry, fetched = outcome.entry, outcome.fetched
        assert fetched is not None  # only an outcome with a failure has no fetch result
        if outcome.article is not None:
            article, tags = outcome.article, outcome.tags or []
            if article.empty and entry.summary:
                # No article body on the page (a video page, a paywall): tag what the feed said.
                article.text = entry.summary
                tags = self._tag(article.title or entry.title, article.text, article.language)
            article.title = article.title or entry.title
            article.published = article.published or entry.feed_published
            self.store.complete_entry(entry.id, article, tags, html=fetched.body, content_type=fetched.content_type,
                                      max_age=self.config.max_age(self.sources.get(entry.source)))
        else:
            kind = fetched.error_kind or "http"
            message = fetched.error or "unknown error"
            permanent = fetched.status in _PERMANENT_STATUSES or kind in ("robots", "no_link")
            retry_at = None if permanent else entry_retry_at(utcnow(), entry.attempts)
            self.store.log_event(f"page_{kind}", f"{entry.url or entry.title}: {message}", source=entry.source,
                                 entry_id=entry.id)
            if retry_at:
                log.warning("page failed, will retry: %s %s: %s: %s", entry.source, entry.url, kind, message)
                self.store.fail_entry(entry.id, f"{kind}: {message}", retry_at, kind=kind, stage="fetch")
                report.retried += 1
                return
            log.warning("page unavailable, using the feed's text: %s %s: %s: %s", entry.source,
                        entry.url or repr(entry.title), kind, message)
            tags = self._store_from_feed(entry, f"page unavailable: {kind}: {message}")
            report.fallback += 1
        report.processed += 1
        report.tagged += bool(tags)

    def _store_from_feed(self, entry: PendingEntry, reason: str) -> list[Tag]:
        """The entry stored from the feed's own title and summary, when its page will never do."""
        article = Article(title=entry.title, text=entry.summary, published=entry.feed_published, reason=reason)
        tags = self._tag(article.title, article.text, None)
        self.store.complete_entry(entry.id, article, tags, max_age=self.config.max_age(self.sources.get(entry.source)))
        return tags

    def _record_internal(self, entry: PendingEntry, failure: UnitFailure, report: ProcessReport) -> None:
        """An entry that raised: retried with backoff like a failing page, then stored from the feed's
        text; if even that raises, given up as failed. Status shows the stage and the exception."""
        report.unit_failures += 1
        name = entry.url or repr(entry.title)  # an entry without a usable link has no URL to name it by
        self.store.log_event("entry_internal", f"{name}: {failure}", source=entry.source, entry_id=entry.id)
        retry_at = entry_retry_at(utcnow(), entry.attempts)
        if retry_at:
            log.error("entry failed, will retry: %s %s: internal: %s", entry.source, name, failure)
            self.store.fail_entry(entry.id, f"{failure.kind}: {failure}", retry_at, kind=failure.kind,
                                  stage=failure.stage)
            report.retried += 1
            return
        try:
            with self.store.transaction():
                tags = self._store_from_feed(entry, f"internal error: {failure}")
        except Exception as exc:
            if self.store.is_storage_failure(exc):
                raise
            last = UnitFailure.of("store", exc)
            log.error("entry given up: %s %s: internal: %s", entry.source, name, last)
            self.store.fail_entry(entry.id, f"{last.kind}: {last}", None, kind=last.kind, stage=last.stage)
            report.failed += 1
            return
        log.error("entry failed for good, using the feed's text: %s %s: internal: %s", entry.source, name, failure)
        report.fallback += 1
        report.processed += 1
        report.tagged += bool(tags)
