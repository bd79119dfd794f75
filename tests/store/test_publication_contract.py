"""Issue 18 on both backends: one publication time per entry with its provenance, backlog, and the
queries that select by publication (day pages, search From/To, the days list)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.models import BACKLOG_FIRST_POLL, BACKLOG_TOO_OLD, Article, Evidence, FeedConfig, FeedItem, Source, Tag
from pipeline.store import SqliteStore, StoreProtocol, utcnow

SOURCES = [Source("A", "https://a.example/", "en", (FeedConfig("https://a.example/rss"),)),
           Source("N", "https://n.example/", "en", (FeedConfig("https://n.example/rss"),), only_new=True)]
TAG = Tag("t", 0.9, "strong", (Evidence("Hotline restored.", ("hotline",)),))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "p.db")
    else:
        from pipeline.store.postgres import PostgresStore

        opened = PostgresStore(request.getfixturevalue("pg_url"))
    with opened as s:
        s.sync_sources(SOURCES)
        yield s


def feed_id(store: StoreProtocol, source: str) -> int:
    return next(f["id"] for f in store.feeds() if f["source"] == source)


def add(store: StoreProtocol, source: str, slug: str, published: datetime | None) -> int:
    url = f"https://{source.lower()}.example/{slug}"
    item = FeedItem(url=url, canonical_url=url, guid=None, title=slug, summary="hotline", published=published)
    assert store.add_items(feed_id(store, source), source, [item]) == 1
    return store.find_entry(url)["id"]


def test_publication_time_comes_from_the_page_then_the_feed_then_first_seen(store):
    now = utcnow()
    feed_date = now - timedelta(hours=5)
    page_date = now - timedelta(hours=3)
    from_page = add(store, "A", "page", feed_date)
    from_feed = add(store, "A", "feed", feed_date)
    from_nothing = add(store, "A", "none", None)
    future = add(store, "A", "future", now + timedelta(days=3))
    epoch = add(store, "A", "epoch", feed_date)
    # Before its page is read, the feed's date is all there is.
    assert store.find_entry(str(from_page))["published_from"] == "feed"
    store.complete_entry(from_page, Article(title="p", text="x", published=page_date), [TAG])
    # The processor puts the feed's date in the article when the page has none: that is still the feed's.
    store.complete_entry(from_feed, Article(title="f", text="x", published=feed_date), [TAG])
    store.complete_entry(from_nothing, Article(title="n", text="x"), [TAG])
    store.complete_entry(future, Article(title="fu", text="x"), [TAG])
    store.complete_entry(epoch, Article(title="e", text="x", published=datetime(1970, 1, 1, tzinfo=UTC)), [TAG])
    row = {k: store.find_entry(str(v)) for k, v in
           {"page": from_page, "feed": from_feed, "none": from_nothing, "future": future, "epoch": epoch}.items()}
    assert row["page"]["published_from"] == "page"
    assert datetime.fromisoformat(row["page"]["published_at"]) == page_date.replace(microsecond=0)
    assert row["feed"]["published_from"] == "feed"
    assert row["none"]["published_from"] == "first seen"
    assert row["none"]["published_at"] == row["none"]["discovered_at"]
    # A date in the future is clamped to when we first saw the item, and says so.
    assert row["future"]["published_from"] == "feed, clamped from the future"
    assert row["future"]["published_at"] == row["future"]["discovered_at"]
    # An implausibly early page date is passed over for the feed's.
    assert row["epoch"]["published_from"] == "feed"
    items = {i.entry_id: i for i in store.tagged_items("t", now - timedelta(days=1), now + timedelta(days=1))}
    assert items[from_page].published == page_date.replace(microsecond=0)
    assert items[from_page].published_from == "page" and items[from_page].processed_at is not None


def test_only_new_marks_the_first_poll_as_backlog_and_nothing_after(store):
    now = utcnow()
    first = [add(store, "N", f"old{i}", now - timedelta(hours=i)) for i in range(3)]
    plain = add(store, "A", "a1", now - timedelta(hours=1))
    store.update_feed(feed_id(store, "N"), last_success_at=now, health="ok")
    later = add(store, "N", "new", now)
    for entry in (*first, plain, later):
        store.complete_entry(entry, Article(title="x", text="x"), [TAG], max_age=timedelta(days=2))
    backlog = {i.entry_id: i.backlog for i in store.tagged_items("t", now - timedelta(days=1),
                                                                  now + timedelta(days=1))}
    assert [backlog[e] for e in first] == [BACKLOG_FIRST_POLL] * 3
    assert backlog[plain] is None and backlog[later] is None
    assert store.source_arrivals() == {"A": (1, 0), "N": (4, 3)}
    assert store.source_arrivals(now + timedelta(hours=1)) == {}


def test_an_item_first_seen_too_long_after_its_publication_is_backlog(store):
    now = utcnow()
    old = add(store, "A", "old", now - timedelta(days=10))
    fresh = add(store, "A", "fresh", now - timedelta(days=1))
    unlimited = add(store, "A", "unlimited", now - timedelta(days=10))
    store.complete_entry(old, Article(title="o", text="x"), [TAG], max_age=timedelta(days=2))
    store.complete_entry(fresh, Article(title="f", text="x"), [TAG], max_age=timedelta(days=2))
    store.complete_entry(unlimited, Article(title="u", text="x"), [TAG], max_age=None)
    items = {i.entry_id: i for i in store.tagged_items("t", now - timedelta(days=1), now + timedelta(days=1))}
    assert items[old].is_backlog and items[old].backlog == BACKLOG_TOO_OLD
    assert not items[fresh].is_backlog and not items[unlimited].is_backlog
    # The page may move the date: a page dated yesterday makes it news after all.
    store.complete_entry(old, Article(title="o", text="x", published=now - timedelta(days=1)), [TAG],
                         max_age=timedelta(days=2))
    assert store.find_entry(str(old))["backlog"] is None


def test_day_pages_search_and_the_days_list_go_by_publication(store):
    now = utcnow()
    jan = datetime(2024, 1, 4, 10, tzinfo=UTC)
    old = add(store, "A", "jan", jan)
    new = add(store, "A", "today", now - timedelta(minutes=5))
    for entry in (old, new):
        store.complete_entry(entry, Article(title="Hotline story", text="The hotline was restored."), [TAG])
    day = (jan.replace(hour=0), jan.replace(hour=0) + timedelta(days=1))
    assert [i.entry_id for i in store.tagged_items("t", *day, by="published")] == [old]
    assert store.tagged_items("t", *day) == []  # processed today, not then
    year = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    for query in ("hotline", ""):
        hits = store.search_items(query, start=year[0], end=year[1], order="newest")
        assert [h["id"] for h in hits] == [old]
        assert hits[0]["published_at"].startswith("2024-01-04") and hits[0]["published_from"] == "feed"
    days = dict(store.tagged_days("t"))
    assert days["2024-01-04"] == 1


def test_existing_rows_are_backfilled_with_a_publication_time(tmp_path):
    from store_helpers import old_database

    path = old_database(tmp_path / "v5.db", 5, {
        "entries": [
            {"id": 1, "canonical_url": "a/1", "url": "https://a/1", "source": "A", "state": "done",
             "feed_published": "2024-01-04T10:00:00+00:00", "discovered_at": "2024-01-05T08:00:00+00:00",
             "processed_at": "2024-01-05T08:01:00+00:00"},
            {"id": 2, "canonical_url": "a/2", "url": "https://a/2", "source": "A", "state": "pending",
             "discovered_at": "2024-01-05T09:00:00+00:00"},
        ],
        "articles": [{"entry_id": 1, "title": "t", "text": "x", "published": "2024-01-04T09:30:00+00:00"}],
    })
    with SqliteStore(path) as store:
        one, two = store.find_entry("1"), store.find_entry("2")
    assert (one["published_at"], one["published_from"]) == ("2024-01-04T09:30:00+00:00", "page")
    assert (two["published_at"], two["published_from"]) == ("2024-01-05T09:00:00+00:00", "first seen")
    assert one["backlog"] is None


def test_existing_rows_are_backfilled_on_postgresql_too(pg_url):
    import psycopg

    from pipeline.store.postgres import MIGRATIONS, PostgresStore

    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        for migrate in MIGRATIONS[:4]:
            migrate(conn.cursor())
        conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        conn.execute("INSERT INTO schema_version (version) VALUES (4)")
        conn.execute("INSERT INTO entries (id, canonical_url, url, source, state, feed_published, discovered_at) "
                     "VALUES (1, 'a/1', 'https://a/1', 'A', 'done', '2024-01-04T10:00:00+00:00', "
                     "'2024-01-05T08:00:00+00:00')")
    with PostgresStore(pg_url) as store:
        one = store.find_entry("1")
    assert (one["published_at"], one["published_from"]) == ("2024-01-04T10:00:00+00:00", "feed")


def test_a_source_file_sets_only_new_and_its_own_max_age(tmp_path):
    from pipeline.config import load_config
    from pipeline.feeds.sources import parse_source

    data = {"name": "X", "feeds": [{"url": "https://x.example/rss"}], "only_new": True, "max_age_days": 7}
    source = parse_source(data, tmp_path / "x.toml")
    assert source.only_new and source.max_age_days == 7
    (tmp_path / "config.toml").write_text("[digest]\nmax_age_days = 3\n")
    config = load_config(tmp_path / "config.toml")
    assert config.max_age(source) == timedelta(days=7)
    assert config.max_age(replace(source, max_age_days=None)) == timedelta(days=3)
    assert config.max_age(replace(source, max_age_days=0)) is None  # 0: no limit
