"""Work the queue: fetch each pending entry's page, extract it, tag it, store the result.

Pages are fetched concurrently; each is analysed (extract + tag) as soon as it arrives, in a
process pool when one is given, so network waits and CPU work overlap. Results are written to the
store one at a time, by this coroutine only.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from pipeline.config import Config
from pipeline.extract import learn_boilerplate
from pipeline.fetch import PAGE_ACCEPT, HttpClient
from pipeline.models import Article, FetchResult, Source, Tag
from pipeline.store import PendingEntry, Store, utcnow
from pipeline.topics import Tagger

from .schedule import entry_retry_at
from .workers import analyse

log = logging.getLogger(__name__)
_PERMANENT_STATUSES = (401, 403, 404, 410, 451)
CHUNK_WINDOWS = 10  # entries read from the queue per run, in windows of `process_batch`


@dataclass
class ProcessReport:
    processed: int = 0
    tagged: int = 0
    retried: int = 0
    fallback: int = 0  # page unavailable for good: the feed's own title and summary were used

    def add(self, other: ProcessReport) -> None:
        self.processed += other.processed
        self.tagged += other.tagged
        self.retried += other.retried
        self.fallback += other.fallback


@dataclass(frozen=True)
class _Outcome:
    entry: PendingEntry
    fetched: FetchResult
    article: Article | None = None
    tags: list[Tag] | None = None
    error: str | None = None  # the analysis itself failed (a bug or a worker crash), not the page


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
        args = (fetched.body, fetched.final_url, fetched.content_type or None, source.rules if source else None,
                self.boilerplate(entry.source))
        try:
            if self.executor is None:
                article, tags = await asyncio.to_thread(analyse, *args, tagger=self.tagger)
            else:
                loop = asyncio.get_running_loop()
                article, tags = await loop.run_in_executor(self.executor, functools.partial(analyse, *args))
        except Exception as exc:  # one bad page must not stop the batch
            return _Outcome(entry, fetched, error=f"{type(exc).__name__}: {exc}")
        return _Outcome(entry, fetched, article, tags)

    async def run(self, limit: int | None = None, progress: Callable[[], None] | None = None) -> ProcessReport:
        """Process the entries due now (up to `limit`), keeping `process_batch` of them in flight:
        a new fetch starts as soon as one finishes, so no slow page holds the others back."""
        report = ProcessReport()
        window = self.config.schedule.process_batch
        queue = deque(self.store.pending_entries(limit or window * CHUNK_WINDOWS))
        if not queue:
            return report
        async with HttpClient(self.config.network) as client:
            async def one(entry: PendingEntry) -> _Outcome:
                if entry.link_problem:  # no page to fetch: the feed's own text is all there is
                    return _Outcome(entry, FetchResult("", "", 0, error=entry.link_problem, error_kind="no_link"))
                source = self.sources.get(entry.source)
                fetched = await client.get(entry.url, accept=PAGE_ACCEPT,
                                           min_delay=source.min_delay if source else None,
                                           respect_robots=self.config.network.obey_robots)
                return await self._analyse(entry, fetched) if fetched.ok else _Outcome(entry, fetched)

            in_flight: set[asyncio.Future] = set()
            try:
                while queue or in_flight:
                    while queue and len(in_flight) < window:
                        in_flight.add(asyncio.ensure_future(one(queue.popleft())))
                    done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
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
        return report

    def _record(self, outcome: _Outcome, report: ProcessReport) -> None:
        entry, fetched = outcome.entry, outcome.fetched
        if outcome.article is not None:
            article, tags = outcome.article, outcome.tags or []
            if article.empty and entry.summary:
                # No article body on the page (a video page, a paywall): tag what the feed said.
                article.text = entry.summary
                tags = self.tagger.tag(article.title or entry.title, article.text, article.language)
            article.title = article.title or entry.title
            article.published = article.published or entry.feed_published
            self.store.complete_entry(entry.id, article, tags, html=fetched.body, content_type=fetched.content_type)
        else:
            kind = "analysis" if outcome.error else (fetched.error_kind or "http")
            message = outcome.error or fetched.error or "unknown error"
            permanent = fetched.status in _PERMANENT_STATUSES or kind in ("robots", "no_link")
            retry_at = None if permanent else entry_retry_at(utcnow(), entry.attempts)
            self.store.log_event(f"page_{kind}", f"{entry.url or entry.title}: {message}", source=entry.source,
                                 entry_id=entry.id)
            if retry_at:
                log.warning("page failed, will retry: %s %s: %s: %s", entry.source, entry.url, kind, message)
                self.store.fail_entry(entry.id, f"{kind}: {message}", retry_at)
                report.retried += 1
                return
            log.warning("page unavailable, using the feed's text: %s %s: %s: %s", entry.source,
                        entry.url or repr(entry.title), kind, message)
            article = Article(title=entry.title, text=entry.summary, published=entry.feed_published,
                              reason=f"page unavailable: {kind}: {message}")
            tags = self.tagger.tag(article.title, article.text, None)
            self.store.complete_entry(entry.id, article, tags)
            report.fallback += 1
        report.processed += 1
        report.tagged += bool(tags)
