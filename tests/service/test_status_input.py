"""Hostile but ordinary feed input through the real commands: bad and missing links cost one item at
most, the feed stays ok, and `newswatch status` says what happened to each entry and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import write_config
from httpserver import LocalServer, Response

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.store import Store

MILCOMM = ("US Defense Secretary Lloyd Austin held a video call with Chinese Defense Minister Dong Jun on "
           "Tuesday to reopen military-to-military communication.")
GOOD = [f"/news/{n}.html" for n in range(1, 6)]


def page(n: int) -> str:
    paragraphs = "".join(f"<p>Paragraph {i} of the harbour report number {n}, told at a length that reads as "
                         f"an article body rather than navigation or a caption.</p>" for i in range(6))
    return f"<html><head><title>Harbour report {n}</title></head><body><article><h1>Harbour report {n}</h1>" \
           f"{paragraphs}</article></body></html>"


def feed(server: LocalServer) -> str:
    good = "".join(f"<item><title>Harbour report {n}</title><link>{server.url(path)}</link>"
                   f"<guid>good-{n}</guid></item>" for n, path in enumerate(GOOD, 1))
    port = server.url("/").rsplit(":", 1)[1].rstrip("/")
    poison = (
        "<item><title>Bad port</title><link>http://127.0.0.1:99999/x</link><guid>p1</guid>"
        "<description>A story whose link has an impossible port.</description></item>"
        f"<item><title>Port abc</title><link>http://127.0.0.1:abc/x</link><guid>p2</guid></item>"
        "<item><title>Broken IPv6</title><link>http://[::1/x</link><guid>p3</guid></item>"
        f"<item><title>Hotline restored</title><guid isPermaLink=\"false\">tag:{port}:hotline</guid>"
        f"<description>{MILCOMM}</description></item>"
        "<item><link>http://127.0.0.1:99999/nothing</link></item>"
        "<item><guid isPermaLink=\"false\">only-an-id</guid></item>"
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Poison</title>{good}{poison}</channel></rss>'


@pytest.fixture
def setup(tmp_path):
    with LocalServer() as server:
        for n, path in enumerate(GOOD, 1):
            server.route(path, Response(body=page(n), headers={"Content-Type": "text/html; charset=utf-8"}))
        server.route("/feed.xml", Response(body=feed(server), headers={"Content-Type": "application/rss+xml"}))
        clean = f'<rss version="2.0"><channel><item><title>Clean</title><link>{server.url(GOOD[0])}?c=1</link>' \
                "</item></channel></rss>"
        server.route("/clean.xml", Response(body=clean, headers={"Content-Type": "application/rss+xml"}))
        (tmp_path / "sources").mkdir()
        (tmp_path / "sources" / "clean.toml").write_text(
            f'name = "Clean"\n\n[[feeds]]\nurl = "{server.url("/clean.xml")}"\n')
        (tmp_path / "sources" / "poison.toml").write_text(
            f'name = "Poison"\nhomepage = "{server.url("/")}"\n\n[[feeds]]\nurl = "{server.url("/feed.xml")}"\n')
        config = write_config(tmp_path)
        yield server, config


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_links_cost_nothing_and_status_gives_each_reason(setup, capsys):
    _, config = setup
    for _ in range(2):  # the second run meets the same feed again: nothing crashes, nothing doubles
        code, out, err = run(capsys, "poll", "--quiet", "--config", str(config))
        assert code == 0, err
    with Store(load_config(config).db_path) as store:
        rows = {r["title"]: r for r in store.db.query("SELECT title, url, state, link_problem FROM entries")}
    clean = rows.pop("Clean")  # the other feed polled in the same run is stored as if nothing happened
    assert clean["state"] == "done" and clean["url"].endswith("?c=1")
    assert len(rows) == 9  # 5 good, 4 kept from their text; the 2 with neither link nor text are counted
    assert all(rows[f"Harbour report {n}"]["state"] == "done" and rows[f"Harbour report {n}"]["url"]
               for n in range(1, 6))
    assert rows["Bad port"]["link_problem"] == \
        "unusable link 'http://127.0.0.1:99999/x': port 99999 is out of range 1-65535"
    assert {r["state"] for r in rows.values()} == {"done"}

    code, out, _ = run(capsys, "status", "--config", str(config))
    assert code == 0
    feed_line = next(line for line in out.splitlines() if line.startswith("ok ") and "Poison" in line)
    assert "[9 items]" in feed_line
    lines = [line.strip() for line in out.splitlines()]
    stored = lines.index("4 stored from the feed's text, without a usable link:")
    assert sorted(lines[stored + 1:stored + 5]) == [
        "no link",
        "unusable link 'http://127.0.0.1:99999/x': port 99999 is out of range 1-65535",
        "unusable link 'http://127.0.0.1:abc/x': port 'abc' is not a number",
        "unusable link 'http://[::1/x': not a URL (Invalid IPv6 URL)",
    ]
    skipped = lines.index("2 skipped in its last body:")
    assert sorted(lines[skipped + 1:skipped + 3]) == [
        "no link, and no title or summary to store",
        "unusable link 'http://127.0.0.1:99999/nothing': port 99999 is out of range 1-65535, and no title or "
        "summary to store",
    ]

    code, out, _ = run(capsys, "status", "--json", "--config", str(config))
    status_feed, clean_feed = sorted(json.loads(out)["feeds"], key=lambda f: f["source"] != "Poison")
    assert clean_feed["health"] == "ok" and clean_feed["entries_without_link"] == clean_feed["entries_skipped"] == {}
    assert status_feed["health"] == "ok" and sum(status_feed["entries_without_link"].values()) == 4
    assert sum(status_feed["entries_skipped"].values()) == 2


def test_an_entry_without_a_link_is_tagged_and_reaches_the_digest(setup, capsys):
    _, config = setup
    assert run(capsys, "poll", "--quiet", "--config", str(config))[0] == 0
    with Store(load_config(config).db_path) as store:
        (entry,) = store.db.query("SELECT e.id, e.url, t.level, a.text, a.reason FROM entries e "
                                  "JOIN tags t ON t.entry_id = e.id JOIN articles a ON a.entry_id = e.id "
                                  "WHERE e.title = 'Hotline restored'")
    assert entry["url"] == "" and entry["text"] == MILCOMM and entry["level"] == "strong"
    assert "no link" in entry["reason"]
    day = datetime.now(UTC).date().isoformat()
    code, _, err = run(capsys, "digest", "--date", day, "--config", str(config))
    assert code == 0, err
    markdown = (config.parent / "digests" / "us-china-milcomm" / day / "digest.md")
    assert markdown.exists(), sorted(p.name for p in markdown.parent.glob("*"))
    assert "Hotline restored" in markdown.read_text(encoding="utf-8")


def test_status_reports_broken_source_files(setup, capsys):
    _, config = setup
    assert run(capsys, "poll", "--quiet", "--config", str(config))[0] == 0
    broken = config.parent / "sources" / "broken.toml"
    broken.write_text('name = "Broken"\n[[feeds]\nurl = "https://b.example/feed"\n')
    code, out, _ = run(capsys, "status", "--config", str(config))
    assert code == 0  # status reads what was stored; a file broken since start-up is reported, not fatal
    assert "source files that do not load: 1" in out
    assert f"  {broken}:2: invalid TOML:" in out
    code, out, _ = run(capsys, "status", "--json", "--config", str(config))
    assert [e.startswith(f"{broken}:2: ") for e in json.loads(out)["broken_source_files"]] == [True]


def test_poison_entries_in_the_pooled_parse_path(setup):
    """A large cycle parses in worker processes: the poison entries must cost nothing there either."""
    import asyncio

    from pipeline.models import FeedConfig, Source
    from pipeline.service.poll import POOL_MIN_FEEDS, poll_feeds

    server, config_file = setup
    config = load_config(write_config(config_file.parent, "[schedule]\nparse_workers = 2\n"))  # a pool on 1 CPU too
    body = feed(server)
    urls = []
    for n in range(POOL_MIN_FEEDS):
        # each feed its own links, so that every feed has new items to store
        server.route(f"/many/{n}.xml", Response(body=body.replace("/news/", f"/news/{n}/"),
                                                headers={"Content-Type": "application/rss+xml"}))
        urls.append(server.url(f"/many/{n}.xml"))
    sources = {"Many": Source(name="Many", homepage="", language="en",
                              feeds=tuple(FeedConfig(url=u) for u in urls))}
    with Store(config.db_path) as store:
        store.sync_sources(sources.values())
        report = asyncio.run(poll_feeds(store, config, sources))
        assert (report.feeds, report.ok, report.failed) == (POOL_MIN_FEEDS, POOL_MIN_FEEDS, 0)
        # 9 each: a GUID is an identity only within its feed, so each feed's text-only items are its own
        assert report.new_items == 9 * POOL_MIN_FEEDS
        problems = store.entry_problems()
    assert all(sum(p.skipped.values()) == 2 for p in problems.values()) and len(problems) == POOL_MIN_FEEDS
