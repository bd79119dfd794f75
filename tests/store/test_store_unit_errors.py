"""Schema v4: what a unit of work failed with, when the queue was last worked, and the cycles."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from store_helpers import old_database

from pipeline.models import Article, FeedConfig, FeedItem, Source
from pipeline.store import SCHEMA_VERSION, Store
from pipeline.store.sqlite import KEEP_CYCLES

# An entry of an old database, waiting in the queue.
PENDING = {"canonical_url": "a.example/1", "url": "https://a.example/1", "state": "pending", "attempts": 0,
           "next_attempt_at": "2000-01-01T00:00:00+00:00"}


def test_a_v3_database_is_migrated_and_its_entries_gain_error_kind_stage_and_attempt_time(tmp_path):
    path = old_database(tmp_path / "old.db", 3, {"entries": [PENDING]})
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        (entry,) = store.pending_entries(10)
        queue = store.queue_activity()
        assert (queue.due, queue.last_attempt_at) == (1, None)
        retry = datetime.now(UTC) + timedelta(minutes=5)
        store.fail_entry(entry.id, "internal: extract: ValueError: bad", retry, kind="internal", stage="extract")
        (failed,) = store.failed_entries()
        assert (failed["last_error_kind"], failed["last_error_stage"], failed["attempts"]) == ("internal", "extract", 1)
        assert store.queue_activity().due == 0 and store.queue_activity().last_attempt_at is not None
        assert store.recent_cycles() == []


def test_a_completed_entry_forgets_its_last_error(tmp_path):
    with Store(tmp_path / "n.db") as store:
        store.sync_sources([Source("A", "", "en", (FeedConfig("https://a.example/rss"),))])
        (feed,) = store.feeds()
        url = "https://a.example/1"
        store.add_items(feed["id"], "A", [FeedItem(url=url, canonical_url=url, guid=None, title="t", summary="s",
                                                   published=None)])
        (entry,) = store.pending_entries(1)
        store.fail_entry(entry.id, "internal: tag: KeyError: 'x'", datetime.now(UTC), kind="internal", stage="tag")
        store.complete_entry(entry.id, Article(title="t", text="x"), [])
        assert store.failed_entries() == []


def test_only_the_latest_cycles_are_kept(tmp_path):
    with Store(tmp_path / "n.db") as store:
        started = datetime.now(UTC)
        for n in range(KEEP_CYCLES + 5):
            store.record_cycle(started, "ok" if n % 2 else "failed", error=None if n % 2 else "E: x", feeds=n)
        assert store.db.execute("SELECT count(*) FROM cycles").fetchone()[0] == KEEP_CYCLES
        latest = store.recent_cycles(2)
        assert [c["feeds"] for c in latest] == [KEEP_CYCLES + 4, KEEP_CYCLES + 3]
        assert [c["outcome"] for c in latest] == ["failed", "ok"]


def test_what_counts_as_the_database_failing_rather_than_one_unit(tmp_path):
    assert Store.is_storage_failure(sqlite3.OperationalError("database or disk is full"))
    assert Store.is_storage_failure(sqlite3.DatabaseError("database disk image is malformed"))
    assert not Store.is_storage_failure(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not Store.is_storage_failure(ValueError("Port out of range 0-65535"))
