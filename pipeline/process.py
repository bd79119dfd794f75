"""Work the queue: fetch each pending entry's page, extract it, tag it, store the result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from .boilerplate import learn_boilerplate
from .config import Config
from .extract import extract_article
from .fetch import PAGE_ACCEPT, HttpClient
from .models import Article, FetchResult, Source, Tag
from .schedule import entry_retry_at
from .store import PendingEntry, Store, utcnow
from .topics import Tagger

log = logging.getLogger(__name__)
_PERMANENT_STATUSES = (401, 403, 404, 410, 451)


@dataclass
class ProcessReport:
    processed: int = 0
    tagged: int = 0
    retried: int = 0
    fallback: int = 0  # page unavailable for good: the feed's own title and summary were used


def analyse(page: bytes, url: str, content_type: str | None, source: Source | None, boilerplate: frozenset[str],
            tagger: Tagger) -> tuple[Article, list[Tag]]:
    """The CPU-bound part: extract then tag. Pure, so it can run in a worker thread or process."""
    article = extract_article(page, url, source.rules if source else None, content_type=content_type,
                              known_boilerplate=boilerplate)
    return article, tagger.tag(article.title, article.text, article.language)


def _fallback_article(entry: PendingEntry, reason: str) -> Article:
    return Article(title=entry.title, text=entry.summary, published=entry.feed_published, reason=reason)


class Processor:
    def __init__(self, store: Store, config: Config, sources: dict[str, Source], tagger: Tagger):
        self.store, self.config, self.sources, self.tagger = store, config, sources, tagger
        self._boilerplate: dict[str, frozenset[str]] = {}

    def boilerplate(self, source: str) -> frozenset[str]:
        if source not in self._boilerplate:
            self._boilerplate[source] = learn_boilerplate(self.store.recent_texts(source))
        return self._boilerplate[source]

    async def run(self, limit: int | None = None, progress: Callable[[], None] | None = None) -> ProcessReport:
        report = ProcessReport()
        entries = self.store.pending_entries(limit or self.config.schedule.process_batch)
        if not entries:
            return report
        async with HttpClient(self.config.network) as client:
            async def one(entry: PendingEntry) -> tuple[PendingEntry, FetchResult]:
                source = self.sources.get(entry.source)
                return entry, await client.get(entry.url, accept=PAGE_ACCEPT,
                                               min_delay=source.min_delay if source else None,
                                               respect_robots=self.config.network.obey_robots)

            for next_done in asyncio.as_completed([one(e) for e in entries]):
                entry, result = await next_done
                await self._finish(entry, result, report)
                if progress:
                    progress()
        return report

    async def _finish(self, entry: PendingEntry, result: FetchResult, report: ProcessReport) -> None:
        if result.ok:
            source = self.sources.get(entry.source)
            article, tags = await asyncio.to_thread(
                analyse, result.body, result.final_url, result.content_type or None, source,
                self.boilerplate(entry.source), self.tagger,
            )
            if article.empty and entry.summary:
                # No article body on the page (a video page, a paywall): tag what the feed said.
                article.text = entry.summary
                tags = self.tagger.tag(article.title or entry.title, article.text, article.language)
            if not article.title:
                article.title = entry.title
            if article.published is None:
                article.published = entry.feed_published
            self.store.complete_entry(entry.id, article, tags, html=result.body, content_type=result.content_type)
        else:
            message = f"{result.error_kind}: {result.error}"
            retry_at = None if result.status in _PERMANENT_STATUSES else entry_retry_at(utcnow(), entry.attempts)
            self.store.log_event("page_" + (result.error_kind or "http"), f"{entry.url}: {result.error}",
                                 source=entry.source, entry_id=entry.id)
            if retry_at:
                log.warning("page failed, will retry: %s %s: %s", entry.source, entry.url, message)
                self.store.fail_entry(entry.id, message, retry_at)
                report.retried += 1
                return
            log.warning("page unavailable, using the feed's text: %s %s: %s", entry.source, entry.url, message)
            article = _fallback_article(entry, f"page unavailable: {message}")
            tags = self.tagger.tag(article.title, article.text, None)
            self.store.complete_entry(entry.id, article, tags)
            report.fallback += 1
        report.processed += 1
        report.tagged += bool(tags)
