"""The reading room on PostgreSQL: `newswatch demo --storage postgresql://…`, then `newswatch serve`
on the config it wrote, read as a reader would; the feedback lands in that database."""

from __future__ import annotations

import json
import re

import pytest
from pg_helpers import create_database, drop_database
from test_web_acceptance import SEED, assert_no_inline_script, item_links
from test_web_feedback import TOPIC, post
from web_helpers import http_client, http_get, serving

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.store import open_store


@pytest.fixture(scope="module")
def pg_demo(pg_server, tmp_path_factory):
    """The demo on a database of its own, served: (base URL, config path)."""
    url = create_database(pg_server)
    output = tmp_path_factory.mktemp("pg-demo")
    try:
        assert main(["demo", "--output", str(output), "--storage", url]) == 0
        config = output / "config.toml"
        with serving(config) as base:
            yield base, config
        assert not (output / "newswatch.db").exists(), "the reading room read the database, not a file"
    finally:
        drop_database(pg_server, url)


def seed_link(html: str) -> str:
    found = re.search(r'href="(/items/\d+)">(?:\d+\. )?' + re.escape(SEED), html)
    assert found, "the seed story links to its item"
    return found.group(1)


def test_home_search_item_and_sources_answer_from_postgresql(pg_demo):
    base, _ = pg_demo
    home = http_get(base + "/")
    assert home.status_code == 200 and SEED in home.text
    assert len(item_links(home.text)) >= 6
    search = http_get(base + "/search", params={"q": "hotline"})
    assert search.status_code == 200
    assert "Shipping insurers raise South China Sea premiums" in search.text
    assert "<mark>" in search.text  # the snippet marks the match
    item = http_get(base + item_links(search.text)[0])
    assert item.status_code == 200 and "<mark>" in item.text and "restored hotline" in item.text
    seed = http_get(base + seed_link(home.text)).text
    assert "<mark>" in seed and "Why tagged" in seed and "Rule by rule" in seed and "Dnipro Daily" in seed
    sources = http_get(base + "/sources")
    assert sources.status_code == 200 and "Dnipro Daily" in sources.text
    for page in (home.text, search.text, item.text, sources.text):
        assert_no_inline_script(page)


def test_days_filters_and_feed_answer_from_postgresql(pg_demo):
    base, _ = pg_demo
    days = http_get(base + "/days/").text
    listed = re.findall(r'href="/days/(\d{4}-\d{2}-\d{2})"', days)
    # Days are publication days: the seed story is on the day its outlet published it.
    assert listed and any(SEED in http_get(base + f"/days/{day}").text for day in listed)
    strong = http_get(base + "/search", params={"q": "China", "topic": TOPIC, "level": "strong"}).text
    assert re.search(r'<li><a href="/items/\d+"', strong)
    only = http_get(base + "/search", params={"q": "China", "source": "Dnipro Daily"}).text
    assert set(re.findall(r'<span class="meta">([^·<]+?) ·', only)) == {"Dnipro Daily"}
    feed = http_get(base + f"/topics/{TOPIC}/feed.xml")
    assert feed.status_code == 200 and SEED in feed.text


def test_not_relevant_takes_the_item_off_the_page_and_is_kept_in_postgresql(pg_demo, capsys):
    base, config = pg_demo
    with http_client(base_url=base, follow_redirects=True) as client:
        entry_id = int(seed_link(client.get("/").text).rsplit("/", 1)[1])
        page = post(client, entry_id, "not_relevant")
        assert page.status_code == 200 and "you said not relevant" in page.text
        assert SEED not in client.get("/").text
        with open_store(load_config(config)) as store:
            assert store.backend == "postgresql"
            assert [(r["entry_id"], r["verdict"]) for r in store.feedback()] == [(entry_id, "not_relevant")]
        capsys.readouterr()
        assert main(["feedback", "export", "--config", str(config)]) == 0
        [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert (row["entry_id"], row["verdict"], row["decision"], row["title"]) == (
            entry_id, "not_relevant", "strong", SEED)
        post(client, entry_id, "clear")  # withdrawn: back at once
        assert SEED in client.get("/").text
