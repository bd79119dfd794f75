"""A unit of work that hangs costs that unit, never the service (issue 24, item 2).

Once, a catastrophic regex in a topic file and one article with 36 "a" stopped every cycle,
SIGTERM left the process alive, and after SIGKILL the worker ran on at full CPU as an orphan.
User patterns now run on RE2 (tests/test_patterns.py), so the hang here is made on purpose: a hook
in the worker runs Python's backtracking `re` on `(a+)+b`, which holds the GIL inside C for ever,
the worst kind of stuck worker (no Python thread of its own can run).
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest
from config_helpers import write_config
from httpserver import LocalServer, Response
from service_helpers import alive, descendants, ensure_dead, finish, start_service
from waiting import wait_for

from pipeline.service.workers import make_pool

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
TEXT = ("The ferry company said the winter timetable would keep two crossings a day, and the island council "
        "asked for a third on market days while the harbour master warned of storms in the channel. ")
GOOD = [f"/news/{i}.html" for i in range(3)]

HOOKS = '''
import os, re
from pathlib import Path


def hanging_analyse(page, url, *args, **kwargs):
    from pipeline.service.workers import analyse
    if "/hang" in url:
        (Path(os.environ["NEWSWATCH_TEST_MARKS"]) / f"hung-{os.getpid()}").touch()
        re.match(r"(a+)+b", "a" * 64)  # about 2**64 steps in C, holding the GIL
    return analyse(page, url, *args, **kwargs)
'''
INJECT = "import hanghooks, pipeline.service.process as p\np.analyse = hanghooks.hanging_analyse\n"


def page(title: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            + f"<p>{TEXT * 3}</p>" * 4 + "</article></body></html>")


@pytest.fixture
def site(tmp_path):
    with LocalServer() as server:
        paths = ["/hang.html", *GOOD]
        for path in paths:
            server.route(path, Response(body=page(path), headers=HTML))
        items = "".join(f"<item><title>item {i}</title><link>{server.url(p)}</link></item>"
                        for i, p in enumerate(paths))
        server.route("/news.xml", Response(body=f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>",
                                           headers=RSS))
        sources = tmp_path / "sources"
        sources.mkdir()
        (sources / "news.toml").write_text(f'name = "news"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
                                           f'[[feeds]]\nurl = "{server.url("/news.xml")}"\n', encoding="utf-8")
        (tmp_path / "hooks").mkdir()
        (tmp_path / "hooks" / "hanghooks.py").write_text(HOOKS, encoding="utf-8")
        (tmp_path / "marks").mkdir()
        yield server


def start(tmp_path: Path, body: str = ""):
    return start_service(write_config(tmp_path, body), tmp_path / "hooks", INJECT,
                         env={"NEWSWATCH_TEST_MARKS": str(tmp_path / "marks")})


def hung_pids(tmp_path: Path) -> set[int]:
    return {int(p.name.split("-")[1]) for p in (tmp_path / "marks").glob("hung-*")}


def entries(tmp_path: Path, server: LocalServer) -> dict[str, tuple[str, str | None]]:
    db = tmp_path / "newswatch.db"
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        try:
            rows = conn.execute("SELECT url, state, last_error FROM entries").fetchall()
        except sqlite3.OperationalError:
            return {}
    return {url.removeprefix(server.url("")): (state, error) for url, state, error in rows}


def test_a_hung_unit_is_ended_by_the_watchdog_recorded_as_a_timeout_and_the_service_goes_on(tmp_path, site):
    service = start(tmp_path, "[schedule]\nunit_timeout_seconds = 2\n")
    try:
        def settled() -> bool:
            found = entries(tmp_path, site)
            hang = found.get("/hang.html", ("", None))
            return all(found.get(p, ("",))[0] == "done" for p in GOOD) and "timeout" in (hang[1] or "")

        try:
            wait_for(settled)
        except AssertionError:
            service.kill()
            raise AssertionError(f"{entries(tmp_path, site)}\n{service.communicate()[1]}") from None
        (state, error) = entries(tmp_path, site)["/hang.html"]
        assert state == "pending" and error.startswith("internal: extract: timeout"), error  # retried later
        wait_for(lambda: not alive(hung_pids(tmp_path)))  # the stuck worker was killed, not left spinning
        assert service.poll() is None, "the service must go on"
        service.send_signal(signal.SIGTERM)
        err = finish(service)
    finally:
        ensure_dead(service)
    assert service.returncode == 0, err
    assert "outlasted its 2 s budget" in err and "Traceback" not in err, err


def test_sigterm_ends_the_service_and_a_worker_stuck_in_c_within_the_grace(tmp_path, site):
    service = start(tmp_path)  # the default budget (120 s) is far off: the stop has to end the hang itself
    try:
        wait_for(lambda: hung_pids(tmp_path))
        workers = descendants(service.pid)
        service.send_signal(signal.SIGTERM)
        err = finish(service)
    finally:
        ensure_dead(service)
    assert service.returncode == 0, err
    assert "stopped on SIGTERM" in err and "Traceback" not in err, err
    wait_for(lambda: not alive(workers | hung_pids(tmp_path)))


def test_no_worker_outlives_a_killed_service_even_one_stuck_in_c(tmp_path, site):
    service = start(tmp_path)
    try:
        wait_for(lambda: hung_pids(tmp_path))
        workers = descendants(service.pid)
        service.send_signal(signal.SIGKILL)
        service.wait(60)
    finally:
        ensure_dead(service)
    # The stuck worker's own watching thread cannot run (the GIL is held); the kernel ends it when
    # its parent, the pool's fork server, goes with the service.
    wait_for(lambda: not alive(workers | hung_pids(tmp_path)))


def test_a_unit_timing_out_after_the_pool_closed_starts_no_workers_the_exit_would_wait_for():
    """A job thread that outlived the stop's grace may still see its unit time out after the pool
    closed. Replacing the pool then would start workers that nothing kills; with the hung page
    retried in them, the interpreter's exit waited on them for ever (seen once under load)."""
    pool = make_pool([], workers=1, unit_seconds=60)
    try:
        assert pool.submit(pow, 2, 10).result(timeout=60) == 1024
        pool.close(grace=5)
        pool.replace(pool.generation)  # what run_unit does when the unit's budget runs out
        with pytest.raises(RuntimeError):
            pool.submit(pow, 2, 10)
    finally:
        pool.kill()
