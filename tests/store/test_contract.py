"""One contract, two backends: every test here runs against SQLite and against PostgreSQL, through
the store's public methods only (pipeline/store/base.py), so that callers cannot tell them apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.fetch import canonical_url
from pipeline.models import Article, Evidence, FeedConfig, FeedItem, Source, Tag
from pipeline.store import SqliteStore, StoreProtocol, iso, parse_iso

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


def test_a_store_keeps_its_identity_and_another_store_has_another(open_new, tmp_path):
    """Issue 24, case 5: the id a running service compares before every job."""
    with open_new() as first:
        identity = first.identity()
        assert len(identity.id) == 32 and identity.created
        assert first.write_problem() is None
    with open_new() as again:
        assert again.identity() == identity
    with SqliteStore(tmp_path / "another.db") as other:
        assert other.identity().id != identity.id


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


def test_known_guids_are_the_feeds_latest(store):
    a, b = feed_id(store, "A"), feed_id(store, "B")
    store.add_items(a, "A", [item(f"https://a.example/{n}", f"g{n}") for n in range(5)] + [item("https://a.example/x")])
    store.add_items(b, "B", [item("https://b.example/1", "b1")])
    assert store.known_guids(a) == frozenset({"g0", "g1", "g2", "g3", "g4"})
    assert store.known_guids(b) == frozenset({"b1"})
    assert len(store.known_guids(a, limit=2)) == 2


def test_a_feed_of_many_items_is_checked_against_the_store_in_one_go(store):
    """More items than one lookup takes: every known one is still found, each new one added once."""
    a, b = feed_id(store, "A"), feed_id(store, "B")
    first = [item(f"https://a.example/{n}", f"g{n}") for n in range(0, 900, 2)]
    assert store.add_items(a, "A", first) == 450
    again = [item(f"https://a.example/{n}", f"g{n}") for n in range(900)]
    assert store.add_items(a, "A", again) == 450
    # a GUID is known only within its feed; a canonical URL everywhere
    assert store.add_items(b, "B", [item("https://b.example/new", "g1"), item("https://a.example/3", "z")]) == 1


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


def test_each_recipients_delivery_is_recorded_and_listed(store):
    sent_at = datetime(2026, 12, 2, 5, tzinfo=UTC)
    store.save_digest_recipients("t", "2026-12-01", "daily", {
        "ana@example.org": {"status": "sent", "attempts": 1, "delivered_at": sent_at, "updated_at": sent_at},
        "bo@example.org": {"status": "failed", "attempts": 1, "last_error": "450 mailbox busy",
                           "updated_at": sent_at},
    })
    store.save_digest_recipients("t", "2026-12-01", "daily", {
        "bo@example.org": {"status": "sent", "attempts": 2, "last_error": None, "delivered_at": sent_at}})
    store.save_digest_recipients("t", "2026-12-02", "daily", {"bo@example.org": {"status": "refused"}})
    rows = store.digest_recipients("t", "2026-12-01", "daily")
    assert [(r["recipient"], r["status"], r["attempts"], r["last_error"]) for r in rows] == [
        ("ana@example.org", "sent", 1, None), ("bo@example.org", "sent", 2, None)]
    assert rows[0]["delivered_at"] == "2026-12-02T05:00:00+00:00"
    assert rows[1]["updated_at"] == "2026-12-02T05:00:00+00:00"  # a field left out keeps its value
    assert [(r["day"], r["recipient"]) for r in store.digest_recipients()] == [
        ("2026-12-02", "bo@example.org"), ("2026-12-01", "ana@example.org"), ("2026-12-01", "bo@example.org")]
    assert store.digest_recipients("u") == [] and store.digest_recipients(kind="weekly") == []


def test_the_tagged_revision_changes_with_what_tagged_items_returns(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1"), item("https://a.example/2")])
    start = datetime.now(UTC) - timedelta(minutes=1)
    end = start + timedelta(hours=1)
    empty = store.tagged_revision("t", start, end)
    first, second = store.pending_entries(2)
    store.complete_entry(first.id, Article(title="x", text="y"), [tag("t")])
    seen = [empty, store.tagged_revision("t", start, end)]
    assert store.tagged_revision("t", start, end) == seen[-1]  # nothing changed, the same token
    store.complete_entry(second.id, Article(title="x", text="z"), [tag("u")])
    assert store.tagged_revision("t", start, end) == seen[-1]  # another topic's item
    store.set_feedback(first.id, "t", verdict="not_relevant")
    seen.append(store.tagged_revision("t", start, end))
    store.replace_tags(first.id, [])
    seen.append(store.tagged_revision("t", start, end))
    assert len(set(seen)) == len(seen)


def test_events_and_failing_sources(store):
    a = feed_id(store, "A")
    since = datetime.now(UTC) - timedelta(minutes=1)
    store.log_event("feed_http", "503", source="A", feed_id=a)
    store.log_event("page_timeout", "slow", source="A")
    assert [e["kind"] for e in store.events_since(since)] == ["feed_http", "page_timeout"]
    assert [e["message"] for e in store.events_since(since, ["page_timeout"])] == ["slow"]
    store.update_feed(a, health="failing", failures=2, last_error="503", last_attempt_at=datetime.now(UTC))
    assert [(f["source"], f["failures"]) for f in store.failing_sources(since)] == [("A", 2)]


def test_a_clock_step_back_moves_every_planned_time_ahead_and_nothing_before(store):
    now = datetime.now(UTC).replace(microsecond=0)
    a, b = feed_id(store, "A"), feed_id(store, "B")
    store.update_feed(a, next_poll_at=now + timedelta(days=1, minutes=30))  # planned under a clock a day ahead
    store.update_feed(b, next_poll_at=now - timedelta(minutes=1))
    store.add_items(a, "A", [item("https://a.example/1")])
    (entry,) = store.pending_entries(1)
    store.fail_entry(entry.id, "http: 503", now + timedelta(days=1, hours=1), kind="http", stage="fetch")
    store.save_digest_record("t", "2026-01-01", "email", "daily", status="failed", attempts=1,
                             next_attempt_at=now + timedelta(days=1, minutes=5), last_error="x", created_at=now)
    assert store.shift_schedule(now, -timedelta(days=1)) == 3
    polls = {f["id"]: f["next_poll_at"] for f in store.feeds()}
    assert parse_iso(polls[a]) == now + timedelta(minutes=30)
    assert parse_iso(polls[b]) == now - timedelta(minutes=1)  # already due: left alone
    assert [e.id for e in store.pending_entries(5, now=now + timedelta(hours=1))] == [entry.id]
    record = store.digest_record("t", "2026-01-01", "email", "daily")
    assert parse_iso(record["next_attempt_at"]) == now + timedelta(minutes=5)


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


# -- the reading room and the reader's feedback (issue 13) ---------------------------------------------

DAY = datetime(2026, 3, 1, 12, tzinfo=UTC)


def processed(n: int, title: str, text: str, tags: list[Tag], when: datetime = DAY, language: str = "en"):
    """A row for bulk_insert_items: an item, its article and tags, and when it was processed."""
    return (item(f"https://a.example/p{n}", title=title), Article(title=title, text=text, language=language),
            tags, when)


def window_of(when: datetime) -> tuple[datetime, datetime]:
    return when - timedelta(hours=1), when + timedelta(hours=1)


def test_bulk_insert_items_stores_processed_items_as_the_queue_would(store):
    a = feed_id(store, "A")
    count = store.bulk_insert_items([processed(1, "Hotline restored", "The hotline was restored.", [tag()]),
                                     processed(2, "Weather", "Rain all day.", [])], a, "A")
    assert count == 2
    assert store.counts() == {"entries": 2, "pending": 0, "done": 2, "failed": 0, "tagged": 1}
    assert store.pending_entries(10) == []
    (found,) = store.tagged_items("t", *window_of(DAY))
    assert (found.title, found.source, found.score) == ("Hotline restored", "A", 0.8)
    entry = store.find_entry("https://a.example/p1")
    assert entry["processed_at"] == "2026-03-01T12:00:00+00:00" and entry["text"] == "The hotline was restored."
    assert {r["url"] for r in store.search("hotline")} == {"https://a.example/p1"}
    # new entries go on after the inserted ones, and a known URL is still known
    assert store.add_items(a, "A", [item("https://a.example/p1"), item("https://a.example/new")]) == 1
    assert store.pending_entries(10)[0].id > entry["id"]


def test_item_tags_best_first_with_their_evidence(store):
    store.bulk_insert_items([processed(1, "x", "y", [tag("u", 0.3), tag("t", 0.8, "Talks resumed.")])],
                            feed_id(store, "A"), "A")
    entry_id = store.find_entry("https://a.example/p1")["id"]
    tags = store.item_tags(entry_id)
    assert [(t["topic"], t["score"], t["level"]) for t in tags] == [("t", 0.8, "strong"), ("u", 0.3, "strong")]
    assert tags[0]["evidence"] == [{"sentence": "Talks resumed.", "terms": ["hotline"]}]
    assert store.item_tags(entry_id + 1) == []


def test_source_names_are_the_active_sources(store):
    assert store.source_names() == ["A", "B"]
    store.sync_sources(SOURCES[1:])
    assert store.source_names() == ["B"]


def test_not_relevant_leaves_tagged_items_and_withdrawn_comes_back(store):
    store.bulk_insert_items([processed(1, "One", "The hotline.", [tag("t"), tag("u")]),
                             processed(2, "Two", "The hotline again.", [tag("t", 0.5)])], feed_id(store, "A"), "A")
    one = store.find_entry("https://a.example/p1")["id"]
    store.set_feedback(one, "t", verdict="not_relevant")
    assert [i.title for i in store.tagged_items("t", *window_of(DAY))] == ["Two"]
    assert [i.title for i in store.tagged_items("u", *window_of(DAY))] == ["One"]  # only that topic
    store.set_feedback(one, "t", verdict="relevant")  # a verdict of relevant keeps it in
    assert [i.title for i in store.tagged_items("t", *window_of(DAY))] == ["One", "Two"]
    store.set_feedback(one, "t", verdict="not_relevant")
    store.set_feedback(one, "t", verdict=None)
    assert [i.title for i in store.tagged_items("t", *window_of(DAY))] == ["One", "Two"]


def test_feedback_keeps_what_it_was_not_told_and_the_tag_it_judged(store):
    store.bulk_insert_items([processed(1, "One", "The hotline.", [tag("t", 0.9)]),
                             processed(2, "Two", "Nothing.", [])], feed_id(store, "A"), "A")
    one, two = (store.find_entry(f"https://a.example/p{n}")["id"] for n in (1, 2))
    store.set_feedback(one, "t", verdict="not_relevant")
    store.set_feedback(one, "t", starred=True)  # a star leaves the verdict as it was
    store.set_feedback(two, "t", verdict="relevant")  # a miss: no tag to keep
    store.replace_tags(one, [tag("t", 0.5)])
    rows = {r["entry_id"]: r for r in store.feedback()}
    assert {k: rows[one][k] for k in ("topic", "verdict", "starred", "judged_score", "judged_level", "score",
                                      "level", "source", "url", "title", "text", "language")} == {
        "topic": "t", "verdict": "not_relevant", "starred": 1, "judged_score": 0.9, "judged_level": "strong",
        "score": 0.5, "level": "strong", "source": "A", "url": "https://a.example/p1", "title": "One",
        "text": "The hotline.", "language": "en"}
    assert (rows[two]["verdict"], rows[two]["starred"], rows[two]["judged_score"], rows[two]["judged_level"],
            rows[two]["score"]) == ("relevant", 0, 0.0, None, None)
    assert [r["entry_id"] for r in store.feedback(two)] == [two]
    store.set_feedback(one, "t", verdict=None, starred=False)  # nothing left to say: not listed
    assert [r["entry_id"] for r in store.feedback()] == [two]
    with pytest.raises(ValueError):
        store.set_feedback(two, "t", verdict="maybe")


def test_feedback_survives_retag_and_reprocess(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1")])
    (entry,) = store.pending_entries(1)
    store.complete_entry(entry.id, Article(title="Hotline", text="The hotline was restored.", language="en"),
                         [tag()], html=b"<p>page</p>", content_type="text/html")
    store.set_feedback(entry.id, "t", verdict="not_relevant", starred=True)
    (before,) = store.feedback()
    store.replace_tags(entry.id, [tag(score=0.6)])  # retag
    store.complete_entry(entry.id, Article(title="Hotline", text="The hotline was restored, again.", language="en"),
                         [tag(score=0.7)], html=b"<p>page</p>", content_type="text/html")  # reprocess
    (after,) = store.feedback()
    kept = ("entry_id", "topic", "verdict", "starred", "judged_score", "judged_level", "updated_at")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert after["score"] == 0.7 and after["text"] == "The hotline was restored, again."
    start = datetime.now(UTC) - timedelta(minutes=1)
    assert store.tagged_items("t", start, start + timedelta(hours=1)) == []


def test_tagged_days_count_tagged_items_per_local_day(store):
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    store.bulk_insert_items([processed(1, "One", "x", [tag()], late),
                             processed(2, "Two", "x", [tag()], datetime(2026, 3, 3, 0, 30, tzinfo=UTC)),
                             processed(3, "Three", "x", [tag("u")], late),
                             processed(4, "Four", "x", [], late)], feed_id(store, "A"), "A")
    assert store.tagged_days("t") == [("2026-03-03", 1), ("2026-03-01", 1)]
    assert store.tagged_days("t", utc_offset_minutes=60) == [("2026-03-03", 1), ("2026-03-02", 1)]
    assert store.tagged_days("t", utc_offset_minutes=-60) == [("2026-03-02", 1), ("2026-03-01", 1)]
    assert store.tagged_days("t", limit=1) == [("2026-03-03", 1)]
    assert store.tagged_days("nothing") == []


@pytest.fixture
def archive(store):
    """Five items over five days, some tagged, in two sources; ids rise with the days."""
    rows = [
        processed(1, "Hotline hotline", "The hotline hotline hotline was restored.", [tag("t", 0.9)], DAY),
        processed(2, "Talks", "A hotline, once, and talks.", [], DAY + timedelta(days=1)),
        processed(3, "Drills", "Naval drills near the strait.", [tag("t", 0.3)], DAY + timedelta(days=2)),
        processed(4, "More talks", "Talks on the hotline continue, the hotline open.",
                  [Tag("t", 0.4, "mention", (Evidence("Talks on the hotline continue.", ("hotline",)),))],
                  DAY + timedelta(days=3)),
    ]
    store.bulk_insert_items(rows, feed_id(store, "A"), "A")
    store.bulk_insert_items([processed(5, "中美军方恢复热线", "中美军方恢复热线，双方同意继续对话。", [tag("t", 0.8)],
                                       DAY + timedelta(days=4), "zh")], feed_id(store, "B"), "B")
    return store


def ids(rows: list[dict]) -> list[int]:
    return [int(r["url"].rsplit("/p", 1)[1]) for r in rows]


def test_search_items_orders_by_best_match_or_newest(archive):
    assert ids(archive.search_items("hotline")) == [1, 4, 2]  # best match first
    assert ids(archive.search_items("hotline", order="newest")) == [4, 2, 1]
    assert ids(archive.search_items("", order="newest")) == [5, 4, 3, 2, 1]  # no words: the newest items
    assert ids(archive.search_items("talks NOT hotline")) == []
    assert ids(archive.search_items('"hotline continue"', order="newest")) == [4]
    assert ids(archive.search_items("双方同意继续对话")) == [5]


def test_search_items_filters(archive):
    assert ids(archive.search_items("hotline", topic="t", order="newest")) == [4, 1]
    assert ids(archive.search_items("hotline", topic="t", level="strong")) == [1]
    assert ids(archive.search_items("hotline", topic="t", level="mention")) == [4]
    assert ids(archive.search_items("hotline", source="B")) == []
    assert ids(archive.search_items("", source="B")) == [5]
    start, end = DAY + timedelta(days=1), DAY + timedelta(days=3)
    assert ids(archive.search_items("hotline", start=start, order="newest")) == [4, 2]
    assert ids(archive.search_items("hotline", end=end, order="newest")) == [2, 1]
    assert ids(archive.search_items("", start=start, end=end, order="newest")) == [3, 2]
    assert ids(archive.search_items("", topic="t", order="newest")) == [5, 4, 3, 1]


def test_search_items_rows_carry_the_tag_and_a_marked_snippet(archive):
    (row,) = archive.search_items("drills", topic="t")
    assert {k: row[k] for k in ("source", "url", "title", "processed_at", "score", "level")} == {
        "source": "A", "url": "https://a.example/p3", "title": "Drills",
        "processed_at": "2026-03-03T12:00:00+00:00", "score": 0.3, "level": "strong"}
    assert "\x02drills\x03" in row["snippet"].casefold()
    (any_topic,) = archive.search_items("drills")  # without a topic: the item's best tag
    assert (any_topic["topic"], any_topic["score"], any_topic["level"]) == ("t", 0.3, "strong")
    (untagged,) = archive.search_items("talks", order="newest", source="A", end=DAY + timedelta(days=2))
    assert untagged["topic"] is None and untagged["score"] is None and untagged["level"] is None
    (chinese,) = archive.search_items("双方同意继续对话")
    # one marked run, no spaces between the characters (PostgreSQL indexes them one by one)
    assert "热线，\x02双方同意继续对话\x03" in chinese["snippet"]
    assert archive.search_items("", order="newest", limit=1)[0]["snippet"] == "中美军方恢复热线，双方同意继续对话。"


def test_search_items_pages_without_overlap(archive):
    for order in ("newest", "relevance"):
        pages = [ids(archive.search_items("", order=order, limit=2, offset=n)) for n in (0, 2, 4)]
        assert pages == [[5, 4], [3, 2], [1]]
        matches = ids(archive.search_items("hotline", order=order))
        assert [ids(archive.search_items("hotline", order=order, limit=1, offset=n)) for n in range(4)] == [
            [m] for m in matches] + [[]]


def test_best_match_ranks_only_the_newest_matches_after_the_filters(archive, monkeypatch):
    # One window for both backends: here a window of two newest matches.
    monkeypatch.setattr("pipeline.store.sqlite.RELEVANCE_WINDOW", 2)
    assert ids(archive.search_items("hotline")) == [4, 2]
    assert ids(archive.search_items("hotline", topic="t")) == [1, 4]  # the window is taken after the filters


# -- entries without a usable link, and what a feed's body skipped (the input work) -----------------------

def linkless(key: str, problem: str, guid: str | None = None) -> FeedItem:
    return FeedItem(url="", canonical_url=f"feed-text:{key}", guid=guid, title=f"T {key}", summary="s",
                    published=None, link_problem=problem)


def test_entries_without_a_link_and_skipped_ones_are_counted_per_feed(store):
    a, b = feed_id(store, "A"), feed_id(store, "B")
    assert store.entry_problems() == {}
    added = store.add_items(a, "A", [linkless("1", "no link"), linkless("2", "no link"),
                                     linkless("3", "unusable link 'x': no host", guid="g"),
                                     item("https://a.example/fine")],
                            skipped=["no link, and no title or summary to store"] * 2)
    assert added == 4
    pending = {p.canonical_url: p for p in store.pending_entries(10)}
    assert (pending["feed-text:1"].url, pending["feed-text:1"].link_problem) == ("", "no link")
    assert pending[canonical_url("https://a.example/fine")].link_problem is None
    problems = store.entry_problems()
    assert list(problems) == [a]
    assert list(problems[a].without_link.items()) == [("no link", 2), ("unusable link 'x': no host", 1)]
    assert problems[a].skipped == {"no link, and no title or summary to store": 2}
    # the next body replaces what the last one skipped, even with nothing new; the same GUID is the same item
    assert store.add_items(a, "A", [linkless("3-moved", "no link", guid="g")], skipped=[]) == 0
    assert store.entry_problems()[a].skipped == {}
    assert store.add_items(b, "B", [], skipped=["no link"]) == 0
    assert store.entry_problems()[b].skipped == {"no link": 1}
    assert store.add_items(b, "B", []) == 0  # without `skipped`, the last count stays
    assert store.entry_problems()[b].skipped == {"no link": 1}
    assert store.find_entry("feed-text:2")["link_problem"] == "no link"


def test_a_nul_in_feed_text_costs_nothing(store):
    # SQLite keeps a NUL, PostgreSQL's text cannot hold one: there it becomes U+FFFD
    a = feed_id(store, "A")
    assert store.add_items(a, "A", [item("https://a.example/nul", title="Hotline\x00 restored"),
                                    item("https://a.example/fine")]) == 2
    entry = next(p for p in store.pending_entries(10) if p.url.endswith("/nul"))
    assert entry.title in ("Hotline\x00 restored", "Hotline\ufffd restored")
    store.complete_entry(entry.id, Article(title=entry.title, text="The hotline\x00 was restored.", language="en"),
                         [tag(sentence="The hotline\x00 was restored.")])
    store.log_event("page_http", "odd\x00 message", entry_id=entry.id)
    assert [r["url"] for r in store.search("restored")] == ["https://a.example/nul"]
    assert store.item_tags(entry.id)[0]["evidence"][0]["sentence"].startswith("The hotline")


# -- what a unit of work failed with, the queue's pulse, the service's cycles (the isolation work) --------

def test_a_failed_entry_says_what_failed_where_until_it_completes(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item("https://a.example/1"), item("https://a.example/2")])
    first, second = store.pending_entries(10)
    queue = store.queue_activity()
    assert (queue.due, queue.last_attempt_at) == (2, None) and queue.oldest_due_at is not None
    store.fail_entry(first.id, "internal: extract: ValueError: bad", datetime.now(UTC) + timedelta(minutes=5),
                     kind="internal", stage="extract")
    store.fail_entry(second.id, "http: 404", None, kind="http", stage="fetch")
    assert [(f["id"], f["state"], f["last_error_kind"], f["last_error_stage"], f["attempts"])
            for f in store.failed_entries()] == [(second.id, "failed", "http", "fetch", 1),
                                                 (first.id, "pending", "internal", "extract", 1)]
    assert [f["id"] for f in store.failed_entries(limit=1)] == [second.id]
    queue = store.queue_activity()
    assert queue.due == 0 and abs(queue.last_attempt_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert store.queue_activity(now=datetime.now(UTC) + timedelta(minutes=10)).due == 1
    (retried,) = store.pending_entries(10, now=datetime.now(UTC) + timedelta(minutes=10))
    store.complete_entry(retried.id, Article(title="t", text="x"), [])
    assert [f["id"] for f in store.failed_entries()] == [second.id]  # done: its last error is forgotten
    assert store.find_entry(str(first.id))["last_error_kind"] is None


def test_only_the_latest_cycles_are_kept(store, monkeypatch):
    monkeypatch.setattr("pipeline.store.sqlite.KEEP_CYCLES", 5)  # one limit for both backends
    assert store.recent_cycles() == []
    started = datetime.now(UTC) - timedelta(seconds=3)
    for n in range(8):
        store.record_cycle(started, "ok" if n % 2 else "failed", error=None if n % 2 else "E: x", feeds=n,
                           entries=2 * n, unit_failures=n % 3)
    assert [c["feeds"] for c in store.recent_cycles(10)] == [7, 6, 5, 4, 3]
    (latest,) = store.recent_cycles(1)
    assert {k: latest[k] for k in ("outcome", "error", "feeds", "entries", "unit_failures", "started_at")} == {
        "outcome": "ok", "error": None, "feeds": 7, "entries": 14, "unit_failures": 1, "started_at": iso(started)}
    assert latest["finished_at"] >= latest["started_at"]


# -- issue 20: search that works in Chinese, filters on their own, read state, stars, saved searches ----

def test_chinese_words_inside_sentences_are_found_on_both_backends(archive):
    assert ids(archive.search_items("双方")) == [5]  # two characters inside a sentence
    assert ids(archive.search_items("热线 对话")) == [5]
    assert ids(archive.search_items('"恢复热线"')) == [5]
    assert ids(archive.search_items("对热")) == []  # the characters, but not side by side
    assert archive.search_count("双方") == 1
    (row,) = archive.search_items("继续")
    assert "同意\x02继续\x03对话" in row["snippet"]
    assert [r["url"] for r in archive.search("双方")] == ["https://a.example/p5"]


KOREAN_CALL = "미국 국방장관은 중국 국방부장과 통화했다. 양측은 군사 소통 채널을 유지하기로 했다."
KOREAN = [
    processed(6, "국방장관, 중국 측과 통화", KOREAN_CALL, [tag("t", 0.9)], DAY + timedelta(days=5), "ko"),
    processed(7, "무역 협상 재개", "양국 무역대표는 관세 문제를 논의했다.", [], DAY + timedelta(days=6), "ko"),
]


def test_korean_words_with_particles_glued_on_are_found_on_both_backends(archive):
    archive.bulk_insert_items(KOREAN, feed_id(archive, "B"), "B")
    assert ids(archive.search_items("국방장관")) == [6]  # inside 국방장관은
    assert ids(archive.search_items("통화")) == [6]  # inside 통화했다 (and the headline)
    assert ids(archive.search_items("논의")) == [7]  # inside 논의했다
    assert ids(archive.search_items("국방장관 채널")) == [6]  # every word, anywhere in the item
    assert ids(archive.search_items('"군사 소통"')) == [6]
    assert ids(archive.search_items("관통")) == []  # the syllables, but not side by side
    assert ids(archive.search_items("국방 OR 무역", order="newest")) == [7, 6]
    assert archive.search_count("통화") == 1
    (row,) = archive.search_items("소통")
    # The snippet reads as written: Korean keeps its spaces, the match is marked as one run.
    assert "군사 \x02소통\x03 채널을" in row["snippet"]
    (hit,) = archive.search("국방장관")
    assert hit["url"] == "https://a.example/p6" and "[국방장관]은" in hit["snippet"]
    # English ranks as before beside them.
    assert ids(archive.search_items("hotline")) == [1, 4, 2]


def test_level_applies_without_a_topic_and_counts_the_readers_verdicts(archive):
    assert ids(archive.search_items("", level="strong", order="newest")) == [5, 3, 1]
    assert ids(archive.search_items("", level="mention", order="newest")) == [4]
    assert archive.search_count("", level="strong") == 3
    assert archive.search_count("hotline") == 3
    two = archive.find_entry("https://a.example/p2")["id"]
    one = archive.find_entry("https://a.example/p1")["id"]
    archive.set_feedback(two, "t", verdict="relevant")  # a miss: now strong on t
    archive.set_feedback(one, "t", verdict="not_relevant")  # out of t
    assert ids(archive.search_items("", level="strong", order="newest")) == [5, 3, 2]
    assert ids(archive.search_items("hotline", topic="t", order="newest")) == [4, 2]
    (missed,) = archive.search_items("talks", topic="t", level="strong")
    assert (missed["topic"], missed["level"], missed["score"]) == ("t", "strong", 1.0)
    (judged_out,) = archive.search_items("restored")
    assert judged_out["topic"] is None


def test_relevant_missed_puts_an_untagged_item_in_its_topic(store):
    store.bulk_insert_items([processed(1, "One", "The hotline.", [tag("t", 0.5)]),
                             processed(2, "Trade", "Soybean tariffs.", [])], feed_id(store, "A"), "A")
    two = store.find_entry("https://a.example/p2")["id"]
    assert [i.title for i in store.tagged_items("t", *window_of(DAY), by="published")] == ["One"]
    store.set_feedback(two, "t", verdict="relevant")
    items = store.tagged_items("t", *window_of(DAY), by="published")
    assert [(i.title, i.level, i.score) for i in items] == [("Trade", "strong", 1.0), ("One", "strong", 0.5)]
    assert store.tagged_items("u", *window_of(DAY)) == []
    store.set_feedback(two, "t", verdict=None)
    assert [i.title for i in store.tagged_items("t", *window_of(DAY))] == ["One"]


def test_read_state_and_visits(store):
    store.bulk_insert_items([processed(n, f"N{n}", "Text.", []) for n in (1, 2, 3)], feed_id(store, "A"), "A")
    one, two, three = (store.find_entry(f"https://a.example/p{n}")["id"] for n in (1, 2, 3))
    assert store.read_entries([one, two, three]) == set()
    store.set_read([one, two])
    store.set_read([one])  # twice is once
    assert store.read_entries([one, two, three]) == {one, two}
    store.set_read([two], read=False)
    assert store.read_entries([one, two, three]) == {one}
    assert store.read_entries([]) == set()
    first = DAY
    assert store.visit(first, record=False) is None
    assert store.visit(first) is None  # the first visit
    assert store.visit(first + timedelta(minutes=10)) is None  # the same visit
    assert store.visit(first + timedelta(hours=5), record=False) == first + timedelta(minutes=10)
    assert store.visit(first + timedelta(hours=5)) == first + timedelta(minutes=10)
    assert store.visit(first + timedelta(hours=5, minutes=1)) == first + timedelta(minutes=10)


def test_starred_items_and_saved_searches(store):
    store.bulk_insert_items([processed(n, f"N{n}", "Text.", []) for n in (1, 2)], feed_id(store, "A"), "A")
    one, two = (store.find_entry(f"https://a.example/p{n}")["id"] for n in (1, 2))
    assert store.starred_items() == []
    store.set_feedback(two, "t", starred=True)
    store.set_read([two])
    store.set_feedback(one, "t", verdict="relevant")
    (row,) = store.starred_items()
    assert (row["id"], row["title"], row["topic"], bool(row["read"]), row["source"]) == (two, "N2", "t", True, "A")
    assert row["published_at"]
    store.save_search("hotline", "q=hotline")
    store.save_search("drills", "q=drills&level=strong")
    store.save_search("hotline", "q=hotline&topic=t")  # the same name: replaced
    assert [(s["name"], s["params"]) for s in store.saved_searches()] == [
        ("drills", "q=drills&level=strong"), ("hotline", "q=hotline&topic=t")]
    store.delete_search("drills")
    assert [s["name"] for s in store.saved_searches()] == ["hotline"]


def test_a_paused_source_is_not_polled_until_resumed(store):
    due = {f.source for f in store.due_feeds()}
    assert due == {"A", "B"}
    assert store.pause_source("A")
    assert {f.source for f in store.due_feeds()} == {"B"}
    assert list(store.paused_sources()) == ["A"]
    store.sync_sources(SOURCES)  # the configuration again: the pause stays
    assert {f.source for f in store.due_feeds()} == {"B"}
    assert store.pause_source("A", paused=False)
    assert {f.source for f in store.due_feeds()} == {"A", "B"} and store.paused_sources() == {}
    assert not store.pause_source("nobody")
def test_articles_by_language_counts_extracted_items_and_undeclared_ones(store):
    a = feed_id(store, "A")
    store.add_items(a, "A", [item(f"https://a.example/{n}") for n in range(4)])
    languages = ["ko", "ko-KR", None, "en"]
    for entry, language in zip(store.pending_entries(10), languages, strict=True):
        store.complete_entry(entry.id, Article(title="t", text="x", language=language), [])
    assert store.articles_by_language() == {"ko": 1, "ko-KR": 1, "": 1, "en": 1}
