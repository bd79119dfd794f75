"""One contract, two backends: every test here runs against SQLite and against PostgreSQL, through
the store's public methods only (pipeline/store/base.py), so that callers cannot tell them apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.fetch import canonical_url
from pipeline.models import Article, Evidence, FeedConfig, FeedItem, Source, Tag
from pipeline.store import SqliteStore, StoreProtocol

SOURCES = [Source("A", "https://a.example/", "en", (FeedConfig("https://a.example/rss"),)),
           Source("B", "https://b.example/", "zh", (FeedConfig("https://b.example/rss"),))]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_new(request, tmp_path):
    """Opens the test's store (again, for reopening); the first open gets a fresh, empty store."""
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / "n.db")
    from pipeline.store.postgres import PostgresStore

    url = request.getfixturevalue("pg_url")
    return lambda: PostgresStore(url)


@pytest.fixture
def store(open_new):
    with open_new() as s:
        s.sync_sources(SOURCES)
        yield s


def item(url: str, guid: str | None = None, title: str = "T") -> FeedItem:
    return FeedItem(url=url, canonical_url=canonical_url(url), guid=guid, title=title, summary="s", published=None)


def feed_id(store: StoreProtocol, source: str) -> int:
    return next(f["id"] for f in store.feeds() if f["source"] == source)


def tag(topic: str = "t", score: float = 0.8, sentence: str = "Hotline restored.") -> Tag:
    return Tag(topic, score, "strong", (Evidence(sentence, ("hotline",)),))


def test_both_backends_implement_the_protocol(store):
    assert isinstance(store, StoreProtocol)
    assert store.backend in ("sqlite", "postgresql")


def test_migrations_run_once_and_survive_reopening(open_new):
    with open_new() as first:
        version = first.schema_version
        assert version >= 1
        first.sync_sources(SOURCES)
        first.add_items(feed_id(first, "A"), "A", [item("https://a.example/1")])
    with open_new() as again:
        assert again.schema_version == version
        assert again.counts()["entries"] == 1


def test_sync_sources_deactivates_removed_feeds_and_keeps_their_history(store):
    store.add_items(feed_id(store, "B"), "B", [item("https://b.example/1")])
    store.sync_sources(SOURCES[:1])
    assert [f["source"] for f in store.feeds()] == ["A"]
    assert store.counts()["entries"] == 1
    store.sync_sources(SOURCES)
    assert {f["source"] for f in store.feeds()} == {"A", "B"}


def test_the_queue_dedupes_and_orders_pending_entries(store):
    a = feed_id(store, "A")
    added = store.add_items(a, "A", [item("https://a.example/1", "g1"), item("https://a.example/1?utm_source=x"),
                                     item("https://a.example/2", "g2")])
    assert added == 2
    # a known URL, and a known GUID at a new URL, are not new
    assert store.add_items(a, "A", [item("https://a.example/1"), item("https://a.example/moved", "g2")]) == 0
    assert store.queue_depth() == 2
    pending = store.pending_entries(10)
    assert [p.url for p in pending] == ["https://a.example/1", "https://a.example/2"]
    assert pending[0].source == "A" and pending[0].attempts == 0
    assert next(f for f in store.feeds() if f["id"] == a)["items_seen"] == 2


def test_due_feeds_and_update_feed(store):
    due = store.due_feeds()
    assert {f.source for f in due} == {"A", "B"}
    later = datetime.now(UTC) + timedelta(hours=1)
    store.update_feed(due[0].id, next_poll_at=later, etag='"v1"', health="ok", ttl_seconds=600)
    assert [f.id for f in store.due_feeds()] == [due[1].id]
    assert store.feed(due[0].id).etag == '"v1"'
    assert store.feed_ttl(due[0].id) == 600
    assert len(store.due_feeds(now=later + timedelta(seconds=1))) == 2


def test_failed_entries_retry_later_or_give_up(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1"), item("https://a.example/2")])
    first, second = store.pending_entries(10)
    store.fail_entry(first.id, "timeout", datetime.now(UTC) + timedelta(hours=1))
    store.fail_entry(second.id, "404", None)
    assert store.pending_entries(10) == []
    assert store.queue_depth() == 1
    assert store.counts()["failed"] == 1
    retried = store.pending_entries(10, now=datetime.now(UTC) + timedelta(hours=2))
    assert [(p.id, p.attempts) for p in retried] == [(first.id, 1)]
    assert store.find_entry(str(second.id))["last_error"] == "404"


def test_processing_twice_writes_the_same_rows(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1")])
    (entry,) = store.pending_entries(1)
    start = datetime.now(UTC) - timedelta(minutes=1)
    article = Article(title="Hotline", text="The hotline was restored.", language="en")
    store.complete_entry(entry.id, article, [tag()], html=b"<p>v1</p>", content_type="text/html")
    (before,) = store.tagged_items("t", start, start + timedelta(hours=1))
    store.complete_entry(entry.id, Article(title="Hotline", text="The hotline was restored again.", language="en"),
                         [tag(score=0.5)], html=b"<p>v2</p>", content_type="text/html")
    rows = list(store.articles())
    assert len(rows) == 1 and rows[0]["text"] == "The hotline was restored again." and rows[0]["html"] == b"<p>v2</p>"
    (after,) = store.tagged_items("t", start, start + timedelta(hours=1))
    assert (after.entry_id, after.score) == (before.entry_id, 0.5)
    assert store.counts() == {"entries": 1, "pending": 0, "done": 1, "failed": 0, "tagged": 1}
    assert store.pending_entries(10) == []


def test_tags_are_replaced_and_carry_their_evidence(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1")])
    (entry,) = store.pending_entries(1)
    store.complete_entry(entry.id, Article(title="x", text="y"), [tag("t"), tag("u", 0.3)])
    start = datetime.now(UTC) - timedelta(minutes=1)
    (found,) = store.tagged_items("t", start, start + timedelta(hours=1))
    assert found.evidence == [{"sentence": "Hotline restored.", "terms": ["hotline"]}]
    store.replace_tags(entry.id, [tag("u", 0.9)])
    assert store.tagged_items("t", start, start + timedelta(hours=1)) == []
    assert [i.score for i in store.tagged_items("u", start, start + timedelta(hours=1))] == [0.9]
    store.replace_tags(entry.id, [])
    assert store.counts()["tagged"] == 0


def test_learned_boilerplate_is_kept_per_source(store):
    store.add_boilerplate("A", ["f1", "f2"])
    store.add_boilerplate("A", ["f2", "f3"])
    store.add_boilerplate("B", [])
    assert store.boilerplate("A") == frozenset({"f1", "f2", "f3"})
    assert store.boilerplate("B") == frozenset()


def test_recent_texts_newest_first(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1"), item("https://a.example/2")])
    for n, entry in enumerate(store.pending_entries(10)):
        store.complete_entry(entry.id, Article(title="x", text=f"text {n}"), [])
    assert store.recent_texts("A") == ["text 1", "text 0"]


def test_the_digest_ledger_lets_one_claimer_win(store):
    assert store.claim_digest("t", "2026-12-01", "email", "daily", None, status="sending", attempts=0)
    assert not store.claim_digest("t", "2026-12-01", "email", "daily", None, status="sending", attempts=0)
    seen = store.digest_record("t", "2026-12-01", "email")
    assert seen["status"] == "sending"
    assert store.claim_digest("t", "2026-12-01", "email", "daily", seen, status="sent", attempts=1,
                              delivered_at=datetime(2026, 12, 1, 7, tzinfo=UTC))
    # a second deliverer that read the record before the first one's update loses
    assert not store.claim_digest("t", "2026-12-01", "email", "daily", seen, status="sent", attempts=1)
    store.save_digest_record("t", "2026-12-01", "files", status="sent", items=3, location="/d")
    record = store.digest_record("t", "2026-12-01", "email")
    assert record["delivered_at"] == "2026-12-01T07:00:00+00:00" and record["attempts"] == 1
    store.save_digest_record("t", "2026-12-01", "files", items=4)
    assert store.digest_record("t", "2026-12-01", "files")["status"] == "sent"
    assert [(d["channel"], d["items"]) for d in store.digest_records("sent")] == [("email", None), ("files", 4)]
    assert store.digest_record("t", "2026-12-02", "email") is None


def test_events_and_failing_sources(store):
    a = feed_id(store, "A")
    since = datetime.now(UTC) - timedelta(minutes=1)
    store.log_event("feed_http", "503", source="A", feed_id=a)
    store.log_event("page_timeout", "slow", source="A")
    assert [e["kind"] for e in store.events_since(since)] == ["feed_http", "page_timeout"]
    assert [e["message"] for e in store.events_since(since, ["page_timeout"])] == ["slow"]
    store.update_feed(a, health="failing", failures=2, last_error="503", last_attempt_at=datetime.now(UTC))
    assert [(f["source"], f["failures"]) for f in store.failing_sources(since)] == [("A", 2)]


def test_retention_drops_old_pages_and_keeps_text(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1")])
    (entry,) = store.pending_entries(1)
    store.complete_entry(entry.id, Article(title="x", text="kept"), [], html=b"<p>page</p>")
    assert store.prune_html(timedelta(days=1)) == 0
    # a negative age puts the cutoff in the future: every stored page is past it
    assert store.prune_html(timedelta(minutes=-1)) == 1
    (row,) = store.articles()
    assert row["html"] is None and row["text"] == "kept"


def test_vacuum_keeps_the_data(store):
    store.add_items(feed_id(store, "A"), "A", [item("https://a.example/1")])
    store.vacuum()
    assert store.size_bytes() > 0
    assert store.counts()["entries"] == 1


def test_first_discovered_and_item_times(store):
    assert store.first_discovered_at() is None
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1")])
    seen = store.first_discovered_at()
    assert abs(seen - datetime.now(UTC)) < timedelta(minutes=1)
    assert store.feed_item_times(a, seen - timedelta(minutes=1)) == [seen]


TEXTS = {
    "https://a.example/hotline": ("Military hotline restored",
                                  "Defense chiefs restored the military hotline after talks in Beijing."),
    "https://a.example/drills": ("Naval drills", "The navy held drills near the strait without any talks."),
    "https://b.example/zh": ("中美军方恢复热线", "中美军方恢复热线，双方同意继续对话。"),
}


@pytest.fixture
def searchable(store):
    for url, (title, _) in TEXTS.items():
        source = "B" if "b.example" in url else "A"
        store.add_items(feed_id(store, source), source, [item(url, title=title)])
    for entry in store.pending_entries(10):
        title, text = TEXTS[entry.url]
        store.complete_entry(entry.id, Article(title=title, text=text, language="zh" if entry.source == "B" else "en"),
                             [])
    return store


def found(store: StoreProtocol, query: str) -> set[str]:
    return {r["url"].rsplit("/", 1)[1] for r in store.search(query)}


@pytest.mark.parametrize(("query", "expected"), [
    ("hotline", {"hotline"}),
    ("talks", {"hotline", "drills"}),
    ("talks NOT navy", {"hotline"}),
    ("beijing OR strait", {"hotline", "drills"}),
    ('"military hotline"', {"hotline"}),
    ('"hotline military"', set()),
    ("milit*", {"hotline"}),
    ("hotline drills", set()),
    ("(navy OR defense) AND talks", {"hotline", "drills"}),
    ("双方同意继续对话", {"zh"}),
    ('"unclosed', set()),
    ("AND", set()),
])
def test_search_syntax_is_the_same_on_both(searchable, query, expected):
    assert found(searchable, query) == expected


def test_search_results_carry_a_marked_snippet(searchable):
    (row,) = searchable.search("hotline")
    assert row["title"] == "Military hotline restored" and row["source"] == "A"
    assert "[hotline]" in row["snippet"]
