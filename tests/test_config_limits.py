"""Issue 24 item 9: configurations that were accepted but unusable, or gave tracebacks, are one line
and exit 2 at start-up (a store that cannot be used: one line and exit 1)."""

from __future__ import annotations

import sqlite3

import pytest
from config_helpers import write_config

from pipeline.cli import main
from pipeline.service import Service

SOURCE = 'name = "Wire"\n\n[[feeds]]\nurl = "http://127.0.0.1:9/feed.xml"\n'


def start(tmp_path, capsys, body: str = "", source: str = SOURCE, command: str = "poll") -> tuple[int, list[str]]:
    config = write_config(tmp_path)
    base = config.read_text()
    for table in ("[storage]\n", "[network]\n"):  # tables the helper writes: add to them, not again
        if body.startswith(table):
            key = body[len(table):].split(" =")[0]
            base = "\n".join(line for line in base.splitlines() if not line.startswith(f"{key} =")) + "\n"
            base, body = base.replace(table, body, 1), ""
    config.write_text(base + body)
    (tmp_path / "sources").mkdir(exist_ok=True)
    (tmp_path / "sources" / "wire.toml").write_text(source, encoding="utf-8")
    capsys.readouterr()
    code = main([command, "--config", str(config)])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(("body", "key", "expected"), [
    ('[email]\nrecipients = ["desk@example.org\\r\\nBcc: all@example.org"]\n', "email.recipients", "line breaks"),
    ('[email]\nrecipients = ["desk@example.org", "not an address"]\n', "email.recipients", "an email address"),
    ('[network]\nuser_agent = "newswatch\\r\\nX-Injected: 1"\n', "network.user_agent", "line breaks"),
    ('[digest]\ntopics = ["us-china-milcom"]\n', "digest.topics", "no topic file defines 'us-china-milcom'"),
    ("[topics]\nfiles = []\n", "topics.files", "at least 1 item"),
    ("[schedule]\npoll_interval_minutes = 1e300\n", "schedule.poll_interval_minutes", "less than or equal"),
    ("[schedule]\nmax_interval_minutes = 1e300\n", "schedule.max_interval_minutes", "less than or equal"),
    ("[schedule]\nmin_interval_minutes = 400\n", "schedule", "is above max_interval_minutes"),
    ("[storage]\nkeep_html_days = 1000000000\n", "storage.keep_html_days", "less than or equal to 36500"),
    ("[email]\ntimeout = 1e308\n", "email.timeout", "less than or equal to 3600"),
    ("[network]\nmin_host_delay = 1e300\n", "network.min_host_delay", "less than or equal to 3600"),
    ("[health]\nmax_poll_age_minutes = 1e300\n", "health.max_poll_age_minutes", "less than or equal"),
    ('[storage]\npath = "sources"\n', "storage.path", "is a directory"),
    ('[storage]\npath = "/proc/no/such/newswatch.db"\n', "storage.path", "cannot create the database"),
])
def test_an_unusable_value_is_one_line_and_exit_2(tmp_path, capsys, body, key, expected):
    code, err = start(tmp_path, capsys, body)
    assert code == 2, err
    assert len(err) == 1 and f": {key}: " in err[0] and expected in err[0], err


@pytest.mark.parametrize(("source", "key"), [
    (SOURCE.replace("[[feeds]]", "min_delay = 1e300\n\n[[feeds]]"), "min_delay"),
    (SOURCE + "interval = 1e300\n", "feeds.0.interval"),
])
def test_a_source_number_too_large_to_use_is_one_line(tmp_path, capsys, source, key):
    code, err = start(tmp_path, capsys, source=source)
    assert code == 2 and len(err) == 1 and "wire.toml:" in err[0] and f": {key}: " in err[0], err


def test_a_utf16_topic_file_is_one_line(tmp_path, capsys):
    (tmp_path / "topic.toml").write_text('id = "x"\n', encoding="utf-16")
    code, err = start(tmp_path, capsys, '[topics]\nfiles = ["topic.toml"]\n')
    assert code == 2 and len(err) == 1 and "topics.files: expected a UTF-8 topic file" in err[0], err


def test_a_corrupt_database_and_a_future_schema_are_one_line(tmp_path, capsys):
    (tmp_path / "newswatch.db").write_bytes(b"this is not a database, it is a note to self " * 100)
    code, err = start(tmp_path, capsys)
    assert code == 1 and len(err) == 1 and "is not a usable newswatch database" in err[0], err
    (tmp_path / "newswatch.db").unlink()
    with sqlite3.connect(tmp_path / "newswatch.db") as db:
        db.execute("PRAGMA user_version = 999")
    code, err = start(tmp_path, capsys, command="status")
    assert code == 1 and len(err) == 1 and "schema version 999 is newer than this newswatch" in err[0], err


def test_run_does_not_exit_0_on_a_broken_pipe_at_start_up(tmp_path, capsys, monkeypatch):
    def closed_pipe(self):  # what writing start-up output to a closed pipe raises
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(Service, "run", closed_pipe)
    code, err = start(tmp_path, capsys, command="run")
    assert code == 1 and err == ["newswatch: cannot run: its output pipe is closed (broken pipe)"]


def test_run_with_a_storage_path_that_cannot_be_created_is_one_line(tmp_path, capsys):
    code, err = start(tmp_path, capsys, '[storage]\npath = "/proc/no/such/newswatch.db"\n', command="run")
    assert code == 2 and len(err) == 1 and ": storage.path: cannot create the database at" in err[0], err
