"""The reading room's sources page shows each source's folder (`category`, kept from OPML)."""

from __future__ import annotations

from web_helpers import http_get, serving


def test_the_sources_page_shows_each_sources_folder(demo_copy):
    source = next(f for f in (demo_copy / "sources").glob("*.toml") if "Dnipro Daily" in f.read_text())
    source.write_text('category = "Europe / Ukraine"\n' + source.read_text(), encoding="utf-8")
    with serving(demo_copy / "config.toml") as base:
        page = http_get(base + "/sources")
    assert page.status_code == 200
    row = next(r for r in page.text.split("<tr") if "Dnipro Daily" in r)
    assert "<td>Europe / Ukraine</td>" in row


def test_the_sources_page_counts_items_in_languages_the_topic_has_no_rules_for(demo_copy):
    from pipeline.config import load_config
    from pipeline.models import Article
    from pipeline.store import open_store

    config = load_config(demo_copy / "config.toml")
    with open_store(config) as store:
        row = next(iter(store.articles()))
        store.complete_entry(row["id"], Article(title="Habari", text="Habari za leo.", language="sw"), [])
    with serving(demo_copy / "config.toml") as base:
        page = http_get(base + "/sources")
    assert page.status_code == 200
    assert "has no rules for: sw (1 items)" in page.text
