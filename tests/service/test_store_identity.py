"""Issue 24, cases 5 and 10: the store deleted, replaced or turned read-only under `newswatch run`.

A real service on a real SQLite file. Read-only is made with `chattr +i` on the database file:
the tests run as root, for whom chmod stops no write, while the immutable flag stops root too
(SQLite then opens the file read-only and every write fails with SQLITE_READONLY). Where chattr
is refused (a file system without the flag, no CAP_LINUX_IMMUTABLE) that test is skipped.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from config_helpers import write_config
from waiting import COMMAND_DEADLINE, REQUEST_DEADLINE, wait_for
from web_helpers import free_port

from pipeline.cli import main
from pipeline.store import Store


@pytest.fixture
def service(tmp_path):
    (tmp_path / "sources").mkdir()
    config = write_config(tmp_path)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--config", str(config), "--tick", "1",
                                "--metrics-port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    db = tmp_path / "newswatch.db"
    wait_for(lambda: cycles(db) >= 1)
    process.metrics_port = port
    yield process, config, db, lines
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait(timeout=COMMAND_DEADLINE)
    reader.join(10)


def cycles(db: Path) -> int:
    """Cycles recorded, read without creating or writing anything."""
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM cycles").fetchone()[0]
    except sqlite3.OperationalError:  # the service is still creating the schema
        return 0


def metrics(port: int) -> str:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=REQUEST_DEADLINE).text
    except httpx.TransportError:
        return ""


def logged(lines: list[str], text: str) -> str | None:
    return next((line for line in list(lines) if text in line), None)


def test_a_deleted_database_is_not_recreated_and_the_service_resumes_when_it_is_back(service, capsys):
    process, config, db, lines = service
    moved = db.with_name("moved-away.db")
    db.rename(moved)
    line = wait_for(lambda: logged(lines, "is gone (deleted or moved away); pausing every job"))
    assert str(db) in line
    assert main(["health", "--config", str(config)]) == 1
    assert "unhealthy" in capsys.readouterr().out
    scraped = metrics(process.metrics_port)
    assert "newswatch_healthy 0" in scraped and 'newswatch_health_check_failing{check="store"} 1' in scraped
    # Every job since checked first: still no new, empty database where the old one was.
    assert not db.exists() and process.poll() is None
    assert sum("is gone" in line for line in lines) == 1  # said once, not every tick
    moved.rename(db)
    wait_for(lambda: logged(lines, "the store is back and writable; resuming"))
    before = cycles(db)
    wait_for(lambda: cycles(db) > before)


def test_another_store_in_its_place_stops_the_service_with_one_line(service):
    process, _, db, lines = service
    other = db.with_name("other.db")
    with Store(other):
        pass
    os.replace(other, db)
    assert process.wait(timeout=COMMAND_DEADLINE) == 1
    stopping = [line for line in lines if "stopping: restart the service to use it" in line]
    assert len(stopping) == 1 and "was replaced by another file" in stopping[0], "".join(lines)


def _immutable(path: Path, on: bool) -> bool:
    return subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True).returncode == 0


def test_a_read_only_database_pauses_the_service_and_health_and_status_say_so(service, capsys):
    process, config, db, lines = service
    if not _immutable(db, True):
        pytest.skip("chattr +i is refused here: no way to make the file read-only for root")
    try:
        wait_for(lambda: logged(lines, "is read-only"))
        assert main(["health", "--config", str(config)]) == 1
        out = capsys.readouterr().out
        assert "unhealthy: the store cannot be written, so the service is paused: read-only" in out, out
        assert main(["status", "--config", str(config)]) == 0
        status = capsys.readouterr().out
        assert "store: read-only" in status and "last cycle: ok" not in status, status
        scraped = metrics(process.metrics_port)
        assert 'newswatch_health_check_failing{check="store"} 1' in scraped and "read-only" in scraped
        assert process.poll() is None
    finally:
        _immutable(db, False)
    wait_for(lambda: logged(lines, "the store is back and writable; resuming"))
    before = cycles(db)
    wait_for(lambda: cycles(db) > before)
