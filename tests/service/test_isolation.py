"""One unit of work that raises costs that unit alone: a feed, an entry or a digest.

Real parts throughout: the cycle (pipeline.service.run_cycle) on a SQLite file, HTTP on 127.0.0.1,
`newswatch status --json` as a subprocess. The fault is injected by wrapping one real function so
that it raises for one unit only (one feed URL, one page URL, one day); everything else runs as is.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from config_helpers import write_config
from digest_helpers import HOTLINE, TOPIC, Newsroom, utc
from digest_helpers import write_config as write_digest_config
from httpserver import LocalServer, Response
from waiting import COMMAND_DEADLINE

from pipeline.context import load_context
from pipeline.digest import deliver
from pipeline.fetch import HttpClient
from pipeline.service import poll as poll_module
from pipeline.service import process as process_module
from pipeline.service import run_cycle, workers
from pipeline.service.workers import make_pool
from pipeline.store import Store, iso
from pipeline.topics import Tagger

ROOT = Path(__file__).resolve().parents[2]
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
TEXT = ("The river authority said the new lock gates would open in the spring, and barge operators welcomed "
        "the shorter waits while anglers asked for a quieter season on the upper reaches. ")
VICTIM_PAGE = "/victim/1.html"


class Injected(RuntimeError):
    """The fault the tests inject: nothing in newswatch raises it on its own."""


def page(title: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            + f"<p>{TEXT * 3}</p>" * 4 + "</article></body></html>")


def publish(server: LocalServer, tmp_path: Path, name: str, count: int) -> list[str]:
    paths = [f"/{name}/{i}.html" for i in range(count)]
    for p in paths:
        server.route(p, Response(body=page(p), headers=HTML))
    items = "".join(f"<item><title>{p}</title><link>{server.url(p)}</link><description>summary of {p}"
                    "</description></item>" for p in paths)
    server.route(f"/{name}.xml", Response(body=f"<rss version='2.0'><channel><title>{name}</title>{items}"
                                               "</channel></rss>", headers=RSS))
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / f"{name}.toml").write_text(f'name = "{name}"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
                                          f'[[feeds]]\nurl = "{server.url(f"/{name}.xml")}"\n', encoding="utf-8")
    return paths


@pytest.fixture
def newsroom(tmp_path):
    """Two outlets on 127.0.0.1: "wire" (5 pages) and "victim" (3 pages), whose feed or one page gets the fault."""
    with LocalServer() as server:
        publish(server, tmp_path, "wire", 5)
        publish(server, tmp_path, "victim", 3)
        yield server, write_config(tmp_path)


def cycle(config: Path):
    ctx = load_context(config)
    with ctx.open_store() as store:
        return run_cycle(ctx, store)


def entries(config: Path) -> dict[str, dict]:
    with sqlite3.connect(config.parent / "newswatch.db") as db:
        db.row_factory = sqlite3.Row
        return {r["url"]: dict(r) for r in db.execute("SELECT * FROM entries")}


def status(config: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "pipeline", "status", "--json", "--config", str(config)],
                          capture_output=True, text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def raise_for(original, matches):
    """`original`, except that it raises Injected when `matches(*args, **kwargs)` says so."""
    def wrapper(*args, **kwargs):
        if matches(*args, **kwargs):
            raise Injected("injected fault for one unit")
        return original(*args, **kwargs)
    return wrapper


def async_raise_for(original, matches):
    async def wrapper(*args, **kwargs):
        if matches(*args, **kwargs):
            raise Injected("injected fault for one unit")
        return await original(*args, **kwargs)
    return wrapper


# Each fault: the unit it hits (the "victim" feed, or its entry VICTIM_PAGE) and the stage it is in.
FAULTS = {
    "feed fetch": ("feed", "fetch"), "feed parse": ("feed", "parse"), "feed store": ("feed", "store"),
    "entry fetch": ("entry", "fetch"), "entry extract": ("entry", "extract"), "entry tag": ("entry", "tag"),
    "entry store": ("entry", "store"),
}


def inject(fault: str, mp: pytest.MonkeyPatch, server: LocalServer) -> None:
    """Make one real function raise for the victim unit only."""
    if fault in ("feed fetch", "entry fetch"):
        victim = server.url("/victim.xml" if fault == "feed fetch" else VICTIM_PAGE)
        mp.setattr(HttpClient, "get", async_raise_for(HttpClient.get, lambda _self, url, **_: url == victim))
    elif fault == "feed parse":
        mp.setattr(poll_module, "parse_feed", raise_for(
            poll_module.parse_feed, lambda _body, url, *_: url.endswith("/victim.xml")))
    elif fault == "feed store":  # a step of the feed's bookkeeping after its items were added
        mp.setattr(Store, "feed_item_times", raise_for(
            Store.feed_item_times, lambda self, feed_id, *_: self.feed(feed_id).source == "victim"))
    elif fault == "entry extract":
        mp.setattr(workers, "extract_article", raise_for(
            workers.extract_article, lambda _page, url, *_a, **_k: url.endswith(VICTIM_PAGE)))
    elif fault == "entry tag":
        mp.setattr(Tagger, "tag", raise_for(Tagger.tag, lambda _self, title, *_: VICTIM_PAGE in (title or "")))
    elif fault == "entry store":
        mp.setattr(Store, "complete_entry", raise_for(
            Store.complete_entry, lambda _self, _id, article, *_a, **_k: VICTIM_PAGE in (article.title or "")))
    else:
        raise AssertionError(fault)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_unit_that_raises_in_any_stage_costs_that_unit_alone(newsroom, monkeypatch, fault, caplog):
    server, config = newsroom
    unit, stage = FAULTS[fault]
    inject(fault, monkeypatch, server)
    report = cycle(config)

    rows = entries(config)
    wire = [server.url(f"/wire/{i}.html") for i in range(5)]
    assert all(rows[url]["state"] == "done" for url in wire)
    assert report.poll.unit_failures + report.process.unit_failures == 1
    now = datetime.now(UTC)
    state = status(config)
    internal = [line for line in caplog.text.splitlines() if ": internal: " in line]
    assert len(internal) == 1, "one log line per failed unit"
    if unit == "feed":
        feed = next(f for f in state["feeds"] if f["source"] == "victim")
        assert (feed["health"], feed["last_error_kind"], feed["last_error_stage"]) == ("failing", "internal", stage)
        assert feed["last_error"] == "Injected: injected fault for one unit"
        assert datetime.fromisoformat(feed["next_poll_at"]) > now + timedelta(seconds=20)  # backed off
        assert not any("/victim/" in url for url in rows), "a feed that raised leaves nothing half-written"
        assert state["errors_last_24h"]["feed_internal"] == 1
    else:
        for i in (0, 2):
            assert rows[server.url(f"/victim/{i}.html")]["state"] == "done"
        victim = rows[server.url(VICTIM_PAGE)]
        assert (victim["state"], victim["last_error_kind"], victim["last_error_stage"], victim["attempts"]) == (
            "pending", "internal", stage, 1)
        assert datetime.fromisoformat(victim["next_attempt_at"]) > now + timedelta(minutes=2)  # backed off
        shown = [e for e in state["failed_entries"] if e["url"] == server.url(VICTIM_PAGE)]
        assert len(shown) == 1 and shown[0]["last_error"] == f"internal: {stage}: Injected: injected fault for one unit"
        assert state["errors_last_24h"]["entry_internal"] == 1
    assert state["cycles"]["last"]["outcome"] == "ok" and state["cycles"]["last"]["unit_failures"] == 1

    # Not hot-looped: the next cycle does not try the failed unit again before its backoff is over.
    again = cycle(config)
    assert again.poll.feeds == 0 and again.process.processed == again.process.retried == 0
    if unit == "entry":
        assert entries(config)[server.url(VICTIM_PAGE)]["attempts"] == 1


def test_an_item_the_store_cannot_take_costs_that_item_and_its_feed_stays_ok(newsroom, monkeypatch):
    server, config = newsroom
    victim = server.url(VICTIM_PAGE)
    monkeypatch.setattr(Store, "add_items", raise_for(
        Store.add_items, lambda _self, _feed, _source, items, **_: any(item.url == victim for item in items)))
    report = cycle(config)
    rows = entries(config)
    assert victim not in rows
    assert {url for url in rows if "/victim/" in url} == {server.url("/victim/0.html"), server.url("/victim/2.html")}
    assert all(row["state"] == "done" for row in rows.values())
    assert report.poll.ok == 2 and report.poll.unit_failures == 1
    state = status(config)
    assert {f["source"]: f["health"] for f in state["feeds"]} == {"victim": "ok", "wire": "ok"}
    assert state["errors_last_24h"]["entry_internal"] == 1


def make_due(config: Path, url: str, attempts: int) -> None:
    """Move an entry's retry time to now, as if its backoff had run out after `attempts` tries."""
    with Store(config.parent / "newswatch.db") as store, store.transaction():
        store.db.execute("UPDATE entries SET attempts = ?, next_attempt_at = ? WHERE url = ?",
                         [attempts, iso(datetime.now(UTC)), url])


def test_an_entry_that_always_fails_is_stored_from_its_feed_text_after_its_retries(newsroom, monkeypatch):
    server, config = newsroom
    inject("entry extract", monkeypatch, server)
    cycle(config)
    victim = server.url(VICTIM_PAGE)
    make_due(config, victim, attempts=5)  # the last retry
    report = cycle(config)
    assert report.process.fallback == 1
    with sqlite3.connect(config.parent / "newswatch.db") as db:
        state, text, reason = db.execute("SELECT e.state, a.text, a.reason FROM entries e JOIN articles a "
                                         "ON a.entry_id = e.id WHERE e.url = ?", [victim]).fetchone()
    assert (state, text) == ("done", f"summary of {VICTIM_PAGE}")
    assert reason == "internal error: extract: Injected: injected fault for one unit"


def test_an_entry_whose_feed_text_fails_too_is_given_up_and_shown(newsroom, monkeypatch):
    server, config = newsroom
    inject("entry tag", monkeypatch, server)  # the feed's title names the page too: the fallback fails
    cycle(config)
    victim = server.url(VICTIM_PAGE)
    make_due(config, victim, attempts=5)
    report = cycle(config)
    assert report.process.failed == 1
    row = entries(config)[victim]
    assert (row["state"], row["last_error_kind"], row["last_error_stage"]) == ("failed", "internal", "tag")
    assert row["next_attempt_at"] is None
    state = status(config)
    assert state["entries"]["failed"] == 1
    assert [e["state"] for e in state["failed_entries"] if e["url"] == victim] == ["failed"]


def test_a_digest_that_raises_costs_that_digest_and_is_retried_later(tmp_path, monkeypatch):
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("wiredaily")
        for day in (11, 12):  # two days due together after downtime (the catch-up)
            room.add("wiredaily", f"hotline-{day}", "US and China restore military hotline", HOTLINE,
                     seen=utc(2024, 3, day, 6))
        config = write_digest_config(tmp_path)
        due = utc(2024, 3, 13, 5)
        broken = date(2024, 3, 11)
        monkeypatch.setattr(deliver, "build_digest", raise_for(
            deliver.build_digest, lambda _store, _config, _topic, start, **_: start == broken))
        outcomes = deliver.deliver_due(store, config, due)
        assert [(o.day, o.status) for o in outcomes] == [(broken, "failed"), (date(2024, 3, 12), "sent")]
        assert outcomes[0].detail.startswith("internal error: build: Injected: injected fault for one unit; retry at")
        record = store.digest_record(TOPIC, "2024-03-11", "files")
        assert (record["status"], record["last_error_kind"], record["last_error_stage"], record["attempts"]) == (
            "failed", "internal", "build", 1)
        assert deliver.deliver_due(store, config, due + timedelta(seconds=30)) == []  # backed off, not hot-looped
        monkeypatch.undo()
        later = deliver.deliver_due(store, config, due + timedelta(hours=1))
        assert [(o.day, o.status) for o in later] == [(broken, "sent")]
        assert store.digest_record(TOPIC, "2024-03-11", "files")["last_error_kind"] is None


def test_a_format_that_fails_to_render_is_recorded_against_its_digest(tmp_path, monkeypatch):
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("wiredaily")
        room.add("wiredaily", "hotline", "US and China restore military hotline", HOTLINE, seen=utc(2024, 3, 12, 6))
        config = write_digest_config(tmp_path)
        monkeypatch.setattr(deliver, "render", raise_for(deliver.render, lambda _digest, fmt: fmt == "html"))
        (outcome,) = deliver.deliver_due(store, config, utc(2024, 3, 13, 5))
        assert (outcome.status, outcome.channel) == ("failed", "files")
        record = store.digest_record(TOPIC, "2024-03-12", "files")
        assert (record["status"], record["last_error_stage"]) == ("failed", "render")
        assert record["last_error"] == "internal: render: Injected: injected fault for one unit"


def crash_on_victim(page_bytes, url, *args, **kwargs):
    """analyse(), except that the worker dies on the victim page (as on a page that crashes lxml)."""
    if url.endswith(VICTIM_PAGE):
        os._exit(70)
    return workers.analyse(page_bytes, url, *args, **kwargs)


def test_a_page_that_kills_its_worker_costs_that_page_and_the_pool_comes_back(newsroom, monkeypatch):
    server, config = newsroom
    monkeypatch.setattr(process_module, "analyse", crash_on_victim)  # pickled by name: workers import it too
    ctx = load_context(config)
    pool = make_pool(ctx.config.topic_files, workers=1)
    try:
        with ctx.open_store() as store:
            run_cycle(ctx, store, executor=pool)
            victim = server.url(VICTIM_PAGE)
            rows = entries(config)
            assert (rows[victim]["state"], rows[victim]["last_error_stage"]) == ("pending", "extract")
            assert "BrokenProcessPool" in rows[victim]["last_error"]
            # Pages in flight when the worker died failed with it; they are retried like any failed entry.
            for url, row in rows.items():
                if url != victim and row["state"] == "pending":
                    make_due(config, url, attempts=1)
            run_cycle(ctx, store, executor=pool)
        rows = entries(config)
        assert {url for url, row in rows.items() if row["state"] != "done"} == {victim}
        assert pool.submit(pow, 2, 10).result(timeout=30) == 1024
    finally:
        pool.shutdown()
