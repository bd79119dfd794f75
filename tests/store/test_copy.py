"""`newswatch db copy`: the demo's SQLite store into PostgreSQL and back, losslessly and re-runnably."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.cli import main
from pipeline.models import Article, Evidence, FeedConfig, FeedItem, Source, Tag
from pipeline.store import SqliteStore
from pipeline.store.copy import copy_store
from pipeline.store.postgres import PostgresStore

PG_ONLY = {"locked_by", "locked_until"}


def snapshot(store) -> dict:
    """Everything the public methods show, with the columns only PostgreSQL keeps left out."""
    def clean(rows):
        return [{k: v for k, v in r.items() if k not in PG_ONLY} for r in rows]

    return {
        "feeds": clean(store.feeds()),
        "articles": clean(store.articles()),
        "digests": clean(store.digest_records()),
        "counts": store.counts(),
        "entries": [clean([store.find_entry(str(r["id"]))]) for r in store.articles()],
        "boilerplate": {f["source"]: store.boilerplate(f["source"]) for f in store.feeds()},
        "feedback": store.feedback(),
    }


@pytest.fixture
def demo_db(demo_output):
    return demo_output / "newswatch.db"


def test_copy_to_postgresql_and_back_is_lossless_and_safe_to_repeat(demo_output, demo_db, pg_url, tmp_path, capsys):
    config = str(demo_output / "config.toml")
    assert main(["db", "copy", "--config", config, "--to", pg_url, "--quiet", "--batch", "3"]) == 0
    report = capsys.readouterr().out
    assert "entries" in report and "MISMATCH" not in report
    assert main(["db", "copy", "--config", config, "--to", pg_url, "--quiet"]) == 0  # again: same rows
    with SqliteStore(demo_db) as original, PostgresStore(pg_url) as copied:
        before = snapshot(original)
        assert snapshot(copied) == before
        assert {r["id"] for r in copied.search("Pentagon")} == {r["id"] for r in original.search("Pentagon")} != set()
        # new rows continue after the copied ids instead of colliding with them
        copied.log_event("test", "after the copy")

    back = tmp_path / "back.db"
    pg_config = tmp_path / "pg.toml"
    pg_config.write_text(f'[storage]\nurl = "{pg_url}"\n', encoding="utf-8")
    assert main(["db", "copy", "--config", str(pg_config), "--to", str(back), "--quiet"]) == 0
    with SqliteStore(back) as returned:
        assert snapshot(returned) == before
        assert returned.search("Pentagon") != []


def test_copy_into_a_store_with_other_rows_reports_the_mismatch(demo_output, tmp_path, capsys):
    other = tmp_path / "other.db"
    with SqliteStore(other) as store:
        store.log_event("unrelated", "was here before")
    assert main(["db", "copy", "--config", str(demo_output / "config.toml"), "--to", str(other), "--quiet"]) == 1
    out = capsys.readouterr()
    assert "MISMATCH" in out.out and "row counts differ" in out.err


def test_the_readers_feedback_and_entries_without_a_link_move_both_ways(tmp_path, pg_url):
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    tag = Tag("t", 0.9, "strong", (Evidence("The hotline was restored.", ("hotline",)),))
    rows = [(FeedItem(url=f"https://a.example/{n}", canonical_url=f"https://a.example/{n}", guid=None,
                      title=f"Story {n}", summary="", published=None),
             Article(title=f"Story {n}", text="The hotline was restored.", language="en"), [tag], day)
            for n in (1, 2, 3)]
    with SqliteStore(tmp_path / "first.db") as original:
        original.sync_sources([Source("A", "https://a.example/", "en", (FeedConfig("https://a.example/rss"),))])
        feed = original.feeds()[0]["id"]
        original.bulk_insert_items(rows, feed, "A")
        original.add_items(feed, "A", [FeedItem(url="", canonical_url="feed-text:x", guid="x", title="No link",
                                                summary="s", published=None, link_problem="no link")],
                           skipped=["no link, and no title or summary to store"])
        problems = original.entry_problems()
        original.set_feedback(1, "t", verdict="not_relevant")
        original.set_feedback(2, "t", starred=True)
        original.set_feedback(3, "t", verdict="relevant", starred=True)
        before = original.feedback()
        with PostgresStore(pg_url) as copied:
            counts = {c.table: (c.source, c.target) for c in copy_store(original, copied, batch=2)}
            assert counts["feedback"] == (3, 3)
            assert copied.feedback() == before
            assert copied.entry_problems() == problems and problems[feed].skipped
            assert [p.link_problem for p in copied.pending_entries(10)] == ["no link"]
            # the copy honours the verdicts as the original does
            assert [i.entry_id for i in copied.tagged_items("t", day - timedelta(hours=1), day + timedelta(hours=1))
                    ] == [2, 3]
            with SqliteStore(tmp_path / "back.db") as back:
                assert {c.table: c.ok for c in copy_store(copied, back)}["feedback"]
                assert back.feedback() == before
                assert back.entry_problems() == problems


def test_every_table_of_the_schema_is_copied_or_named_as_not_copied(tmp_path):
    """A table a migration adds is copied by `db copy` unless it is named as each store's own."""
    from pipeline.store.copy import NOT_COPIED, TABLES

    with SqliteStore(tmp_path / "n.db") as store:
        tables = {
            name for (name,) in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith(("sqlite_", "articles_fts_"))
        }
    assert tables == set(TABLES) | set(NOT_COPIED)
