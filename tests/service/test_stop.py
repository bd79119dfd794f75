"""Stopping `newswatch run` in the middle of a cycle is a normal stop, wherever the cycle is.

Issue 25: a SIGTERM that met a cycle in flight left a `cycle failed … descriptor` line, a traceback
from the worker pool's exit handler, and a failed cycle that `health` could count. Here the real
service is stopped at points of a cycle it is seen to be at (never after a sleep): while a feed is
fetched, while a worker analyses a page, while the store writes, while a digest is sent. Each
time it must exit 0 with one "stopped" line, no traceback and no error, the cycle recorded as
`stopped` or `ok` (never failed), and no worker process left behind. A second signal ends it at
once, workers included.

The service runs in a process of its own; a small hooks module (on PYTHONPATH, so the worker
processes import it too) holds the cycle at the chosen point until the test lets it go, and marks
that it got there by creating a file.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from config_helpers import write_config
from digest_helpers import free_port
from httpserver import LocalServer, Response
from service_helpers import alive, descendants, start_service
from waiting import COMMAND_DEADLINE, wait_for

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
TEXT = ("The ferry company said the winter timetable would keep two crossings a day, and the island council "
        "asked for a third on market days while the harbour master warned of storms in the channel. ")
PAGES = [f"/news/{i}.html" for i in range(4)]

HOOKS = '''
import os, time
from pathlib import Path

GATE = Path(os.environ["NEWSWATCH_TEST_GATE"])


def hold(point):
    """Mark that `point` was reached, then wait until the test releases it."""
    (GATE / f"at-{point}-{os.getpid()}-{time.monotonic_ns()}").touch()
    deadline = time.monotonic() + 120
    while not (GATE / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def held_analyse(*args, **kwargs):
    hold("analyse")
    from pipeline.service.workers import analyse
    return analyse(*args, **kwargs)
'''

# Python run in the service's process before `main`: where each point is held.
INJECT = {
    "fetch": "",  # the feed's server holds the request
    "analyse": "import stophooks, pipeline.service.process as p\np.analyse = stophooks.held_analyse\n",
    "store": ("import stophooks\nfrom pipeline.store import Store\n_complete = Store.complete_entry\n"
              "def complete_entry(self, *a, **k):\n    stophooks.hold('store')\n    return _complete(self, *a, **k)\n"
              "Store.complete_entry = complete_entry\n"),
    "digest": "",  # the SMTP server holds the message
}


def page(title: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            + f"<p>{TEXT * 3}</p>" * 4 + "</article></body></html>")


def rss(links: list[str]) -> str:
    items = "".join(f"<item><title>item {i}</title><link>{link}</link><description>what item {i} says"
                    "</description></item>" for i, link in enumerate(links))
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


class Gate:
    """Where the held points mark their arrival, and the switch that releases them."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir()
        self.event = threading.Event()  # the same switch, for holds inside this test process
        self.fetched = threading.Event()  # the held feed was asked for

    def release(self) -> None:
        (self.folder / "release").touch()
        self.event.set()


class HeldSmtp:
    """An SMTP server that takes the message's DATA and then holds its answer until released."""

    def __init__(self, gate: Gate):
        self.gate = gate
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        (self.gate.folder / "at-digest-smtp").touch()
        await asyncio.to_thread(self.gate.event.wait, 120)
        self.accepted += 1
        return "250 Message accepted for delivery"


@pytest.fixture
def gate(tmp_path):
    gate = Gate(tmp_path / "gate")
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "stophooks.py").write_text(HOOKS, encoding="utf-8")
    yield gate
    gate.release()  # never leave a server thread held


@pytest.fixture
def site(tmp_path, gate):
    with LocalServer() as server:
        for path in [*PAGES, "/old.html"]:
            server.route(path, Response(body=page(path), headers=HTML))
        body = rss([server.url(p) for p in PAGES])

        def held_feed(request):
            gate.fetched.set()
            gate.event.wait(120)
            return Response(body=body, headers=RSS)

        server.route("/held.xml", held_feed)
        server.route("/news.xml", Response(body=body, headers=RSS))
        yield server


def add_source(tmp_path: Path, server: LocalServer, feed: str) -> None:
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / "news.toml").write_text(f'name = "news"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
                                       f'[[feeds]]\nurl = "{server.url(feed)}"\n', encoding="utf-8")


def start(tmp_path: Path, config: Path, inject: str = "") -> subprocess.Popen:
    return start_service(config, tmp_path / "hooks", inject, env={"NEWSWATCH_TEST_GATE": str(tmp_path / "gate")})


def outcomes(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return [row[0] for row in conn.execute("SELECT outcome FROM cycles ORDER BY id")]
        except sqlite3.OperationalError:  # the schema is not there yet
            return []


def assert_clean(code: int, err: str, db: Path) -> None:
    assert code == 0, err
    assert "Traceback" not in err, err
    assert " ERROR " not in err and " WARNING " not in err, err
    assert "cycle failed" not in err and "digest failed" not in err, err
    assert sum("stopped on SIGTERM" in line for line in err.splitlines()) == 1, err
    assert "failed" not in outcomes(db), outcomes(db)


@pytest.mark.parametrize("point", ["fetch", "analyse", "store"])
def test_a_stop_at_any_point_of_a_cycle_is_a_clean_exit(tmp_path, gate, site, point):
    add_source(tmp_path, site, "/held.xml" if point == "fetch" else "/news.xml")
    config = write_config(tmp_path)
    db = tmp_path / "newswatch.db"
    service = start(tmp_path, config, INJECT[point])
    try:
        if point == "fetch":
            wait_for(gate.fetched.is_set)
        else:
            wait_for(lambda: any(gate.folder.glob(f"at-{point}-*")))
        workers = descendants(service.pid)
        service.send_signal(signal.SIGTERM)
        if point == "analyse":
            # The cycle hands its units back at once and records itself stopped; the workers may
            # finish the page they hold before the pool closes.
            wait_for(lambda: "stopped" in outcomes(db))
        gate.release()
        _, err = service.communicate(timeout=COMMAND_DEADLINE)
    finally:
        if service.poll() is None:
            service.kill()
            service.communicate()
    assert_clean(service.returncode, err, db)
    if point in ("fetch", "analyse"):
        assert outcomes(db)[-1] == "stopped"
    wait_for(lambda: not alive(workers))


def test_a_stop_while_a_digest_is_sent_lets_the_send_finish_and_exits_cleanly(tmp_path, gate, site):
    add_source(tmp_path, site, "/news.xml")
    smtp = HeldSmtp(gate)
    port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=port, ready_timeout=60)
    controller.start()
    try:
        config = write_config(tmp_path, '[digest]\ntime = "00:00"\ntimezone = "UTC"\nempty_day = "send"\n'
                                        'formats = []\n\n[email]\nenabled = true\nhost = "127.0.0.1"\n'
                                        f'port = {port}\nsecurity = "none"\nsender = "d@newswatch.example"\n'
                                        'recipients = ["ana@example.org"]\ntimeout = 60\n')
        # Something was watched before yesterday ended, so yesterday's digest is due at start-up.
        from pipeline.context import load_context
        from pipeline.models import FeedItem

        with load_context(config).open_store() as store:
            feed = store.feeds()[0]
            old = site.url("/old.html")
            store.add_items(feed["id"], "news", [FeedItem(url=old, canonical_url=old, guid=None, title="old",
                                                          summary="s", published=None)])
        with sqlite3.connect(tmp_path / "newswatch.db") as conn:
            conn.execute("UPDATE entries SET discovered_at = ?", [(datetime.now(UTC) - timedelta(days=1)).isoformat()])
        service = start(tmp_path, config)
        try:
            wait_for(lambda: (gate.folder / "at-digest-smtp").exists())
            service.send_signal(signal.SIGTERM)
            gate.release()
            _, err = service.communicate(timeout=COMMAND_DEADLINE)
        finally:
            if service.poll() is None:
                service.kill()
                service.communicate()
    finally:
        gate.release()
        controller.stop()
    assert_clean(service.returncode, err, tmp_path / "newswatch.db")
    assert smtp.accepted >= 1
    with sqlite3.connect(tmp_path / "newswatch.db") as conn:
        statuses = {row[0] for row in conn.execute("SELECT status FROM digests WHERE channel = 'email'")}
    assert "sending" not in statuses, statuses  # the send in flight finished and was recorded


def test_a_second_signal_ends_the_service_at_once_and_takes_its_workers_with_it(tmp_path, gate, site):
    add_source(tmp_path, site, "/news.xml")
    config = write_config(tmp_path)
    db = tmp_path / "newswatch.db"
    service = start(tmp_path, config, INJECT["analyse"])
    try:
        wait_for(lambda: any(gate.folder.glob("at-analyse-*")))
        workers = descendants(service.pid)
        assert workers
        service.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopped" in outcomes(db))  # the first signal was taken; the workers are still held
        service.send_signal(signal.SIGTERM)
        _, err = service.communicate(timeout=COMMAND_DEADLINE)
    finally:
        if service.poll() is None:
            service.kill()
            service.communicate()
    assert service.returncode == 128 + signal.SIGTERM, err
    assert "second SIGTERM: exiting at once" in err and "Traceback" not in err, err
    wait_for(lambda: not alive(workers))
