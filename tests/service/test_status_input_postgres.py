"""The hostile feed of test_status_input through the real commands on PostgreSQL: entries without a
usable link are kept from their text, tagged and digested, and `status` counts them and the skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from config_helpers import write_config
from httpserver import LocalServer, Response
from test_status_input import GOOD, feed, page, run

from pipeline.config import load_config
from pipeline.store import open_store


@pytest.fixture
def pg_config(tmp_path, pg_url):
    with LocalServer() as server:
        for n, path in enumerate(GOOD, 1):
            server.route(path, Response(body=page(n), headers={"Content-Type": "text/html; charset=utf-8"}))
        server.route("/feed.xml", Response(body=feed(server), headers={"Content-Type": "application/rss+xml"}))
        (tmp_path / "sources").mkdir()
        (tmp_path / "sources" / "poison.toml").write_text(
            f'name = "Poison"\nhomepage = "{server.url("/")}"\n\n[[feeds]]\nurl = "{server.url("/feed.xml")}"\n')
        config = write_config(tmp_path)
        config.write_text(config.read_text().replace("[storage]\n", f'[storage]\nurl = "{pg_url}"\n', 1))
        yield config


def test_bad_links_cost_nothing_on_postgresql(pg_config, capsys):
    for _ in range(2):  # the same feed again: nothing crashes, nothing doubles
        code, _, err = run(capsys, "poll", "--quiet", "--config", str(pg_config))
        assert code == 0, err
    code, out, _ = run(capsys, "status", "--json", "--config", str(pg_config))
    status = json.loads(out)
    assert status["backend"] == "postgresql" and status["queue_depth"] == 0
    (poison,) = status["feeds"]
    assert poison["health"] == "ok" and poison["items_seen"] == 9
    assert sum(poison["entries_without_link"].values()) == 4
    assert poison["entries_without_link"]["unusable link 'http://127.0.0.1:99999/x': port 99999 is out of range "
                                          "1-65535"] == 1
    assert sum(poison["entries_skipped"].values()) == 2
    with open_store(load_config(pg_config)) as store:
        (hotline,) = store.search_items("", topic="us-china-milcomm")
    assert hotline["title"] == "Hotline restored" and hotline["url"] == "" and hotline["level"] == "strong"
    day = datetime.now(UTC).date().isoformat()
    code, _, err = run(capsys, "digest", "--date", day, "--config", str(pg_config))
    assert code == 0, err
    markdown = pg_config.parent / "digests" / "us-china-milcomm" / day / "digest.md"
    assert "Hotline restored" in markdown.read_text(encoding="utf-8")
