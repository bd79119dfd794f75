"""Every fault a site or the machine can throw at a cycle: it shows in status, the rest carries on.

Real parts throughout: the cycle (pipeline.service.run_cycle) on a SQLite file, HTTP on 127.0.0.1,
`newswatch status --json` as a subprocess, a second process holding the database lock, and a
file-size limit (RLIMIT_FSIZE) standing in for a full disk.
"""

from __future__ import annotations

import json
import logging
import random
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from config_helpers import write_config
from httpserver import LocalServer, Response
from waiting import COMMAND_DEADLINE

from pipeline.context import load_context
from pipeline.service import Service, run_cycle

ROOT = Path(__file__).resolve().parents[2]
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
# A site that stalls or drips holds the cycle this long unless our time limits end it first: a bound
# the assert can use however slow the machine (the limits here are 2 s).
STALL = 300.0
TEXT = ("The harbour authority said larger container ships could call from next year, and local shipping "
        "firms welcomed the decision while environmental groups asked for more studies of the river. ")


def page(title: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            + f"<p>{TEXT * 3}</p>" * 4 + "</article></body></html>")


def rss(server: LocalServer, paths: list[str]) -> str:
    items = "".join(f"<item><title>{p}</title><link>{server.url(p)}</link><description>summary of {p}"
                    "</description></item>" for p in paths)
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


def add_source(tmp_path: Path, server: LocalServer, name: str, feed: str) -> None:
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / f"{name}.toml").write_text(f'name = "{name}"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
                                          f'[[feeds]]\nurl = "{server.url(feed)}"\n', encoding="utf-8")


def status(config: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "pipeline", "status", "--json", "--config", str(config)],
                          capture_output=True, text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def good_site(server: LocalServer, tmp_path: Path, count: int = 5) -> list[str]:
    paths = [f"/good/{i}.html" for i in range(count)]
    for p in paths:
        server.route(p, Response(body=page(p), headers=HTML))
    server.route("/good.xml", Response(body=rss(server, paths), headers=RSS))
    add_source(tmp_path, server, "good", "/good.xml")
    return paths


def test_feed_and_page_faults_show_in_status_and_the_rest_is_stored(tmp_path):
    rng = random.Random(3)
    big = b"<html><body>" + b"x" * 50_000_000  # built before the RSS baseline: only the client side is measured
    with LocalServer() as server:
        good = good_site(server, tmp_path)
        bad_pages = {"/pages/500.html": Response(status=500),
                     "/pages/reset.html": Response(body=page("cut"), headers=HTML, content_length=100_000),
                     "/pages/garbage.html": Response(body=rng.randbytes(20_000), headers=HTML),
                     "/pages/image.html": Response(body=b"\x89PNG\r\n\x1a\n" + rng.randbytes(5000),
                                                   headers={"Content-Type": "image/png"}),
                     "/pages/big.html": Response(body=big, headers=HTML)}
        for p, response in bad_pages.items():
            server.route(p, response)
        server.route("/pages.xml", Response(body=rss(server, list(bad_pages)), headers=RSS))
        add_source(tmp_path, server, "pages", "/pages.xml")
        feeds = {
            "http500": Response(status=500, body=b"oops"),
            "reset": Response(body=rss(server, ["/x"]), headers=RSS, content_length=50_000),
            # both would hold a cycle for minutes: only the time limits can end them within the assert below
            "stall": Response(body=rss(server, ["/x"]), headers=RSS, delay=STALL),
            "drip": Response(body=rss(server, ["/a", "/b", "/c", "/d"]), headers=RSS, drip=1.0, drip_size=1),
            "garbage": Response(body=rng.randbytes(4000), headers=RSS),
            "nowhtml": Response(body=page("we moved our feed"), headers=HTML),
            "nowimage": Response(body=b"\x89PNG\r\n\x1a\n" + rng.randbytes(5000),
                                 headers={"Content-Type": "image/png"}),
            "huge": Response(body=big, headers=RSS),
        }
        for name, response in feeds.items():
            server.route(f"/{name}.xml", response)
            add_source(tmp_path, server, name, f"/{name}.xml")
        config = write_config(tmp_path).read_text().replace("timeout = 10.0", "timeout = 2.0\nread_timeout = 2.0")
        (tmp_path / "config.toml").write_text(config)
        ctx = load_context(tmp_path / "config.toml")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        with ctx.open_store() as store:
            report = run_cycle(ctx, store)
        elapsed = time.monotonic() - started
        rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        del big

    assert elapsed < STALL, "a stalled or dripping site held the cycle up"
    assert rss_growth_mb < 40, f"the 50 MB bodies were buffered: +{rss_growth_mb:.0f} MB"
    assert report.poll.ok == 2 and report.poll.failed == len(feeds)
    report_status = status(tmp_path / "config.toml")
    by_source = {f["source"]: f for f in report_status["feeds"]}
    assert by_source["good"]["health"] == by_source["pages"]["health"] == "ok"
    kinds = {name: (by_source[name]["health"], by_source[name]["last_error_kind"]) for name in feeds}
    assert kinds == {"http500": ("failing", "http"), "reset": ("failing", kinds["reset"][1]),
                     "stall": ("failing", "timeout"), "drip": ("failing", "timeout"),
                     "garbage": ("failing", "parse"), "nowhtml": ("failing", "parse"),
                     "nowimage": ("failing", "parse"), "huge": ("failing", kinds["huge"][1])}
    assert kinds["reset"][1] not in (None, "parse") and "10" in by_source["huge"]["last_error"]
    assert report_status["feeds_by_health"] == {"ok": 2, "failing": len(feeds)}
    errors = report_status["errors_last_24h"]
    assert errors["feed_timeout"] == 2 and errors["feed_parse"] == 3 and errors["feed_http"] >= 1
    assert sum(n for k, n in errors.items() if k.startswith("page_")) >= 2  # the 500 and the cut-off page
    with sqlite3.connect(tmp_path / "newswatch.db") as db:
        states = dict(db.execute("SELECT url, state FROM entries").fetchall())
        texts = dict(db.execute("SELECT e.url, a.text FROM entries e JOIN articles a ON a.entry_id = e.id"))
    assert all(states[server.url(p)] == "done" and TEXT.strip() in texts[server.url(p)] for p in good)
    # A page that failed for a while stays queued for a retry; one that failed for good falls back to
    # the feed's text: either way it is in the queue or stored, never lost.
    assert {server.url(p) for p in bad_pages} <= set(states)
    assert states[server.url("/pages/500.html")] == "pending"
    assert report_status["queue_depth"] == sum(1 for s in states.values() if s == "pending")


def hold_exclusive_lock(db: Path, seconds: float) -> subprocess.Popen:
    script = ("import sqlite3, sys, time\n"
              "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
              "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(float(sys.argv[2]))\n"
              "c.execute('COMMIT')\n")
    holder = subprocess.Popen([sys.executable, "-c", script, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_database_locked_by_another_process_makes_the_cycle_wait_not_lose(tmp_path):
    with LocalServer() as server:
        good = good_site(server, tmp_path, count=8)
        ctx = load_context(write_config(tmp_path))
        with ctx.open_store():
            pass
        holder = hold_exclusive_lock(tmp_path / "newswatch.db", 3.0)
        started = time.monotonic()
        with ctx.open_store() as store:
            report = run_cycle(ctx, store)
        waited = time.monotonic() - started
        holder.wait(COMMAND_DEADLINE)
    assert waited >= 2.5, "the cycle did not meet the lock"
    assert report.poll.ok == 1 and report.process.processed == len(good)
    counts = status(tmp_path / "config.toml")["entries"]
    assert counts["done"] == len(good) and counts["pending"] == 0


@pytest.fixture
def file_size_limit():
    """Set RLIMIT_FSIZE for this process (a full disk, without root); lifted again afterwards.

    Python ignores SIGXFSZ, so a write past the limit fails with EFBIG and SQLite reports
    "database or disk is full", as on a full disk.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)

    def limit(size: int | None) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft if size is None else size, hard))

    yield limit
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_full_disk_pauses_the_service_keeps_the_store_sound_and_resumes_without_loss(
        tmp_path, file_size_limit, caplog):
    with LocalServer() as server:
        paths = [f"/big/{i}.html" for i in range(30)]
        for p in paths:
            server.route(p, Response(body=page(p).replace("</article>", "<p>" + TEXT * 200 + "</p></article>"),
                                     headers=HTML))
        server.route("/big.xml", Response(body=rss(server, paths), headers=RSS))
        add_source(tmp_path, server, "big", "/big.xml")
        ctx = load_context(write_config(tmp_path))
        db = tmp_path / "newswatch.db"
        with ctx.open_store():
            pass
        with sqlite3.connect(db, isolation_level=None) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        service = Service(ctx, tick_seconds=1)
        cycle = service._guarded("cycle", service.cycle_job)
        file_size_limit(db.stat().st_size + 200_000)  # room for the feed's entries, not for the pages
        with caplog.at_level(logging.INFO):
            cycle()
        file_size_limit(None)
        assert "storage is full or failing" in caplog.text
        assert service.paused_until > time.monotonic() + 60
        paused_calls = server.hits("/big.xml")
        cycle()  # paused: does nothing, writes nothing
        assert server.hits("/big.xml") == paused_calls
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            partial = dict(conn.execute("SELECT state, count(*) FROM entries GROUP BY state").fetchall())
        assert partial.get("pending", 0) > 0, "the limit was never reached"

        service.paused_until = 0.0  # the pause has run out
        cycle()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = dict(conn.execute("SELECT url, state FROM entries").fetchall())
    assert rows == {server.url(p): "done" for p in paths}
