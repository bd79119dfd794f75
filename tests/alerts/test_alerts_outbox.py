"""Alerts through Apprise itself against receivers on 127.0.0.1: one per story, quiet hours and the
hourly cap, retries until delivered exactly once, and one failing channel never holding up another."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from digest_helpers import DRILLS, HOTLINE, HOTLINE_ANALYSIS, HOTLINE_BOILERPLATE, PORT, Newsroom
from httpserver import LocalServer, Response

from pipeline.alerts import queue_alerts, send_due, send_test
from pipeline.config import load_config
from pipeline.service import check_health, collect_status
from pipeline.store import Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 14:00 in Kyiv


def closed_port() -> int:
    import socket

    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config_with(tmp_path, monkeypatch, channels: dict[str, str], extra: str = "", **options: str):
    """A config whose [[channels]] are {name: Apprise URL}, each URL in its own environment variable."""
    text = ('[storage]\npath = "x.db"\n[digest]\ntimezone = "Europe/Kyiv"\nformats = []\n'
            '[web]\nbase_url = "https://room.example/"\n' + extra)
    for number, (name, url) in enumerate(channels.items()):
        # a receiver's http:// address is Apprise's json:// webhook to it
        monkeypatch.setenv(f"NW_CHANNEL_{number}", url.replace("http://", "json://", 1))
        text += f'[[channels]]\nname = "{name}"\nurl_env = "NW_CHANNEL_{number}"\n'
        for key, value in options.items():
            text += f"{key} = {value}\n"
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "config.toml")


@pytest.fixture
def newsroom(tmp_path):
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("wire", "harbour", "daily")
        yield room


@pytest.fixture
def hook():
    with LocalServer() as server:
        server.route("/hook", Response(body=b"{}"))
        yield server


def posts(server: LocalServer, path: str = "/hook") -> list[dict]:
    return [json.loads(r.body) for r in server.requests if r.method == "POST" and r.path.split("?")[0] == path]


def test_one_alert_per_story_with_its_evidence_and_links(tmp_path, monkeypatch, newsroom, hook):
    config = config_with(tmp_path, monkeypatch, {"desk": hook.url("/hook")})
    queue_alerts(newsroom.store, config, NOW - timedelta(minutes=5))  # the channel is known from here on
    first = newsroom.add("wire", "hotline", "Hotline restored", HOTLINE, seen=NOW - timedelta(minutes=2),
                         url="https://wire.example/hotline")
    newsroom.add("harbour", "hotline", "Hotline back on", HOTLINE_BOILERPLATE, seen=NOW - timedelta(minutes=1))
    newsroom.add("daily", "analysis", "What the hotline means", HOTLINE_ANALYSIS, seen=NOW)
    newsroom.add("daily", "drills", "Drills announced", DRILLS, seen=NOW, level="mention", score=0.4,
                 terms=("navy",))
    assert queue_alerts(newsroom.store, config, NOW) == 2  # the hotline story and the analysis; not the mention
    sent = send_due(newsroom.store, config, NOW)
    assert sorted(o.status for o in sent) == ["sent", "sent"]
    got = posts(hook)
    assert [g["title"] for g in got] == ["Hotline restored", "What the hotline means"]
    body = got[0]["message"]
    assert body.startswith("wire · 2026-03-10 13:58 EET")
    assert "“" in body and "hotline" in body.split("“", 1)[1]
    assert "Original: https://wire.example/hotline" in body
    assert f"Why tagged: https://room.example/items/{first}" in body
    # Asked again, nothing new: the second outlet's copy is the same story, recorded as such.
    assert queue_alerts(newsroom.store, config, NOW) == 0
    assert send_due(newsroom.store, config, NOW + timedelta(minutes=1)) == []
    assert len(posts(hook)) == 2
    statuses = {r["entry_id"]: r["status"] for r in newsroom.store.deliveries("desk", kind="alert")}
    assert sorted(statuses.values()) == ["same-story", "sent", "sent"]


def test_backlog_and_items_from_before_the_channel_never_alert(tmp_path, monkeypatch, newsroom, hook):
    config = config_with(tmp_path, monkeypatch, {"desk": hook.url("/hook")})
    newsroom.add("wire", "old", "Hotline restored", HOTLINE, seen=NOW - timedelta(hours=3))
    queue_alerts(newsroom.store, config, NOW - timedelta(hours=1))  # the channel appears after it
    backlog = newsroom.add("daily", "analysis", "What the hotline means", HOTLINE_ANALYSIS, seen=NOW)
    newsroom.store.db["entries"].update(backlog, {"backlog": "too old"})
    assert queue_alerts(newsroom.store, config, NOW) == 0
    assert send_due(newsroom.store, config, NOW) == []
    assert posts(hook) == []


def test_mention_level_channels_get_mentions_and_topics_narrow(tmp_path, monkeypatch, newsroom, hook):
    config = config_with(tmp_path, monkeypatch, {"desk": hook.url("/hook")}, alert_level='"mention"')
    (tmp_path / "other").mkdir()
    other = config_with(tmp_path / "other", monkeypatch, {"desk": hook.url("/hook")}, topics='["another-topic"]')
    queue_alerts(newsroom.store, config, NOW - timedelta(minutes=5))
    newsroom.add("daily", "drills", "Drills announced", DRILLS, seen=NOW, level="mention", score=0.4,
                 terms=("navy",))
    assert queue_alerts(newsroom.store, other, NOW) == 0  # a channel for another topic
    assert queue_alerts(newsroom.store, config, NOW) == 1


def test_a_channel_answering_500_then_200_gets_the_message_exactly_once(tmp_path, monkeypatch, newsroom):
    with LocalServer() as flaky:
        flaky.route("/hook", [Response(status=500, body=b"down"), Response(body=b"{}")])
        config = config_with(tmp_path, monkeypatch, {"desk": flaky.url("/hook")})
        queue_alerts(newsroom.store, config, NOW - timedelta(minutes=5))
        newsroom.add("wire", "hotline", "Hotline restored", HOTLINE, seen=NOW)
        queue_alerts(newsroom.store, config, NOW)
        (failed,) = send_due(newsroom.store, config, NOW)
        assert failed.status == "failed" and "500" in failed.detail
        record = newsroom.store.deliveries("desk", kind="alert")[0]
        assert record["status"] == "failed" and record["attempts"] == 1
        retry = datetime.fromisoformat(record["next_attempt_at"])
        assert NOW < retry <= NOW + timedelta(minutes=1)
        assert send_due(newsroom.store, config, NOW + timedelta(seconds=1)) == []  # not before its time
        (sent,) = send_due(newsroom.store, config, retry)
        assert sent.status == "sent"
        for later in (1, 2, 30):
            send_due(newsroom.store, config, retry + timedelta(hours=later))
        assert len(posts(flaky)) == 2  # one refused, one delivered
        assert [p["title"] for p in posts(flaky)] == ["Hotline restored"] * 2
        record = newsroom.store.deliveries("desk", kind="alert")[0]
        assert record["status"] == "sent" and record["attempts"] == 2


def test_a_failing_channel_is_retried_for_a_day_then_given_up(tmp_path, monkeypatch, newsroom):
    config = config_with(tmp_path, monkeypatch, {"dead": f"json://127.0.0.1:{closed_port()}/hook"})
    queue_alerts(newsroom.store, config, NOW - timedelta(minutes=5))
    newsroom.add("wire", "hotline", "Hotline restored", HOTLINE, seen=NOW)
    queue_alerts(newsroom.store, config, NOW)
    moment, attempts = NOW, 0
    while True:
        (outcome,) = send_due(newsroom.store, config, moment)
        attempts += 1
        record = newsroom.store.deliveries("dead", kind="alert")[0]
        if record["next_attempt_at"] is None:
            break
        moment = datetime.fromisoformat(record["next_attempt_at"])
        assert attempts < 50
    assert "gave up" in outcome.detail
    assert moment - NOW <= timedelta(days=1) and attempts > 5
    assert send_due(newsroom.store, config, moment + timedelta(days=3)) == []


def test_quiet_hours_hold_alerts_then_send_one_summary(tmp_path, monkeypatch, newsroom, hook):
    # 23:30 in Kyiv: inside 22:00-07:00
    night = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
    config = config_with(tmp_path, monkeypatch, {"desk": hook.url("/hook")},
                         extra='[alerts]\nquiet_hours = "22:00-07:00"\n')
    queue_alerts(newsroom.store, config, night - timedelta(minutes=5))
    newsroom.add("wire", "hotline", "Hotline restored", HOTLINE, seen=night)
    newsroom.add("daily", "analysis", "What the hotline means", HOTLINE_ANALYSIS, seen=night)
    queue_alerts(newsroom.store, config, night)
    held = send_due(newsroom.store, config, night)
    assert [o.status for o in held] == ["held", "held"]
    assert send_due(newsroom.store, config, night + timedelta(hours=4)) == []  # 03:30: still quiet
    assert posts(hook) == []
    morning = datetime(2026, 3, 11, 5, 0, tzinfo=UTC)  # 07:00 in Kyiv
    sent = send_due(newsroom.store, config, morning)
    assert [o.status for o in sent if o.kind == "summary"] == ["queued", "sent"]
    (summary,) = posts(hook)
    assert summary["title"] == "2 alerts held during quiet hours"
    assert "Hotline restored" in summary["message"] and "What the hotline means" in summary["message"]
    assert send_due(newsroom.store, config, morning + timedelta(minutes=5)) == []
    assert {r["status"] for r in newsroom.store.deliveries("desk", kind="alert")} == {"summarized"}


def test_the_hourly_cap_holds_the_rest_for_one_summary(tmp_path, monkeypatch, newsroom, hook):
    config = config_with(tmp_path, monkeypatch, {"desk": hook.url("/hook")},
                         extra="[alerts]\nmax_per_hour = 1\n")
    queue_alerts(newsroom.store, config, NOW - timedelta(minutes=5))
    newsroom.add("wire", "hotline", "Hotline restored", HOTLINE, seen=NOW)
    newsroom.add("daily", "analysis", "What the hotline means", HOTLINE_ANALYSIS, seen=NOW)
    newsroom.add("daily", "port", "Harbour hotline for ships", PORT, seen=NOW, evidence="A harbour hotline.")
    queue_alerts(newsroom.store, config, NOW)
    assert sorted(o.status for o in send_due(newsroom.store, config, NOW)) == ["held", "held", "sent"]
    assert len(posts(hook)) == 1
    assert send_due(newsroom.store, config, NOW + timedelta(minutes=30)) == []  # the hour is not over
    later = send_due(newsroom.store, config, NOW + timedelta(minutes=61))
    assert [o.status for o in later] == ["queued", "sent"]
    assert posts(hook)[1]["title"] == "2 alerts held"


def test_a_closed_port_fails_in_status_and_health_while_the_others_deliver(tmp_path, monkeypatch, newsroom, hook):
    with LocalServer() as ntfy:
        ntfy.route("/", Response(body=b'{"id": "x"}'))
        config = config_with(tmp_path, monkeypatch, {
            "dead": f"json://127.0.0.1:{closed_port()}/hook",
            "desk": hook.url("/hook"),
            "phone": f"ntfy://127.0.0.1:{ntfy.port}/newswatch-desk",
        })
        queue_alerts(newsroom.store, config, NOW - timedelta(minutes=5))
        newsroom.add("wire", "hotline", "Hotline restored", HOTLINE, seen=NOW)
        queue_alerts(newsroom.store, config, NOW)
        outcomes = {o.channel: o for o in send_due(newsroom.store, config, NOW)}
        assert outcomes["dead"].status == "failed" and "onnection" in outcomes["dead"].detail
        assert outcomes["desk"].status == "sent" and outcomes["phone"].status == "sent"
        assert [p["title"] for p in posts(hook)] == ["Hotline restored"]
        (push,) = [r for r in ntfy.requests if r.method == "POST"]
        payload = json.loads(push.body)
        assert payload["topic"] == "newswatch-desk" and payload["title"] == "Hotline restored"
        assert "Why tagged: https://room.example/items/" in payload["message"]

    status = collect_status(newsroom.store, channels=["dead", "desk", "phone"])
    states = {c["channel"]: c for c in status["channels"]}
    assert states["dead"]["failing"] and not states["desk"]["failing"] and not states["phone"]["failing"]
    problems = [p for p in check_health(newsroom.store, config, NOW) if p.check == "channels"]
    assert len(problems) == 1 and "channel dead is failing" in problems[0].reason


def test_channels_test_reports_each_answer(tmp_path, monkeypatch, newsroom, hook):
    config = config_with(tmp_path, monkeypatch, {"desk": hook.url("/hook"),
                                                 "dead": f"json://127.0.0.1:{closed_port()}/hook"})
    outcomes = {o.channel: o for o in send_test(newsroom.store, config, now=NOW)}
    assert outcomes["desk"].status == "sent"
    assert outcomes["dead"].status == "failed" and "onnection" in outcomes["dead"].detail
    assert posts(hook)[0]["title"] == "newswatch: test message"
    # A test is not retried: its answer was the point.
    assert send_due(newsroom.store, config, NOW + timedelta(hours=2)) == []
