"""`newswatch db copy`: the demo's SQLite store into PostgreSQL and back, losslessly and re-runnably."""

from __future__ import annotations

import pytest

from pipeline.cli import main
from pipeline.store import SqliteStore
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
