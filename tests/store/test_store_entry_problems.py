"""Schema v3: entries without a usable link, and the entries a feed's body skipped."""

from __future__ import annotations

from store_helpers import old_database

from pipeline.models import FeedConfig, FeedItem, Source
from pipeline.store import SCHEMA_VERSION, Store

# An entry of an old database, waiting in the queue.
PENDING = {"canonical_url": "a.example/1", "url": "https://a.example/1", "state": "pending", "attempts": 0,
           "next_attempt_at": "2000-01-01T00:00:00+00:00"}


def linkless(key: str, problem: str, guid: str | None = None) -> FeedItem:
    return FeedItem(url="", canonical_url=f"feed-text:{key}", guid=guid, title=f"T {key}", summary="s",
                    published=None, link_problem=problem)


def test_a_v2_database_is_migrated_keeping_its_entries(tmp_path):
    path = old_database(tmp_path / "old.db", 2, {"entries": [PENDING]})
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        (entry,) = store.pending_entries(10)
        assert entry.url == "https://a.example/1" and entry.link_problem is None


def test_problems_by_feed_and_reason(tmp_path):
    with Store(tmp_path / "n.db") as store:
        store.sync_sources([Source("A", "", "en", (FeedConfig("https://a.example/rss"),))])
        (feed,) = store.feeds()
        added = store.add_items(feed["id"], "A", [linkless("1", "no link"), linkless("2", "no link"),
                                                  linkless("3", "unusable link 'x': no host", guid="g")],
                                skipped=["no link, and no title or summary to store"] * 2)
        assert added == 3
        (pending, *_) = store.pending_entries(10)
        assert pending.url == "" and pending.link_problem == "no link"
        problems = store.entry_problems()[feed["id"]]
        assert problems.without_link == {"no link": 2, "unusable link 'x': no host": 1}
        assert problems.skipped == {"no link, and no title or summary to store": 2}
        # the next body replaces what the last one skipped; the same GUID is the same item
        assert store.add_items(feed["id"], "A", [linkless("3-moved", "no link", guid="g")], skipped=[]) == 0
        assert store.entry_problems()[feed["id"]].skipped == {}
        assert store.add_items(feed["id"], "A", []) == 0  # without `skipped`, the last count stays
