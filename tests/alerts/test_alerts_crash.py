"""SIGKILL between sending an alert and recording it: the next sender resends it at most once, says
so, and a resend interrupted again is given up rather than sent a third time. A real subprocess, a
real receiver on 127.0.0.1 and Apprise itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from httpserver import LocalServer, Response
from waiting import COMMAND_DEADLINE, wait_for

from pipeline.alerts import send_due
from pipeline.alerts.outbox import LEASE
from pipeline.config import load_config
from pipeline.store import Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SENDER = ("import sys\nfrom datetime import datetime\nfrom pipeline.alerts import send_due\n"
          "from pipeline.config import load_config\nfrom pipeline.store import Store\n"
          "config = load_config(sys.argv[1])\n"
          "with Store(config.db_path) as store:\n    send_due(store, config, datetime.fromisoformat(sys.argv[2]))\n")


def sender_killed_mid_send(config_path, receiver: LocalServer, env: dict, now: datetime) -> None:
    """A sender whose message reached the receiver, killed before it could record that."""
    before = len(receiver.requests)
    process = subprocess.Popen([sys.executable, "-c", SENDER, str(config_path), now.isoformat()], env=env)
    try:
        wait_for(lambda: len(receiver.requests) > before or process.poll() is not None)
        assert process.poll() is None, "the sender ended before its message arrived"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=COMMAND_DEADLINE)


def test_sigkill_between_send_and_record_resends_at_most_once(tmp_path, monkeypatch):
    with LocalServer() as receiver:
        # The receiver has each message, then keeps the sender waiting: the moment to kill it.
        stalled = Response(body=b"{}", delay=120)
        receiver.route("/hook", [stalled, stalled, Response(body=b"{}")])
        url = f"json://127.0.0.1:{receiver.port}/hook?rto=300"  # Apprise waits for the stalled answer
        monkeypatch.setenv("NW_CRASH_URL", url)
        env = dict(os.environ)
        config_path = tmp_path / "config.toml"
        config_path.write_text('[storage]\npath = "x.db"\n[[channels]]\nname = "desk"\n'
                               'url_env = "NW_CRASH_URL"\nreceives = ["alerts"]\n', encoding="utf-8")
        config = load_config(config_path)
        with Store(config.db_path) as store:
            store.add_delivery("desk", "alert", "t/1", topic="t", entry_id=1, status="pending",
                               title="Hotline restored", body="wire · ...", created_at=NOW)

        sender_killed_mid_send(config_path, receiver, env, NOW)
        with Store(config.db_path) as store:
            record = store.delivery("desk", "alert", "t/1")
            assert record["status"] == "sending"
            assert send_due(store, config, NOW + LEASE / 2) == []  # its lease still holds: not sent twice

        # Once the lease is over, sent again, marked as a resend; killed once more before recording.
        sender_killed_mid_send(config_path, receiver, env, NOW + LEASE + timedelta(seconds=1))
        titles = [json.loads(r.body)["title"] for r in receiver.requests]
        assert titles == ["Hotline restored", "[resent] Hotline restored"]

        with Store(config.db_path) as store:
            assert store.delivery("desk", "alert", "t/1")["status"] == "resending"
            (outcome,) = send_due(store, config, NOW + 3 * LEASE)
            assert outcome.status == "failed" and "not sent a third time" in outcome.detail
            record = store.delivery("desk", "alert", "t/1")
            assert record["status"] == "failed" and record["next_attempt_at"] is None
            assert send_due(store, config, NOW + timedelta(days=2)) == []
        assert len(receiver.requests) == 2


def test_a_sender_killed_once_resends_once_and_records_it(tmp_path, monkeypatch):
    with LocalServer() as receiver:
        receiver.route("/hook", [Response(body=b"{}", delay=120), Response(body=b"{}")])
        url = f"json://127.0.0.1:{receiver.port}/hook?rto=300"
        monkeypatch.setenv("NW_CRASH_URL", url)
        config_path = tmp_path / "config.toml"
        config_path.write_text('[storage]\npath = "x.db"\n[[channels]]\nname = "desk"\n'
                               'url_env = "NW_CRASH_URL"\n', encoding="utf-8")
        config = load_config(config_path)
        with Store(config.db_path) as store:
            store.add_delivery("desk", "digest", "t/daily/2026-03-09", topic="t", status="pending",
                               title="Digest", body="...", created_at=NOW)
        sender_killed_mid_send(config_path, receiver, dict(os.environ), NOW)
        with Store(config.db_path) as store:
            (outcome,) = send_due(store, config, NOW + LEASE + timedelta(seconds=1))
            assert outcome.status == "sent" and "may have arrived twice" in outcome.detail
            record = store.delivery("desk", "digest", "t/daily/2026-03-09")
            assert record["status"] == "sent" and "resent" in record["note"]
            assert send_due(store, config, NOW + timedelta(days=2)) == []
        assert len(receiver.requests) == 2
