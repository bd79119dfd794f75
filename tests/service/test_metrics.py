"""The Prometheus endpoint of a running service: real process, real HTTP scrape, real store."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from config_helpers import write_config
from digest_helpers import free_port
from httpserver import LocalServer, Response
from waiting import COMMAND_DEADLINE, REQUEST_DEADLINE, wait_for

ROOT = Path(__file__).resolve().parents[2]
PAGE = ("<html><head><title>Harbour</title></head><body><article><h1>Harbour</h1>"
        + "<p>City council members approved a budget for dredging the harbour channel after a long argument "
          "over who should pay for deeper berths and quieter nights for the residents nearby.</p>" * 4
        + "</article></body></html>")
SAMPLE = re.compile(r'^([a-z_][a-z0-9_]*)(\{[^}]*\})? (-?[0-9.e+]+)$')


def scrape(port: int) -> tuple[str, dict[str, float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=REQUEST_DEADLINE) as response:
        content_type, text = response.headers["Content-Type"], response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP newswatch_", "# TYPE newswatch_")), line
            continue
        match = SAMPLE.match(line)
        assert match, f"not Prometheus text: {line!r}"
        samples[match[1] + (match[2] or "")] = float(match[3])
    return content_type, samples


@pytest.fixture
def site(tmp_path):
    with LocalServer() as server:
        links = "".join(f"<item><title>s{i}</title><link>{server.url(f'/s{i}.html')}</link></item>" for i in range(3))
        server.route("/ok.xml", Response(body=f"<rss version='2.0'><channel><title>t</title>{links}</channel></rss>",
                                         headers={"Content-Type": "application/rss+xml"}))
        server.route("/broken.xml", Response(status=500, body=b"oops"))
        for i in range(3):
            server.route(f"/s{i}.html", Response(body=PAGE, headers={"Content-Type": "text/html"}))
        sources = tmp_path / "sources"
        sources.mkdir()
        for name in ("ok", "broken"):
            (sources / f"{name}.toml").write_text(
                f'name = "{name}"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
                f'[[feeds]]\nurl = "{server.url(f"/{name}.xml")}"\n', encoding="utf-8")
        yield server


def test_metrics_endpoint_serves_prometheus_text_while_the_service_runs(tmp_path, site):
    config, port = write_config(tmp_path), free_port()
    started = time.time()
    service = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--config", str(config), "--tick", "1",
                                "--metrics-port", str(port)], stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        def after_the_first_cycle() -> tuple[str, dict[str, float]] | None:
            try:
                content_type, samples = scrape(port)
            except (urllib.error.URLError, ConnectionError):
                return None  # not listening yet
            done = samples.get('newswatch_entries{state="done"}') == 3
            return (content_type, samples) if done and samples.get('newswatch_feeds{health="failing"}') else None

        content_type, samples = wait_for(after_the_first_cycle, interval=0.3)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=REQUEST_DEADLINE)
        assert missing.value.code == 404
    finally:
        service.send_signal(signal.SIGTERM)
        _, err = service.communicate(timeout=COMMAND_DEADLINE)
    assert service.returncode == 0, err[-2000:]
    assert content_type.startswith("text/plain; version=0.0.4")
    assert samples['newswatch_entries{state="done"}'] == 3
    assert samples['newswatch_entries{state="pending"}'] == 0
    assert samples['newswatch_entries{state="failed"}'] == 0
    assert samples["newswatch_queue_depth"] == 0
    assert samples['newswatch_feeds{health="ok"}'] == 1
    assert samples['newswatch_feeds{health="failing"}'] == 1
    assert samples['newswatch_errors_24h{kind="feed_http"}'] >= 1
    assert samples["newswatch_tagged_entries"] == 0
    assert started <= samples["newswatch_last_success_poll_timestamp_seconds"] <= time.time()
    assert f"metrics on http://127.0.0.1:{port}/metrics" in err
