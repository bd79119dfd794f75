"""The `newswatch` commands a user types, run in-process against real files."""

import json
import shutil

import pytest

from pipeline.cli import build_parser, main
from pipeline.demo.site import load_stories

SEED = "The Ministry of Defense of China is ready to cooperate with the USA"


@pytest.fixture
def demo(demo_output, tmp_path):
    """A private copy of the demo output, so commands that write do not disturb other tests."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_output, copy)
    return copy


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "poll", "digest", "status", "health", "classify", "explain", "retag", "extract",
                    "search", "sources", "demo", "reprocess", "vacuum"):
        assert command in out


def test_classify_reads_json_lines_and_lists_only_passing_topics(capsys, tmp_path, demo):
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"id": "a", "title": "Austin and Dong Jun talk",
                    "text": "US Defense Secretary Lloyd Austin held a video call with Chinese Defense Minister "
                            "Dong Jun on Tuesday to reopen military-to-military communication."}) + "\n"
        + json.dumps({"id": "b", "text": "Grain exports rose in November."}) + "\n"
        + "not json\n"
    )
    code, out, err = run(capsys, "classify", str(items), "--config", str(demo / "config.toml"))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    (tag,) = lines[0]["tags"]
    assert tag["topic"] == "us-china-milcomm" and tag["level"] == "strong" and tag["score"] >= 0.75
    assert "Dong Jun" in tag["evidence"][0]["sentence"]
    assert lines[1]["tags"] == []
    assert "line 3" in err


def test_explain_a_stored_item_by_url(capsys, demo):
    _, stories = load_stories()
    story = next(s for s in stories if s.slug == "trade-negotiators-geneva")
    config = str(demo / "config.toml")
    code, out, _ = run(capsys, "search", "Geneva", "--json", "--config", config)
    url = json.loads(out)[0]["url"]
    assert story.slug in url
    code, out, _ = run(capsys, "explain", url, "--json", "--config", config)
    assert code == 0
    (topic,) = json.loads(out)["topics"]
    assert topic["topic"] == "us-china-milcomm"
    assert topic["decision"] not in ("strong", "mention")
    # the explanation shows why: both countries and contact, but a civilian track and no military
    assert any("civilian_track" in s["matches"] and "contact" in s["matches"] for s in topic["sentences"])
    assert not any("military" in s["matches"] for s in topic["sentences"])
    code, text, _ = run(capsys, "explain", url, "--config", config)
    assert code == 0 and text.startswith("us-china-milcomm: NOT TAGGED") and "civilian_track: Trade" in text
    # and where its publication date came from (issue 18)
    assert "published 2024-02-12 14:20 UTC (date from the feed)" in text


def test_extract_a_file_with_and_without_source_rules(capsys, demo, demo_site):
    page = demo / "page.html"
    page.write_bytes(demo_site.pages["/pdr/news/mmca-talks-hawaii.html"][1])
    config = str(demo / "config.toml")
    code, out, _ = run(capsys, "extract", str(page), "--source", "Pacific Defense Review", "--config", config)
    article = json.loads(out)
    assert code == 0
    assert article["title"].startswith("US and Chinese navies hold")
    assert "READ ALSO" not in article["text"] and "Photo from Google" not in article["text"]
    assert article["authors"] == ["PDR Staff"]
    code, _, err = run(capsys, "extract", str(page), "--source", "Nobody", "--config", config)
    assert code == 2 and "no source named" in err


def test_retag_after_a_rule_change_updates_stored_tags(capsys, demo):
    config = demo / "config.toml"
    topic = demo / "strict.toml"
    from pipeline.config import bundled_topic

    # the same topic with a strong threshold no item reaches: every tag becomes at most a mention
    topic.write_text(bundled_topic("us-china-milcomm").read_text().replace("strong = 0.75", "strong = 1.0"))
    config.write_text(config.read_text().replace('files = ["us-china-milcomm"]', f'files = ["{topic}"]'))
    code, out, _ = run(capsys, "retag", "--config", str(config))
    assert code == 0 and out.startswith("re-tagged 15 items")
    from pipeline.store import Store

    with Store(demo / "newswatch.db") as store:
        levels = {r["level"] for r in store.db.query("SELECT level FROM tags")}
    assert levels == {"mention"}


def test_search_finds_stored_text(capsys, demo):
    code, out, _ = run(capsys, "search", "Maritime Consultative", "--config", str(demo / "config.toml"))
    assert code == 0 and "Military Maritime Consultative Agreement talks in Hawaii" in out
    code, out, _ = run(capsys, "search", "zebra crossing", "--config", str(demo / "config.toml"))
    assert "no matches" in out


def test_sources_list_and_opml_round_trip(capsys, demo, tmp_path):
    config = str(demo / "config.toml")
    code, out, _ = run(capsys, "sources", "list", "--config", config)
    assert code == 0 and "Harbor Wire" in out and "/harbor/feed.xml" in out
    code, opml, _ = run(capsys, "sources", "export-opml", "--config", config)
    assert code == 0 and opml.count("xmlUrl=") == 4
    fresh = tmp_path / "fresh"
    (fresh / "sources").mkdir(parents=True)
    (fresh / "config.toml").write_text('[sources]\ndir = "sources"\n')
    (tmp_path / "export.opml").write_text(opml)
    code, out, _ = run(capsys, "sources", "import-opml", str(tmp_path / "export.opml"),
                       "--config", str(fresh / "config.toml"))
    # the demo's three outlets share one host, and an outlet is a host: one source with three feeds
    assert code == 0 and out.count("wrote ") == 1
    code, out, _ = run(capsys, "sources", "list", "--config", str(fresh / "config.toml"))
    assert all(f"/{slug}/feed.xml" in out for slug in ("dnipro", "pdr", "harbor"))


def test_sources_add_discovers_the_feed_from_a_homepage(capsys, demo, demo_site, tmp_path):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "config.toml").write_text('[sources]\ndir = "sources"\n[network]\nallow_private_addresses = true\n'
                                       "min_host_delay = 0.0\n")
    (fresh / "sources").mkdir()
    page = "/pdr/news/navy-christens-destroyer.html"
    code, _, err = run(capsys, "sources", "add", demo_site.base + page, "--name", "PDR",
                       "--config", str(fresh / "config.toml"))
    assert code == 1  # an article page is no outlet's homepage: it names the feed it found instead
    assert f"the outlet's feed is {demo_site.base}/pdr/feed.xml" in err
    code, _, _ = run(capsys, "sources", "add", f"{demo_site.base}/pdr/feed.xml", "--name", "PDR",
                     "--config", str(fresh / "config.toml"))
    assert code == 0
    written = next((fresh / "sources").glob("*.toml")).read_text()
    assert f'url = "{demo_site.base}/pdr/feed.xml"' in written and 'name = "PDR"' in written


def test_digest_command_writes_the_day_and_status_reports_it(capsys, demo):
    config = str(demo / "config.toml")
    code, out, _ = run(capsys, "digest", "--date", "2020-01-01", "--config", config)
    assert code == 0 and "2020-01-01" in out
    code, out, _ = run(capsys, "status", "--config", config)
    assert code == 0
    assert "feeds: 4 (4 ok)" in out and "queue depth 0" in out


def test_vacuum_and_reprocess(capsys, demo):
    from pipeline.store import Store

    config = str(demo / "config.toml")
    with Store(demo / "newswatch.db") as store:
        store.db.execute("UPDATE articles SET text = 'stale', title = 'stale'")
        store.db.execute("DELETE FROM tags")
        store.db.conn.commit()
    code, out, _ = run(capsys, "reprocess", "--config", config)
    assert code == 0 and out.startswith("re-extracted and re-tagged 15 items")
    _, stories = load_stories()
    with Store(demo / "newswatch.db") as store:
        texts = {r["title"]: r["text"] for r in store.db.query("SELECT title, text FROM articles")}
        tagged = store.counts()["tagged"]
    # the stored pages, the sources' rules and the topics give back every article and tag
    assert texts == {s.title: s.clean_text() for s in stories}
    assert tagged == sum(s.topic is not False for s in stories)
    code, out, _ = run(capsys, "vacuum", "--config", config)
    assert code == 0 and out.startswith("dropped 0 stored pages older than 30 days")
