"""Issue 21, the first hour of a new user: the command as printed, --config anywhere, every config
error at once, a port in use, the demo's store kept, backups."""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from config_helpers import write_config
from waiting import COMMAND_DEADLINE

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo(demo_output, tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(demo_output, copy)
    return copy


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_the_demo_prints_at_its_end_runs_as_printed(tmp_path):
    script = Path(sys.executable).parent / "newswatch"  # what `make demo` runs: .venv/bin/newswatch
    done = subprocess.run([str(script), "demo", "--output", "demo-output"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    hints = [line.split("`")[1] for line in done.stdout.splitlines() if line.startswith("demo: see")]
    assert hints and "status --config demo-output/config.toml" in hints[0]
    again = subprocess.run(shlex.split(hints[0]), cwd=tmp_path, capture_output=True, text=True,
                           timeout=COMMAND_DEADLINE)
    assert again.returncode == 0, again.stderr
    assert "feeds: 4 (4 ok)" in again.stdout
    # a second demo keeps the store (the reader's feedback is in it) and says how to replace it
    with sqlite3.connect(tmp_path / "demo-output" / "newswatch.db") as db:
        db.execute("UPDATE feeds SET items_seen = 4242")
    done = subprocess.run([str(script), "demo", "--output", "demo-output"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "kept the store of the previous demo" in done.stdout
    assert "make demo FRESH=1" in done.stdout
    with sqlite3.connect(tmp_path / "demo-output" / "newswatch.db") as db:
        assert db.execute("SELECT max(items_seen) FROM feeds").fetchone()[0] == 4242


def test_config_and_json_before_or_after_the_command_and_from_the_environment(demo, capsys, monkeypatch):
    config = str(demo / "config.toml")
    code, out, _ = run(capsys, "--config", config, "status")
    assert code == 0 and "feeds: 4 (4 ok)" in out
    code, out, _ = run(capsys, "--json", "--config", config, "status")
    assert code == 0 and out.lstrip().startswith("{")
    code, out, _ = run(capsys, "status", "--config", config, "--json")
    assert code == 0 and out.lstrip().startswith("{")
    monkeypatch.setenv("NEWSWATCH_CONFIG", config)
    monkeypatch.chdir(demo.parent)
    code, out, _ = run(capsys, "status")
    assert code == 0 and "feeds: 4 (4 ok)" in out
    # the flag wins over the environment
    code, _, err = run(capsys, "status", "--config", str(demo / "nope.toml"))
    assert code == 2 and "nope.toml" in err


def test_every_config_error_is_shown_at_once_with_did_you_mean(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[storag]\npath = "x.db"\n\n[digest]\ntiem = "07:00"\n\n[schedule]\npoll_interval_minutes = 0\n')
    code, _, err = run(capsys, "status", "--config", str(config))
    assert code == 2
    assert err.splitlines() == [
        f"newswatch: configuration error: {config}:1: storag: unknown key; did you mean 'storage'?",
        f"newswatch: configuration error: {config}:5: digest.tiem: unknown key; did you mean 'time'?",
        f"newswatch: configuration error: {config}:8: schedule.poll_interval_minutes: input should be greater "
        "than 0, got 0",
    ]


def test_a_port_in_use_is_one_line_and_exit_2_before_anything_says_it_serves(demo, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, "serve", "--config", str(demo / "config.toml"), "--port", str(port))
    assert code == 2
    assert err.strip().splitlines() == [f"newswatch: cannot serve on 127.0.0.1:{port}: Address already in use "
                                        "(choose another with --port)"]
    assert "reading room on" not in out + err


def test_db_backup_and_restore_and_vacuum_tells_the_truth(demo, capsys, tmp_path):
    config = str(demo / "config.toml")
    code, out, _ = run(capsys, "db", "backup", str(tmp_path / "b.db"), "--config", config)
    assert code == 0 and "backed up" in out and "db restore" in out
    assert run(capsys, "db", "backup", str(tmp_path / "b.db"), "--config", config)[0] == 1  # never overwrites
    with sqlite3.connect(demo / "newswatch.db") as db:
        db.execute("DELETE FROM feedback")
        db.execute("DELETE FROM tags")
    code, out, _ = run(capsys, "db", "restore", str(tmp_path / "b.db"), "--config", config)
    assert code == 0 and "the store it replaced is kept in" in out
    with sqlite3.connect(demo / "newswatch.db") as db:
        assert db.execute("SELECT count(*) FROM tags").fetchone()[0] > 0
    assert list(demo.glob("newswatch.db.before-restore-*"))
    code, _, err = run(capsys, "db", "restore", str(demo / "config.toml"), "--config", config)
    assert code == 1 and "is not a SQLite database" in err
    code, out, _ = run(capsys, "vacuum", "--config", config)
    before, after = (int(n.replace(",", "")) for n in out.split("database ")[1].split(" bytes")[0].split(" -> "))
    assert code == 0 and (f"freed {before - after:,} bytes" in out if after <= before
                          else f"grew by {after - before:,} bytes" in out)


def test_db_backup_on_postgresql_gives_pg_dump_advice(tmp_path, capsys):
    config = write_config(tmp_path, '')
    config.write_text(config.read_text().replace('[storage]\npath = "newswatch.db"',
                                                 '[storage]\nurl = "postgresql://nw@127.0.0.1:1/nw"'))
    code, _, err = run(capsys, "db", "restore", "x.dump", "--config", str(config))
    assert code == 1 and "pg_restore --clean --if-exists --dbname 'postgresql://nw@127.0.0.1:1/nw' x.dump" in err
    code, _, err = run(capsys, "db", "backup", "x.dump", "--config", str(config))  # no server needed to advise
    assert code == 1 and "pg_dump --format=custom --file x.dump 'postgresql://nw@127.0.0.1:1/nw'" in err


def test_the_readme_exit_codes_are_the_programs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme.split("Exit codes: ", 1)[1].split("\n\n", 1)[0]
    documented = {int(n) for n in re.findall(r"(?:^|, )(\d+) ", paragraph)}
    source = (ROOT / "pipeline" / "cli.py").read_text(encoding="utf-8")
    used = {int(n) for n in re.findall(r"return (\d+)\b", source)} | {1}  # SystemExit("message") is 1
    assert used == documented == {0, 1, 2, 130}


@pytest.mark.parametrize("argv", [["status"], ["db", "backup"], ["sources", "import-opml"], ["health"], ["serve"]])
def test_each_commands_help_has_an_example(capsys, argv):
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    assert "example:\n  newswatch " in capsys.readouterr().out
