"""The store's one interface: every method the rest of newswatch calls, whatever the backend.

Two classes implement it: `sqlite.Store` (the embedded default) and `postgres.PostgresStore`
(many processes on many hosts). Callers get one from `open_store(config)` and never learn which;
the contract tests in tests/store/ hold both to the same behaviour.

Row dicts (`feeds()`, `digest_records()`, `find_entry()`...) carry the same keys on both backends,
and timestamps in them are UTC ISO strings, so that text order is time order everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from pipeline.models import Article, FeedItem, Source, Tag

from .sqlite import KNOWN_GUIDS, EntryProblems, FeedState, PendingEntry, QueueActivity, StoreIdentity, TaggedItem

Backend = Literal["sqlite", "postgresql"]


class StoreUnavailable(Exception):
    """The configured store cannot be reached (the PostgreSQL server is down, refuses us...)."""


@runtime_checkable
class StoreProtocol(Protocol):
    backend: Backend

    @property
    def location(self) -> str:
        """Where the data lives, for people: a file path or a URL without its password."""

    @property
    def schema_version(self) -> int: ...

    def close(self) -> None: ...
    def __enter__(self) -> StoreProtocol: ...
    def __exit__(self, *exc: object) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing; nested ones become savepoints."""

    # sources and feeds
    def sync_sources(self, sources: Iterable[Source]) -> None: ...

    def due_feeds(self, now: datetime | None = None) -> list[FeedState]:
        """Feeds due for a poll. On PostgreSQL each is leased to this process until `update_feed`."""

    def feed(self, feed_id: int) -> FeedState: ...
    def update_feed(self, feed_id: int, **fields: object) -> None: ...
    def known_guids(self, feed_id: int, limit: int = KNOWN_GUIDS) -> frozenset[str]: ...
    def feeds(self) -> list[dict]: ...
    def feed_item_times(self, feed_id: int, since: datetime, limit: int = 50) -> list[datetime]: ...
    def feed_ttl(self, feed_id: int) -> int | None: ...
    def failing_sources(self, since: datetime) -> list[dict]: ...

    def entry_problems(self) -> dict[int, EntryProblems]:
        """Per feed id, entries stored without a usable link and those the last body skipped, by reason."""

    # entries: the work queue
    def add_items(self, feed_id: int, source: str, items: Iterable[FeedItem],
                  skipped: Iterable[str] | None = None) -> int:
        """New items become pending entries (returns how many were new); `skipped`, one reason per
        entry of the same feed body that gave nothing to store, replaces the last body's."""

    def pending_entries(self, limit: int, now: datetime | None = None) -> list[PendingEntry]:
        """Entries due for processing. On PostgreSQL each is leased to this process until it is
        completed or failed."""

    def queue_depth(self) -> int: ...
    def complete_entry(self, entry_id: int, article: Article, tags: Iterable[Tag], html: bytes | None = None,
                       content_type: str | None = None, *, max_age: timedelta | None = None) -> None:
        """Store the article and tags, mark the entry done; its publication time takes the page's date
        into account, and it becomes backlog when first seen more than `max_age` after it."""
    def fail_entry(self, entry_id: int, error: str, retry_at: datetime | None, *, kind: str | None = None,
                   stage: str | None = None) -> None:
        """Count a failed attempt (no retry time: given up); `kind` and `stage` say what failed where."""

    def failed_entries(self, limit: int = 50) -> list[dict]:
        """Entries whose last attempt failed (waiting for a retry, or given up), newest attempt first."""

    def queue_activity(self, now: datetime | None = None) -> QueueActivity:
        """Whether the queue is worked: entries due, since when the oldest is due, the last attempt."""
    def replace_tags(self, entry_id: int, tags: Iterable[Tag]) -> None: ...
    def articles(self, source: str | None = None) -> Iterator[dict]: ...
    def recent_texts(self, source: str, limit: int = 30) -> list[str]: ...
    def find_entry(self, key: str) -> dict | None: ...
    def first_discovered_at(self) -> datetime | None: ...
    def counts(self) -> dict[str, int]: ...

    def articles_by_language(self) -> dict[str, int]: ...

    # learned boilerplate
    def boilerplate(self, source: str) -> frozenset[str]: ...
    def add_boilerplate(self, source: str, fingerprints: Iterable[str]) -> None: ...

    # digests and their delivery ledger
    def tagged_items(self, topic: str, start: datetime, end: datetime, *, by: str = "processed"
                     ) -> list[TaggedItem]:
        """Tagged entries first processed (`by="published"`: published) in [start, end), best first,
        less those the reader called not relevant to the topic; backlog included
        (`TaggedItem.is_backlog`): the caller decides."""
    def digest_record(self, topic: str, day: str, channel: str, kind: str = "daily") -> dict | None: ...
    def save_digest_record(self, topic: str, day: str, channel: str, kind: str = "daily",
                           **fields: object) -> None: ...
    def digest_records(self, status: str | None = None) -> list[dict]: ...
    def claim_digest(self, topic: str, day: str, channel: str, kind: str, expect: dict | None,
                     **fields: object) -> bool: ...
    def save_digest_recipients(self, topic: str, day: str, kind: str,
                               outcomes: Mapping[str, Mapping[str, object]]) -> None:
        """Each recipient's outcome of one email send, in one transaction: {recipient: {status, ...}}."""
    def digest_recipients(self, topic: str | None = None, day: str | None = None,
                          kind: str | None = None) -> list[dict]:
        """Per-recipient delivery rows (sent, failed, refused), newest day first."""
    def tagged_revision(self, topic: str, start: datetime, end: datetime) -> str:
        """A cheap token that changes whenever `tagged_items(topic, start, end)` may have changed."""

    # channel deliveries (issue 19): alerts, summaries and digests through Apprise
    def add_delivery(self, channel: str, kind: str, key: str, **fields: object) -> bool:
        """A new record for (channel, kind, key); False, and nothing written, when one exists."""
    def delivery(self, channel: str, kind: str, key: str) -> dict | None: ...
    def deliveries(self, channel: str | None = None, *, kind: str | None = None,
                   statuses: Iterable[str] | None = None, limit: int = 1000) -> list[dict]:
        """Records oldest first, narrowed by channel, kind and status."""
    def claim_delivery(self, channel: str, kind: str, key: str, expect: Mapping[str, object],
                       **fields: object) -> bool:
        """Compare-and-set on (status, attempts): of two senders exactly one gets True."""
    def fold_deliveries(self, channel: str, keys: Iterable[tuple[str, str]], summary_key: str,
                        **summary: object) -> bool:
        """Add one summary record and mark the held records (kind, key) as summarized in it, at once."""
    def delivered_count(self, channel: str, kinds: Iterable[str], since: datetime) -> int:
        """Messages of these kinds delivered on the channel since `since` (the hourly cap)."""
    def alerted_entries(self, channel: str, topic: str, entry_ids: Iterable[int]) -> set[int]:
        """Those of `entry_ids` with an alert record on the channel for the topic (one alert per story)."""
    def channel_report(self) -> list[dict]:
        """Per channel: last_delivered_at, last_failed_at, last_error, waiting, given_up."""

    # events, search, upkeep
    def log_event(self, kind: str, message: str, *, source: str | None = None,
                  feed_id: int | None = None, entry_id: int | None = None) -> None: ...
    def events_since(self, since: datetime, kinds: Iterable[str] | None = None) -> list[dict]: ...
    def record_cycle(self, started_at: datetime, outcome: str, *, error: str | None = None, feeds: int = 0,
                     entries: int = 0, unit_failures: int = 0) -> None:
        """One service cycle's outcome (ok, failed, stopped); the latest KEEP_CYCLES are kept."""

    def recent_cycles(self, limit: int = 10) -> list[dict]:
        """The latest cycles, newest first."""

    def identity(self) -> StoreIdentity:
        """The id this store was given when its schema was created: another id is another store."""

    def write_problem(self) -> str | None:
        """Why nothing can be written to the store now (it is read-only), or None when it can."""

    @staticmethod
    def is_storage_failure(exc: BaseException) -> bool:
        """Whether `exc` is the database itself failing rather than one unit's data: no unit
        boundary may swallow it, since every other unit would fail the same way."""
    def search(self, query: str, limit: int = 20) -> list[dict]: ...
    def prune_html(self, older_than: timedelta) -> int: ...
    def shift_schedule(self, after: datetime, by: timedelta) -> int: ...
    def vacuum(self) -> None: ...
    def size_bytes(self) -> int: ...

    # the reading room (pipeline/web) and the reader's feedback
    def item_tags(self, entry_id: int) -> list[dict]:
        """An entry's tags, evidence decoded, best first."""

    def tagged_days(self, topic: str, utc_offset_minutes: int = 0, limit: int = 400) -> list[tuple[str, int]]:
        """(YYYY-MM-DD, tagged items) for the days with items on `topic` published, newest first;
        days are local days at one UTC offset."""

    def search_items(self, query: str, *, topic: str | None = None, level: str | None = None,
                     source: str | None = None, start: datetime | None = None, end: datetime | None = None,
                     order: str = "relevance", limit: int = 20, offset: int = 0) -> list[dict]:
        """Full-text matches (the `newswatch search` syntax) narrowed by tag, source and publication
        time [start, end): rows of id, source, url, title, snippet (matches between \\x02 and \\x03),
        processed_at, published_at, published_from, and the row's tag (the `topic`'s, or else its
        best, after the reader's verdicts): topic, score and level. Han and kana words are found
        inside sentences on both backends (indexed character by character). Each filter applies on
        its own; topic and level count "relevant (missed)" as a strong tag and drop "not relevant".
        `order` is "newest" or "relevance" (best match among the RELEVANCE_WINDOW newest matches); an empty query lists
        the newest items that pass the filters."""

    def source_names(self) -> list[str]: ...

    def source_arrivals(self, since: datetime | None = None) -> dict[str, tuple[int, int]]:
        """Per source, (entries first seen since `since` or ever, of which backlog)."""

    def set_feedback(self, entry_id: int, topic: str, *, verdict: str | None = ...,
                     starred: bool | None = None) -> None:
        """Record a verdict (not_relevant, relevant, None to withdraw it) and/or a star; what is left
        out keeps its stored value. Kept apart from tags: retag and reprocess never touch it."""

    def feedback(self, entry_id: int | None = None) -> list[dict]:
        """Feedback rows with their item and current tag (`judged_score`, `judged_level`: the tag when judged)."""

    def search_count(self, query: str, *, topic: str | None = None, level: str | None = None,
                     source: str | None = None, start: datetime | None = None, end: datetime | None = None,
                     cap: int = 1000) -> int:
        """How many items `search_items` finds with these filters, counted up to `cap`."""

    def source_stats(self) -> dict[str, tuple[int, int, datetime | None]]:
        """Per source: processed items, tagged items, the latest item's publication time."""

    def pause_source(self, name: str, paused: bool = True) -> bool:
        """Pause (or resume) polling a source's feeds, whatever the configuration says; False when
        there is no such source. sync_sources keeps a pause."""

    def paused_sources(self) -> dict[str, datetime]:
        """Paused sources and since when."""

    def set_read(self, entry_ids: Iterable[int], read: bool = True) -> None:
        """Mark entries read (opened or marked by the reader) or unread again."""

    def read_entries(self, entry_ids: Iterable[int]) -> set[int]:
        """Which of these entries the reader has read."""

    def visit(self, now: datetime | None = None, *, record: bool = True) -> datetime | None:
        """Record a visit to the reading room; returns the previous visit's time (None: the first).
        Returns within VISIT_GAP of the last are the same visit. `record=False` only reads."""

    def starred_items(self, limit: int = 500) -> list[dict]:
        """Starred items, the latest star first: id, source, url, title, published_at, topic, read."""

    def saved_searches(self) -> list[dict]:
        """Saved searches by name: name, params (the search's query string), created_at."""

    def save_search(self, name: str, params: str) -> None:
        """Save a search under `name`, replacing one of that name."""

    def delete_search(self, name: str) -> None: ...

    def bulk_insert_items(self, rows: Iterable[tuple[FeedItem, Article, list[Tag], datetime]],
                          feed_id: int, source: str) -> int:
        """Processed items in one transaction, the caller vouching that their URLs are new (benchmarks)."""

    # processes sharing the store (PostgreSQL; the SQLite store has one, behind the instance lock)
    def heartbeat(self, role: str) -> None:
        """Say this process is alive, and renew the leases it holds."""

    def release_leases(self) -> None: ...

    def processes(self) -> list[dict]:
        """Processes seen recently, with how many feeds and entries each holds."""
