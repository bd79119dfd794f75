import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.fetch import canonical_url
from pipeline.models import Article, Evidence, FeedConfig, FeedItem, Source, Tag
from pipeline.store import SCHEMA_VERSION, Store


def item(url: str, guid: str | None = None, title: str = "T") -> FeedItem:
    return FeedItem(url=url, canonical_url=canonical_url(url), guid=guid, title=title, summary="s", published=None)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "n.db") as s:
        s.sync_sources([Source("A", "https://a.example/", "en", (FeedConfig("https://a.example/rss"),)),
                        Source("B", "https://b.example/", "en", (FeedConfig("https://b.example/rss"),))])
        yield s


def feed_id(store: Store, source: str) -> int:
    return next(f["id"] for f in store.feeds() if f["source"] == source)


def test_new_database_is_migrated_in_wal_mode(store):
    assert store.schema_version == SCHEMA_VERSION
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"sources", "feeds", "entries", "articles", "tags", "digests", "events"} <= set(store.db.table_names())


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "n.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        Store(path)


def test_url_variants_and_repeated_guids_are_one_entry(store):
    a, b = feed_id(store, "A"), feed_id(store, "B")
    assert store.add_items(a, "A", [item("https://www.a.example/news/1/?utm_source=rss#top", "g1")]) == 1
    # the same story: http, no www, no slash, another tracking parameter; and in another feed
    assert store.add_items(a, "A", [item("http://a.example/news/1?fbclid=xyz", "g9")]) == 0
    assert store.add_items(b, "B", [item("https://a.example/news/1", None)]) == 0
    # the feed moved the article to a new URL but kept its GUID
    assert store.add_items(a, "A", [item("https://a.example/2024/news-1", "g1")]) == 0
    assert store.counts()["entries"] == 1


def test_entries_are_pending_until_completed_and_completing_twice_changes_nothing(store):
    fid = feed_id(store, "A")
    store.add_items(fid, "A", [item("https://a.example/1"), item("https://a.example/2")])
    pending = store.pending_entries(10)
    assert [p.canonical_url for p in pending] == ["a.example/1", "a.example/2"]
    tag = Tag("us-china-milcomm", 0.9, "strong", (Evidence("The hotline was restored.", ("hotline",)),))
    article = Article(title="Hotline", text="The hotline was restored.", authors=["X"],
                      published=datetime(2024, 1, 5, tzinfo=UTC))
    store.complete_entry(pending[0].id, article, [tag], html=b"<html></html>")
    first = list(store.db.query("SELECT * FROM tags"))
    store.complete_entry(pending[0].id, article, [tag], html=b"<html></html>")
    assert list(store.db.query("SELECT entry_id, topic, score, level, evidence FROM tags")) == [
        {k: first[0][k] for k in ("entry_id", "topic", "score", "level", "evidence")}]
    assert store.db["articles"].count == 1
    assert [p.id for p in store.pending_entries(10)] == [pending[1].id]
    assert store.queue_depth() == 1


def test_pending_work_survives_a_crash(tmp_path):
    path = tmp_path / "n.db"
    s = Store(path)
    s.sync_sources([Source("A", "", "en", (FeedConfig("https://a.example/rss"),))])
    s.add_items(feed_id(s, "A"), "A", [item("https://a.example/1")])
    s.db.conn.close()  # no clean shutdown
    with Store(path) as again:
        assert [p.url for p in again.pending_entries(10)] == ["https://a.example/1"]


def test_failed_attempts_wait_for_their_retry_time_then_give_up(store):
    fid = feed_id(store, "A")
    store.add_items(fid, "A", [item("https://a.example/1")])
    entry = store.pending_entries(1)[0]
    store.fail_entry(entry.id, "timeout", datetime.now(UTC) + timedelta(minutes=10))
    assert store.pending_entries(10) == []
    assert len(store.pending_entries(10, now=datetime.now(UTC) + timedelta(minutes=11))) == 1
    store.fail_entry(entry.id, "gone", None)
    assert store.counts()["failed"] == 1


def test_full_text_search_finds_words_and_survives_bad_syntax(store):
    fid = feed_id(store, "A")
    store.add_items(fid, "A", [item("https://a.example/1")])
    store.complete_entry(store.pending_entries(1)[0].id,
                         Article(title="Defense chiefs talk", text="Austin and Dong spoke by video call."), [])
    assert [r["title"] for r in store.search("video")] == ["Defense chiefs talk"]
    assert store.search('"unbalanced AND (') == []


def test_removed_feeds_are_kept_but_inactive(store):
    store.sync_sources([Source("A", "", "en", (FeedConfig("https://a.example/rss"),))])
    assert [f["source"] for f in store.feeds()] == ["A"]
    assert store.db["feeds"].count == 2


def _open_and_write(path: str) -> None:
    with Store(path) as store:
        store.sync_sources([Source("A", "", "en", (FeedConfig("https://a.example/rss"),))])
        store.add_items(feed_id(store, "A"), "A", [item(f"https://a.example/{n}") for n in range(50)])


def test_processes_creating_and_writing_one_new_database_at_once_do_not_collide(tmp_path):
    import multiprocessing

    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_open_and_write, args=(path,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.counts()["entries"] == 50


def test_an_entry_belongs_to_the_day_it_was_first_processed_and_reprocessing_keeps_it_there(store):
    fid = feed_id(store, "A")
    store.add_items(fid, "A", [item("https://a.example/late")])
    entry = store.pending_entries(1)[0]
    # seen yesterday, but its page only arrived today (after yesterday's digest went out)
    store.db.execute("UPDATE entries SET discovered_at = ? WHERE id = ?",
                     [(datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds"), entry.id])
    tag = Tag("t", 0.9, "strong", (Evidence("x", ("x",)),))
    store.complete_entry(entry.id, Article(title="Late", text="x"), [tag])
    now = datetime.now(UTC)
    today = (now - timedelta(hours=1), now + timedelta(hours=1))
    yesterday = (now - timedelta(days=1, hours=1), now - timedelta(hours=1))
    assert [i.title for i in store.tagged_items("t", *today)] == ["Late"]
    assert store.tagged_items("t", *yesterday) == []
    earlier = (now - timedelta(minutes=30)).isoformat(timespec="seconds")
    store.db.execute("UPDATE entries SET processed_at = ? WHERE id = ?", [earlier, entry.id])
    store.complete_entry(entry.id, Article(title="Late", text="x again"), [tag])  # reprocessed now
    assert store.db["entries"].get(entry.id)["processed_at"] == earlier


def test_korean_articles_indexed_before_v12_are_reindexed_by_the_migration(tmp_path):
    """A store from before Hangul was indexed per syllable: v12 rebuilds those rows of the index."""
    path = tmp_path / "old.db"
    with Store(path) as store:
        store.sync_sources([Source("K", "https://k.example/", "ko", (FeedConfig("https://k.example/rss"),))])
        store.add_items(feed_id(store, "K"), "K", [item("https://k.example/1", title="국방장관 통화")])
        (entry,) = store.pending_entries(1)
        store.complete_entry(entry.id, Article(title="국방장관 통화", text="미국 국방장관은 중국 측과 통화했다.",
                                               language="ko"), [])
        assert len(store.search_items("국방장관")) == 1
    conn = sqlite3.connect(path)
    # The index as v11 wrote it: Hangul left in whole words, as unicode61 reads them.
    conn.execute("UPDATE articles_fts SET title = '국방장관 통화', text = '미국 국방장관은 중국 측과 통화했다.'")
    conn.execute("PRAGMA user_version = 11")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 12
        assert [r["title"] for r in store.search_items("통화")] == ["국방장관 통화"]
        assert len(store.search_items("국방부")) == 0
