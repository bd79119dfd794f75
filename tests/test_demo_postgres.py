"""The acceptance check of the PostgreSQL backend: the demo against a real server, read back by status."""

from __future__ import annotations

import json

from test_demo_e2e import SEED_TITLES

from pipeline.cli import main


def test_demo_on_postgresql_leaves_both_seed_stories_and_status_reads_that_database(pg_url, tmp_path, capsys):
    output = tmp_path / "demo"
    assert main(["demo", "--output", str(output), "--storage", pg_url]) == 0
    assert not (output / "newswatch.db").exists()  # the store is the database, not a file beside it
    (folder,) = [p for p in (output / "digest" / "us-china-milcomm").iterdir() if p.is_dir()]
    markdown = (folder / "digest.md").read_text()
    for title in SEED_TITLES:
        assert title in markdown
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(output / "config.toml")]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["backend"] == "postgresql"
    assert status["feeds_by_health"] == {"ok": 4}
    assert status["entries"]["tagged"] >= 2 and status["queue_depth"] == 0


def test_status_names_the_sqlite_backend_too(demo_output, capsys):
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(demo_output / "config.toml")]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["backend"] == "sqlite" and status["processes"] == []
