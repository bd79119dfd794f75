"""Issue 24: one source's `min_delay` paces that source's host and never holds other hosts' fetches.

Two real HTTP servers, on 127.0.0.1 and 127.0.0.2 (two hosts), and the real cycle on a SQLite file.
The slow source asks for an hour between requests: on the old scheduling a cycle slept on it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from config_helpers import write_config
from httpserver import LocalServer, Response
from waiting import wait_for

from pipeline.context import load_context
from pipeline.service import process as process_module
from pipeline.service import run_cycle

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
TEXT = ("The harbour board said the new ferry timetable starts in May, and commuters on the north shore "
        "welcomed the later evening sailings while the cafe owners asked for a Sunday service. ")


def publish(server: LocalServer, sources: Path, name: str, count: int, min_delay: float | None = None) -> None:
    paths = [f"/{name}/{i}.html" for i in range(count)]
    for p in paths:
        body = f"<html><head><title>{p}</title></head><body><article><h1>{p}</h1>" + f"<p>{TEXT * 3}</p>" * 4
        server.route(p, Response(body=body + "</article></body></html>", headers=HTML))
    items = "".join(f"<item><title>{p}</title><link>{server.url(p)}</link><description>about {p}</description>"
                    "</item>" for p in paths)
    server.route(f"/{name}.xml", Response(body=f"<rss version='2.0'><channel><title>{name}</title>{items}"
                                               "</channel></rss>", headers=RSS))
    delay = "" if min_delay is None else f"min_delay = {min_delay}\n"
    (sources / f"{name}.toml").write_text(
        f'name = "{name}"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n{delay}\n'
        f'[[feeds]]\nurl = "{server.url(f"/{name}.xml")}"\n', encoding="utf-8")


@pytest.fixture
def two_hosts(tmp_path, monkeypatch):
    # This test's hosts' pacing stays with it: a later test may get the same port.
    monkeypatch.setattr(process_module, "_host_ready_at", {})
    sources = tmp_path / "sources"
    sources.mkdir()
    try:
        quick_server = LocalServer(host="127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    with LocalServer() as slow, quick_server as quick:
        publish(slow, sources, "slow", 2, min_delay=3600)
        publish(quick, sources, "quick", 3)
        yield slow, quick, write_config(tmp_path)


def cycle_in_background(config: Path) -> tuple[threading.Thread, threading.Event, list]:
    """A cycle on its own thread, as the service runs it; `stop` ends it early (only on failure here)."""
    stop, reports = threading.Event(), []

    def work() -> None:
        ctx = load_context(config)
        with ctx.open_store() as store:
            reports.append(run_cycle(ctx, store, stop=stop))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, stop, reports


def states(config: Path) -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    with sqlite3.connect(config.parent / "newswatch.db") as db:
        for source, state, attempts in db.execute("SELECT source, state, attempts FROM entries ORDER BY url"):
            found.setdefault(source, []).append((state, attempts))
    return found


def requested(server: LocalServer, prefix: str) -> int:
    return sum(r.path.startswith(prefix) for r in server.requests)


def test_a_long_source_delay_leaves_its_pages_for_later_and_holds_no_other_host(two_hosts):
    slow, quick, config = two_hosts
    thread, stop, reports = cycle_in_background(config)
    try:
        wait_for(lambda: not thread.is_alive())  # the old scheduling slept an hour on the slow source here
    finally:
        stop.set()
    assert reports and not reports[0].stopped
    # every page of the other host done; the slow host's first page done, its second still owed
    found = states(config)
    assert [s for s, _ in found["quick"]] == ["done"] * 3
    assert sorted(s for s, _ in found["slow"]) == ["done", "pending"]
    assert ("pending", 0) in found["slow"]  # not a failure: nothing was attempted
    assert requested(slow, "/slow/") == 1

    # The next cycle polls both feeds again while the slow host's delay is still pending.
    with sqlite3.connect(config.parent / "newswatch.db") as db:
        db.execute("UPDATE feeds SET next_poll_at = NULL")  # due now, as they are a few minutes later
    thread, stop, reports = cycle_in_background(config)
    try:
        wait_for(lambda: not thread.is_alive())
    finally:
        stop.set()
    assert requested(quick, "/quick.xml") == 2 and requested(slow, "/slow.xml") == 2
    assert requested(slow, "/slow/") == 1
    assert sorted(s for s, _ in states(config)["slow"]) == ["done", "pending"]
