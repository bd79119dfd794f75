"""The service's digest job, every minute: the digest channels get each day's digest at its time,
and what else is owed goes out with it (a held alert's summary once the quiet hours end)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from digest_helpers import HOTLINE, Newsroom
from httpserver import LocalServer, Response

from pipeline.alerts import queue_alerts
from pipeline.context import load_context
from pipeline.service.runner import Service
from pipeline.store import Store

EVENING = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)  # 22:30 in Kyiv: quiet hours
DUE = datetime(2026, 3, 11, 5, 1, tzinfo=UTC)  # 07:01 in Kyiv: the digest's time, the quiet hours over


def test_the_digest_job_sends_the_digest_and_the_held_alerts_on_the_channels(tmp_path, monkeypatch):
    with LocalServer() as hook:
        hook.route("/alerts", Response(body=b"{}"))
        hook.route("/digest", Response(body=b"{}"))
        monkeypatch.setenv("NW_ALERTS", f"json://127.0.0.1:{hook.port}/alerts")
        monkeypatch.setenv("NW_DIGEST", f"json://127.0.0.1:{hook.port}/digest")
        (tmp_path / "sources").mkdir()
        (tmp_path / "config.toml").write_text(
            '[storage]\npath = "x.db"\n[sources]\ndir = "sources"\n'
            '[digest]\ntimezone = "Europe/Kyiv"\nformats = []\n[web]\nbase_url = "https://room.example/"\n'
            '[alerts]\nquiet_hours = "22:00-07:00"\n'
            '[[channels]]\nname = "phone"\nurl_env = "NW_ALERTS"\nreceives = ["alerts"]\n'
            '[[channels]]\nname = "desk"\nurl_env = "NW_DIGEST"\nreceives = ["digest"]\n', encoding="utf-8")
        ctx = load_context(tmp_path / "config.toml")
        with Store(ctx.config.db_path) as store:
            room = Newsroom(store)
            room.sources("wire")
            queue_alerts(store, ctx.config, EVENING - timedelta(minutes=5))
            entry = room.add("wire", "hotline", "Hotline restored", HOTLINE, seen=EVENING)
            queue_alerts(store, ctx.config, EVENING)
            Service(ctx, wall=lambda: EVENING).digest_job()  # quiet: held, and no digest due yet
            assert [r.method for r in hook.requests] == []
            assert store.deliveries("phone", kind="alert")[0]["status"] == "held"

            service = Service(ctx, wall=lambda: DUE)
            service.digest_job()
            service.digest_job()  # a minute later, nothing is sent twice
        sent = {r.path: json.loads(r.body) for r in hook.requests if r.method == "POST"}
        assert len([r for r in hook.requests if r.method == "POST"]) == 2
        assert sent["/alerts"]["title"] == "1 alert held during quiet hours"
        digest = sent["/digest"]
        assert digest["title"].endswith("digest for Tuesday 10 March 2026")
        assert "Hotline restored" in digest["message"]
        assert f"Why tagged: https://room.example/items/{entry}" in digest["message"]
