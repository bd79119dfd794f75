"""Three services share one PostgreSQL; one of them is SIGKILLed at busy moments, ten times.

A process dies holding leases on feeds and entries; its leases run out and the others take the
work over. At the end every served item is stored once, none is lost, the on-topic ones are tagged,
and the digest that was due at start reached the inbox once. All real: service subprocesses, an
embedded PostgreSQL server, HTTP on 127.0.0.1, SMTP through aiosmtpd.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import test_crash
from config_helpers import write_config
from digest_helpers import Inbox, free_port, smtp_server
from httpserver import LocalServer
from test_crash import ROOT, newsroom, seed_due_digest, wait_until_gone
from waiting import COMMAND_DEADLINE

from pipeline.cli import main
from pipeline.store.postgres import PostgresStore

SERVICES, KILLS = 3, 10
LEASE_SECONDS = 3  # short, so that a killed process's work changes hands within the test


def start(config: Path, role: str = "all") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--config", str(config), "--tick", "1",
                             "--role", role],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)


def holder(service: subprocess.Popen) -> str:
    import socket

    return f"{socket.gethostname()}:{service.pid}"


def busy_services(store: PostgresStore, services: list[subprocess.Popen], done_before: int, more: int,
                  timeout: float = 120.0) -> list[int]:
    """Until `more` entries finished since the last kill and some services hold entries (pages in
    flight); returns the indexes of those services."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for service in services:
            assert service.poll() is None, service.stderr.read()
        held = {p["id"]: p["entries_held"] for p in store.processes()}
        busy = [i for i, s in enumerate(services) if held.get(holder(s), 0) > 0]
        if busy and store.counts()["done"] >= done_before + more:
            return busy
        time.sleep(0.05)
    raise AssertionError(f"no service held entries, or fewer than {more} finished, in {timeout} s")


def test_sigkill_one_of_three_services_10_times_loses_nothing_and_mails_once(tmp_path, pg_url, monkeypatch):
    monkeypatch.setattr(test_crash, "PAGE_DELAY", 0.3)
    inbox, port = Inbox(), free_port()
    smtp = smtp_server(port, inbox)
    with LocalServer() as server:
        served = newsroom(server, tmp_path)
        email = (f'[email]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
                 'sender = "digest@newswatch.example"\nrecipients = ["ana@example.org"]\ntimeout = 5\n')
        digest = '[digest]\ntime = "00:00"\ntimezone = "UTC"\nformats = ["markdown"]\noutput_dir = "digests"\n\n'
        # The due digest's seed story needs dates in the past: written to SQLite, then copied over.
        seed_config = write_config(tmp_path, digest + email)
        seed = seed_due_digest(seed_config)
        assert main(["db", "copy", "--config", str(seed_config), "--to", pg_url, "--quiet"]) == 0
        config = tmp_path / "pg.toml"
        # small batches: each process claims a few pages at a time, so all three share the queue
        config.write_text(seed_config.read_text().replace(
            "[storage]\n", f'[storage]\nurl = "{pg_url}"\nlease_seconds = {LEASE_SECONDS}\n', 1)
            + "\n[schedule]\nprocess_batch = 4\n", encoding="utf-8")

        store = PostgresStore(pg_url, lease_seconds=LEASE_SECONDS)
        rng = random.Random(20261202)
        began = time.monotonic()
        services = [start(config) for _ in range(SERVICES)]
        killed: list[int] = []
        try:
            for _ in range(KILLS):
                index = rng.choice(busy_services(store, services, store.counts()["done"], rng.randint(1, 3)))
                victim = services[index]
                victim.kill()
                victim.wait(10)
                victim.stderr.close()
                killed.append(victim.pid)
                services[index] = start(config)
            left = [pid for sid in killed for pid in wait_until_gone(sid)]
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            assert not left, f"processes outlived a SIGKILLed service: {left}"
            # A kill inside the send leaves the claim's lease (>= 5 min) in force longer than this test
            # runs: let that time pass in the ledger, as it would in a service's life.
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute("UPDATE digests SET next_attempt_at = %s WHERE channel = 'email' AND status IN "
                             "('sending', 'resending')", [(datetime.now(UTC) - timedelta(seconds=1)).isoformat()])
            print(f"kills done at {time.monotonic() - began:.0f} s: {store.counts()}")
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                c = store.counts()
                if c["done"] == len(served) + 1 and c["pending"] == 0 and any(
                        d["channel"] == "email" for d in store.digest_records("sent")):
                    break
                time.sleep(0.3)
            print(f"finished at {time.monotonic() - began:.0f} s: {store.counts()}")
        finally:
            for service in services:
                service.send_signal(signal.SIGTERM)
            errors = [service.communicate(timeout=COMMAND_DEADLINE)[1] for service in services]
            smtp.stop()
        assert [s.returncode for s in services] == [0] * SERVICES, errors[0][-3000:]
        assert [pid for s in services for pid in wait_until_gone(s.pid)] == []

    final = store.counts()
    articles = {row["url"]: row for row in store.articles()}
    tagged = {i.url for i in store.tagged_items("us-china-milcomm", datetime.now(UTC) - timedelta(days=3),
                                                datetime.now(UTC) + timedelta(days=1))}
    email_records = [d for d in store.digest_records() if d["channel"] == "email"]
    assert final["entries"] == len(served) + 1, "an item was stored twice or an extra row appeared"
    assert set(articles) - {seed} == set(served), "an item the server serves was lost"
    assert final["pending"] == 0 and final["failed"] == 0 and final["done"] == len(served) + 1
    assert [u for u, on in served.items() if on and u not in tagged] == []
    assert [u for u, on in served.items() if not on and u in tagged] == []
    assert store.processes() == []  # each stopped service handed its leases back

    assert len(email_records) == 1 and email_records[0]["status"] == "sent", email_records
    ids = [m["Message-ID"] for _, m in inbox.messages]
    assert ids and set(ids) == {email_records[0]["message_id"]}, ids
    assert len(ids) == 1 or (len(ids) == 2 and email_records[0]["attempts"] >= 2), (ids, email_records)
