"""What only the PostgreSQL store does: leases shared by many processes, language-aware search,
and the `[storage] url` that selects it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from waiting import wait_for

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.fetch import canonical_url
from pipeline.models import Article, FeedConfig, FeedItem, Source
from pipeline.store import open_store

SOURCES = [Source("A", "https://a.example/", "en", (FeedConfig("https://a.example/rss"),
                                                     FeedConfig("https://a.example/rss2")))]


def item(url: str) -> FeedItem:
    return FeedItem(url=url, canonical_url=canonical_url(url), guid=None, title="T", summary="s", published=None)


@pytest.fixture
def stores(pg_url):
    """Two stores on one database that lease as two different processes would."""
    from pipeline.store.postgres import PostgresStore

    one = PostgresStore(pg_url, lease_seconds=2, holder="host-1:101")
    two = PostgresStore(pg_url, lease_seconds=2, holder="host-2:202")
    one.sync_sources(SOURCES)
    return one, two



def test_a_due_feed_is_leased_to_one_process(stores):
    one, two = stores
    assert len(one.due_feeds()) == 2
    assert two.due_feeds() == []
    # the holder asking again gets its own feeds back
    assert len(one.due_feeds()) == 2
    first = one.due_feeds()[0]
    one.update_feed(first.id, health="ok")  # recording the poll ends the lease
    assert [f.id for f in two.due_feeds()] == [first.id]


def test_pending_entries_are_split_between_processes(stores):
    one, two = stores
    feed = one.feeds()[0]["id"]
    one.add_items(feed, "A", [item(f"https://a.example/{n}") for n in range(10)])
    mine = one.pending_entries(4)
    theirs = two.pending_entries(100)
    assert len(mine) == 4 and len(theirs) == 6
    assert not {e.id for e in mine} & {e.id for e in theirs}
    one.fail_entry(mine[0].id, "timeout", datetime.now(UTC) - timedelta(seconds=1))
    assert [e.id for e in two.pending_entries(100) if e.id == mine[0].id] == [mine[0].id]


def test_a_burst_is_shared_rather_than_taken_whole(pg_url):
    from pipeline.store.postgres import PostgresStore

    one = PostgresStore(pg_url, claim_batch=3, holder="host-1:101")
    two = PostgresStore(pg_url, claim_batch=3, holder="host-2:202")
    one.sync_sources(SOURCES)
    one.add_items(one.feeds()[0]["id"], "A", [item(f"https://a.example/{n}") for n in range(8)])
    assert [len(one.pending_entries(100)), len(two.pending_entries(100))] == [3, 3]
    assert len(one.pending_entries(100)) == 3  # its own three again: held entries are not claimed twice


def test_a_dead_process_loses_its_leases_and_a_live_one_keeps_them(stores):
    one, two = stores
    feed = one.feeds()[0]["id"]
    one.add_items(feed, "A", [item("https://a.example/1"), item("https://a.example/2")])
    (held,) = one.pending_entries(1)
    two.heartbeat("process")
    (kept,) = two.pending_entries(1)
    # one stops renewing (it died); two keeps beating
    def taken_over():
        two.heartbeat("process")
        return [e.id for e in two.pending_entries(10)]
    assert wait_for(lambda: held.id in taken_over()) and kept.id in taken_over()
    processes = {p["id"]: p for p in two.processes()}
    assert processes["host-2:202"]["entries_held"] == 2 and "host-1:101" not in processes
    two.release_leases()
    assert one.pending_entries(10) != [] and two.processes() == []


def test_processes_show_what_each_holds(stores):
    one, two = stores
    one.heartbeat("poll")
    two.heartbeat("process")
    one.due_feeds()
    held = {p["id"]: (p["role"], p["feeds_held"], p["entries_held"]) for p in two.processes()}
    assert held == {"host-1:101": ("poll", 2, 0), "host-2:202": ("process", 0, 0)}


def test_search_is_language_aware_and_finds_chinese_words_inside_sentences(stores):
    one, _ = stores
    feed = one.feeds()[0]["id"]
    one.add_items(feed, "A", [item("https://a.example/en"), item("https://a.example/zh")])
    en, zh = one.pending_entries(10)
    one.complete_entry(en.id, Article(title="Talks", text="The generals were talking about hotlines.",
                                      language="en-US"), [])
    one.complete_entry(zh.id, Article(title="热线", text="中美军方恢复热线，双方同意继续对话。", language="zh"), [])
    # English stemming: "talk" finds "talking", "hotline" finds "hotlines"
    assert [r["id"] for r in one.search("talk hotline")] == [en.id]
    # a word inside a run of Chinese characters, and the snippet reads as the text does
    (row,) = one.search("对话")
    assert row["id"] == zh.id and "继续[对话]" in row["snippet"]  # one marked word, no spaces inside


def test_storage_url_selects_postgresql(tmp_path, pg_url):
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "{pg_url}"\n', encoding="utf-8")
    loaded = load_config(config)
    assert loaded.backend == "postgresql"
    with open_store(loaded) as store:
        assert store.backend == "postgresql" and store.schema_version >= 1


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://news:secret@db.example/newswatch", "the password must not be in config.toml"),
    ("mysql://db.example/newswatch", "expected a postgresql:// URL"),
])
def test_bad_storage_urls_are_refused_with_the_line(tmp_path, url, message):
    config = tmp_path / "config.toml"
    config.write_text(f'# newswatch\n[storage]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert f"config.toml:3: storage.url: {message}" in str(error.value)


def test_an_unreachable_server_is_one_line_and_unhealthy(tmp_path, capsys):
    from pipeline.cli import main

    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "postgresql://newswatch@/newswatch?host={tmp_path}/nothing-here"\n',
                      encoding="utf-8")
    assert main(["status", "--config", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("newswatch: cannot connect to postgresql://newswatch@/newswatch") and "\n" not in err
    assert main(["health", "--config", str(config)]) == 1
    assert capsys.readouterr().out.startswith("unhealthy: cannot connect to")


def test_a_database_from_a_newer_version_is_refused(pg_url):
    import psycopg

    from pipeline.store.postgres import SCHEMA_VERSION, PostgresStore, close_pool

    PostgresStore(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = %s", [SCHEMA_VERSION + 1])
    close_pool(pg_url)  # a new process: it checks the version again
    with pytest.raises(RuntimeError, match="newer"):
        PostgresStore(pg_url)


def test_a_version_1_database_is_migrated_keeping_its_rows(pg_url):
    import psycopg

    from pipeline.store.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresStore

    # a database as the first PostgreSQL release left it, with a pending entry in it
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        MIGRATIONS[0](conn.cursor())
        conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        conn.execute("INSERT INTO schema_version (version) VALUES (1)")
        conn.execute("INSERT INTO entries (canonical_url, url, source, state, next_attempt_at) VALUES "
                     "('a.example/1', 'https://a.example/1', 'A', 'pending', '2000-01-01T00:00:00+00:00')")
    store = PostgresStore(pg_url)
    assert store.schema_version == SCHEMA_VERSION >= 3
    (entry,) = store.pending_entries(10)
    assert entry.url == "https://a.example/1" and entry.link_problem is None
    assert store.feedback() == [] and store.entry_problems() == {} and store.recent_cycles() == []
    assert store.queue_activity().due == 1 and store.failed_entries() == []
    store.set_feedback(entry.id, "t", verdict="relevant")
    assert [(r["entry_id"], r["verdict"], r["judged_score"]) for r in store.feedback()] == [(entry.id, "relevant", 0.0)]


def test_what_counts_as_the_database_failing_rather_than_one_unit(pg_url):
    import psycopg

    from pipeline.store import StoreUnavailable
    from pipeline.store.postgres import PostgresStore

    def raised(*statements: str) -> Exception:
        with psycopg.connect(pg_url, autocommit=True) as conn, pytest.raises(psycopg.Error) as error:
            for statement in statements:
                conn.execute(statement)
        return error.value

    PostgresStore(pg_url).sync_sources(SOURCES)
    # the server failing every unit alike: here a statement it cancelled; a connection it cannot give
    assert PostgresStore.is_storage_failure(raised("SET statement_timeout = 1", "SELECT pg_sleep(1)"))
    assert PostgresStore.is_storage_failure(StoreUnavailable("cannot connect"))
    # one unit's data: a value of the wrong type, a row that is already there
    assert not PostgresStore.is_storage_failure(raised("SELECT 'x'::integer"))
    assert not PostgresStore.is_storage_failure(raised("INSERT INTO sources (name) VALUES ('A')"))
    assert not PostgresStore.is_storage_failure(ValueError("Port out of range 0-65535"))


def test_korean_articles_indexed_before_v11_are_reindexed_by_the_migration(pg_url):
    """A database from before Hangul was indexed per syllable: v11 rebuilds those search vectors."""
    import psycopg

    from pipeline.store.postgres import SCHEMA_VERSION, PostgresStore, close_pool

    store = PostgresStore(pg_url)
    store.sync_sources([Source("K", "https://k.example/", "ko", (FeedConfig("https://k.example/rss"),))])
    store.add_items(next(f["id"] for f in store.feeds()), "K", [item("https://k.example/1")])
    (entry,) = store.pending_entries(1)
    store.complete_entry(entry.id, Article(title="국방장관 통화", text="미국 국방장관은 중국 측과 통화했다.",
                                           language="ko"), [])
    with psycopg.connect(pg_url, autocommit=True) as conn:
        # The vector as v10 wrote it: Hangul left in whole words.
        conn.execute("UPDATE articles SET tsv = setweight(to_tsvector('simple', title), 'A') "
                     "|| to_tsvector('simple', text)")
        conn.execute("UPDATE schema_version SET version = 10")
        found = "SELECT count(*) FROM articles WHERE tsv @@ phraseto_tsquery('simple', '국 방 장 관')"
        assert conn.execute(found).fetchone()[0] == 0  # whole words only: 국방장관 not found alone
    close_pool(pg_url)
    store = PostgresStore(pg_url)
    assert store.schema_version == SCHEMA_VERSION >= 11
    assert [r["title"] for r in store.search_items("국방장관")] == ["국방장관 통화"]
