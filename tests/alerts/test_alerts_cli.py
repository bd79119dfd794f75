"""The commands a person uses: `channels test` prints each channel's answer, `channels list` their
last delivery and failure (never a token), and a channel at a closed port shows as failing in
`status`, `health` and the reading room's /sources page while the others deliver."""

from __future__ import annotations

import json
import socket

import pytest
from httpserver import LocalServer, Response
from web_helpers import http_get, serving

from pipeline.cli import main


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    with LocalServer() as hook:
        hook.route("/hook", Response(body=b"{}"))
        monkeypatch.setenv("NW_DESK_URL", f"json://newswatch:s3cr3t-token@127.0.0.1:{hook.port}/hook")
        monkeypatch.setenv("NW_DEAD_URL", f"json://127.0.0.1:{closed_port()}/hook")
        (tmp_path / "sources").mkdir()
        config = tmp_path / "config.toml"
        config.write_text('[storage]\npath = "x.db"\n[sources]\ndir = "sources"\n'
                          '[[channels]]\nname = "desk"\nurl_env = "NW_DESK_URL"\n'
                          '[[channels]]\nname = "dead"\nurl_env = "NW_DEAD_URL"\nreceives = ["alerts"]\n',
                          encoding="utf-8")
        yield str(config), hook


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_channels_test_list_status_health_and_the_sources_page(setup, capsys, monkeypatch):
    config, hook = setup
    code, out = run(capsys, "channels", "test", "--config", config)
    assert code == 1  # one channel failed
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["desk"] == "sent — delivered"
    assert lines["dead"].startswith("failed — ") and "onnection" in lines["dead"]
    (post,) = [r for r in hook.requests if r.method == "POST"]
    assert json.loads(post.body)["title"] == "newswatch: test message"

    code, out = run(capsys, "channels", "test", "desk", "--config", config)
    assert code == 0 and out.startswith("desk: sent")
    assert main(["channels", "test", "nosuch", "--config", config]) == 2

    code, out = run(capsys, "channels", "list", "--config", config)
    assert code == 0 and "s3cr3t-token" not in out
    assert "desk: json://" in out and "(from $NW_DESK_URL)" in out and "receives alerts, digest" in out
    dead = out.split("dead: ", 1)[1]
    assert "FAILING, last attempt" in dead and "nothing delivered yet" in dead

    # Once the dead channel's address answers, it delivers, and its last failure is still listed.
    with LocalServer() as revived:
        revived.route("/hook", Response(body=b"{}"))
        monkeypatch.setenv("NW_DEAD_URL", f"json://127.0.0.1:{revived.port}/hook")
        assert main(["channels", "test", "dead", "--config", config]) == 0
        code, out = run(capsys, "channels", "list", "--config", config)
        dead = out.split("dead: ", 1)[1]
        assert "FAILING" not in dead and "last delivery" in dead and "last failure" in dead and "onnection" in dead
        monkeypatch.setenv("NW_DEAD_URL", f"json://127.0.0.1:{closed_port()}/hook")
        assert main(["channels", "test", "dead", "--config", config]) == 1

    code, out = run(capsys, "status", "--config", config)
    assert "channel dead: last delivery" in out and "FAILING, last attempt" in out.split("channel dead: ", 1)[1]
    assert "channel desk: last delivery" in out and "channel desk: last delivery" in out.replace("FAILING", "")
    code, out = run(capsys, "health", "--config", config)
    assert code == 1 and "channel dead is failing" in out and "channel desk" not in out

    with serving(config) as base:
        page = http_get(base + "/sources")
    assert page.status_code == 200
    rows = {r.split("<td>")[2].split("<")[0]: r for r in page.text.split('id="channels"', 1)[1].split("<tr")[2:]}
    assert "<td>failing</td>" in rows["dead"] and "<td>ok</td>" in rows["desk"]
    assert "s3cr3t-token" not in page.text


def test_digest_send_today_goes_to_the_digest_channels_as_a_normal_send(tmp_path, monkeypatch, capsys):
    from datetime import UTC, datetime

    from digest_helpers import HOTLINE, Newsroom

    from pipeline.config import load_config
    from pipeline.store import Store

    with LocalServer() as hook:
        hook.route("/digest", Response(body=b"{}"))
        monkeypatch.setenv("NW_DIGEST_URL", f"json://127.0.0.1:{hook.port}/digest")
        (tmp_path / "sources").mkdir()
        config = tmp_path / "config.toml"
        config.write_text('[storage]\npath = "x.db"\n[sources]\ndir = "sources"\n[digest]\nformats = []\n'
                          '[web]\nbase_url = "https://room.example/"\n'
                          '[[channels]]\nname = "desk"\nurl_env = "NW_DIGEST_URL"\nreceives = ["digest"]\n',
                          encoding="utf-8")
        with Store(load_config(config).db_path) as store:
            room = Newsroom(store)
            room.sources("wire")
            entry = room.add("wire", "hotline", "Hotline restored", HOTLINE, seen=datetime.now(UTC))
        code, out = run(capsys, "digest", "--send", "--config", str(config))
        assert code == 0 and "via channel desk: sent" in out, out
        (post,) = [json.loads(r.body) for r in hook.requests if r.method == "POST"]
        assert "(so far, at " in post["title"] and "[resent]" not in post["title"]
        assert f"Why tagged: https://room.example/items/{entry}" in post["message"]
        code, out = run(capsys, "digest", "--send", "--config", str(config))
        assert "via channel desk: skipped — already sent on this channel" in out
        assert len([r for r in hook.requests if r.method == "POST"]) == 1
