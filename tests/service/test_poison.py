"""Poison input, as a user meets it: a feed whose links cannot be fetched must not stop newswatch.

The feed on 127.0.0.1 carries 5 good articles and 4 poison links: port 99999, port `abc`, host
`[::1` and a page that redirects to port 99999. Once, each of them stopped `newswatch poll` or
every cycle of `newswatch run`, and `health` still said healthy. Real processes throughout:
`newswatch poll`, `run`, `status --json` and `health`, with the Prometheus endpoint scraped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from config_helpers import write_config
from digest_helpers import free_port
from httpserver import LocalServer, Response, redirect
from waiting import COMMAND_DEADLINE, REQUEST_DEADLINE, wait_for

ROOT = Path(__file__).resolve().parents[2]
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
TEXT = ("The ferry company said the winter timetable would keep two crossings a day, and the island council "
        "asked for a third on market days while the harbour master warned of storms in the channel. ")
GOOD = [f"/good/{i}.html" for i in range(5)]
CLEAN = [f"/clean/{i}.html" for i in range(3)]
# The bad port, host and redirect target each must come back as a reason, not a crash.
POISON = {
    "http://127.0.0.1:99999/x": ("99999",),
    "http://127.0.0.1:abc/x": ("abc",),
    "http://[::1/x": ("::1",),
    "/redirect.html": ("99999",),  # 302 to http://127.0.0.1:99999/y
}


def page(title: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            + f"<p>{TEXT * 3}</p>" * 4 + "</article></body></html>")


def rss(links: list[str]) -> str:
    items = "".join(f"<item><title>item {i}</title><link>{link}</link><description>what item {i} says"
                    "</description></item>" for i, link in enumerate(links))
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


def add_source(tmp_path: Path, server: LocalServer, name: str) -> None:
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / f"{name}.toml").write_text(f'name = "{name}"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
                                          f'[[feeds]]\nurl = "{server.url(f"/{name}.xml")}"\n', encoding="utf-8")


@pytest.fixture
def site(tmp_path):
    """The poison feed, and a clean one beside it."""
    with LocalServer() as server:
        for path in GOOD + CLEAN:
            server.route(path, Response(body=page(path), headers=HTML))
        server.route("/redirect.html", redirect("http://127.0.0.1:99999/y", 302))
        poison = [server.url(p) if p.startswith("/") else p for p in POISON]
        server.route("/poison.xml", Response(body=rss([server.url(p) for p in GOOD] + poison), headers=RSS))
        server.route("/clean.xml", Response(body=rss([server.url(p) for p in CLEAN]), headers=RSS))
        add_source(tmp_path, server, "poison")
        yield server


def newswatch(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def status(config: Path) -> dict:
    done = newswatch(config, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def entry_states(report: dict, server: LocalServer, paths: list[str]) -> dict[str, str]:
    """Each path's entry state, from the database the status names."""
    import sqlite3

    with sqlite3.connect(report["database"]) as db:
        states = dict(db.execute("SELECT url, state FROM entries").fetchall())
    return {p: states.get(server.url(p)) for p in paths}


def reasons(report: dict) -> list[str]:
    """Every reason status gives for an entry it could not take as it came, as text."""
    found = [f"{e['url']}: {e['last_error']}" for e in report["failed_entries"]]
    for feed in report["feeds"]:
        for key in ("entries_without_link", "entries_skipped"):
            found += list(feed.get(key) or {})
    return found


def test_two_polls_in_a_row_survive_the_poison_store_the_good_and_give_each_poison_its_reason(tmp_path, site):
    config = write_config(tmp_path)
    for run in (1, 2):
        done = newswatch(config, "poll", "--quiet")
        assert done.returncode == 0, f"poll {run}: {done.stderr}"
        assert "Traceback" not in done.stderr
    report = status(config)
    assert set(entry_states(report, site, GOOD).values()) == {"done"}
    assert report["feeds_by_health"] == {"ok": 1}
    given = reasons(report)
    for link, words in POISON.items():
        assert any(all(w in r for w in words) for r in given), f"no reason shown for {link}: {given}"
    assert report["cycles"]["last"]["outcome"] == "ok"


def start(config: Path, *extra: str, inject: str = "") -> subprocess.Popen:
    """`newswatch run`; `inject` is Python run first in the same process (a fault for a test)."""
    code = f"import sys\n{inject}\nfrom pipeline.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen([sys.executable, "-c", code, "run", "--config", str(config), "--tick", "1", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def stop(service: subprocess.Popen) -> str:
    service.send_signal(signal.SIGTERM)
    _, err = service.communicate(timeout=COMMAND_DEADLINE)
    assert service.returncode == 0, err
    return err



def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=REQUEST_DEADLINE) as response:
        return response.read().decode()


def test_the_service_keeps_working_beside_a_poison_feed_and_health_says_so(tmp_path, site):
    add_source(tmp_path, site, "clean")
    config = write_config(tmp_path)
    port = free_port()
    service = start(config, "--metrics-port", str(port))
    try:
        def all_good_done() -> bool:
            if not (tmp_path / "newswatch.db").exists():
                return False
            report = status(config)
            return set(entry_states(report, site, GOOD + CLEAN).values()) == {"done"}

        wait_for(all_good_done)
        wait_for(lambda: status(config)["cycles"]["last"] is not None)
        health = newswatch(config, "health")
        metrics = scrape(port)
        assert service.poll() is None, "the service died"
    finally:
        err = stop(service)
    assert (health.returncode, health.stdout) == (0, "healthy\n"), health.stdout + health.stderr
    assert "newswatch_healthy 1" in metrics
    assert "cycle failed" not in err and "Traceback" not in err
    report = status(config)
    assert report["cycles"]["failed_in_a_row"] == 0
    assert report["feeds_by_health"] == {"ok": 2}


# A bug outside every unit of work: the queue cannot be read, so every cycle fails after polling.
BROKEN_QUEUE = """
from pipeline.store import Store
def unreadable(self, *args, **kwargs):
    raise RuntimeError("injected: the queue cannot be read")
Store.pending_entries = unreadable
"""


def test_health_and_metrics_say_unhealthy_with_the_reason_when_every_cycle_fails(tmp_path, site):
    add_source(tmp_path, site, "clean")
    config = write_config(tmp_path, "[health]\nmax_queue_age_minutes = 0.02\n")  # 1.2 s: entries wait for ever
    port = free_port()
    service = start(config, "--metrics-port", str(port), inject=BROKEN_QUEUE)
    try:
        def failing() -> bool:
            return (tmp_path / "newswatch.db").exists() and status(config)["cycles"]["failed_in_a_row"] >= 3

        wait_for(failing)
        health = newswatch(config, "health")
        metrics = scrape(port)
        assert service.poll() is None, "a failing cycle must not end the service"
    finally:
        err = stop(service)
    assert health.returncode == 1
    lines = health.stdout.splitlines()
    assert any(line.startswith("unhealthy: the last 3 cycles failed") and
               "RuntimeError: injected: the queue cannot be read" in line for line in lines), health.stdout
    assert any(line.startswith("unhealthy: ") and "entries due" in line for line in lines), health.stdout
    assert "newswatch_healthy 0" in metrics
    assert 'newswatch_health_check_failing{check="cycles"} 1' in metrics
    assert 'newswatch_health_check_failing{check="queue"} 1' in metrics
    assert "cycle failed: RuntimeError: injected: the queue cannot be read" in err
