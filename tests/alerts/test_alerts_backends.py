"""The outbox on both store backends: the same claim-send-record and summary, whatever the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from httpserver import LocalServer, Response

from pipeline.alerts import send_due
from pipeline.config import load_config
from pipeline.store import SqliteStore

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "n.db") as s:
            yield s
        return
    from pipeline.store.postgres import PostgresStore

    with PostgresStore(request.getfixturevalue("pg_url")) as s:
        yield s


def test_a_message_refused_once_is_delivered_once_and_held_ones_are_summarized(store, tmp_path, monkeypatch):
    with LocalServer() as hook:
        hook.route("/hook", [Response(status=500), Response(body=b"{}")])
        monkeypatch.setenv("NW_URL", f"json://127.0.0.1:{hook.port}/hook")
        (tmp_path / "config.toml").write_text('[[channels]]\nname = "desk"\nurl_env = "NW_URL"\n'
                                              "[alerts]\nmax_per_hour = 1\n", encoding="utf-8")
        config = load_config(tmp_path / "config.toml")
        store.add_delivery("desk", "digest", "t/daily/2026-03-09", status="pending", title="Digest", body="…",
                           created_at=NOW)
        for n in (1, 2):
            store.add_delivery("desk", "alert", f"t/{n}", topic="t", entry_id=n, status="pending",
                               title=f"Alert {n}", body="…", created_at=NOW + timedelta(seconds=n))
        first = {o.key: o.status for o in send_due(store, config, NOW)}
        assert first == {"t/daily/2026-03-09": "failed", "t/1": "sent", "t/2": "held"}
        retry = datetime.fromisoformat(store.delivery("desk", "digest", "t/daily/2026-03-09")["next_attempt_at"])
        assert {o.key: o.status for o in send_due(store, config, retry)} == {"t/daily/2026-03-09": "sent"}
        later = send_due(store, config, NOW + timedelta(hours=2))
        assert [o.kind for o in later] == ["summary", "summary"]  # queued, then sent
        assert send_due(store, config, NOW + timedelta(hours=5)) == []
        titles = [json.loads(r.body)["title"] for r in hook.requests]
        assert titles == ["Digest", "Alert 1", "Digest", "1 alert held"]
        report = {r["channel"]: r for r in store.channel_report()}["desk"]
        assert report["waiting"] == 0 and report["last_failed_at"] is None
