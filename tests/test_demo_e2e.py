"""The demo flow end to end: local outlets -> poll -> extract -> tag -> SQLite -> digest files."""

import json

import pytest

from pipeline.cli import main
from pipeline.demo.site import load_stories
from pipeline.store import Store

SEED_TITLES = (
    "The Ministry of Defense of China is ready to cooperate with the USA",
    "Pentagon Summit: US and Chinese Officials Convene for Talks on Bilateral Relations",
)
BOILERPLATE = ("< Back", "Recent news", "Connect with us", "Hi, what are you looking for?", "Photo from Google",
               "READ ALSO", "Click to comment", "Leave a Reply", "Author -", "Required fields")


@pytest.fixture
def demo(demo_output):
    return demo_output


def stored(demo) -> dict[str, dict]:
    with Store(demo / "newswatch.db") as store:
        rows = store.db.query(
            "SELECT e.url, a.title, a.text, t.level, t.score FROM entries e JOIN articles a ON a.entry_id = e.id "
            "LEFT JOIN tags t ON t.entry_id = e.id")
        return {row["url"].split("?")[0].split("/news/")[1].removesuffix(".html") + "@" + row["url"].split("/")[3]:
                row for row in rows}


def test_every_story_is_stored_with_clean_text(demo):
    _, stories = load_stories()
    rows = stored(demo)
    assert len(rows) == len(stories)
    for story in stories:
        row = rows[f"{story.slug}@{story.outlet}"]
        assert row["title"] == story.title
        assert row["text"] == story.clean_text(), story.slug
        assert not any(b in row["text"] for b in BOILERPLATE)


def test_tags_match_what_each_story_is_about(demo):
    _, stories = load_stories()
    rows = stored(demo)
    for story in stories:
        row = rows[f"{story.slug}@{story.outlet}"]
        expected = {True: "strong", False: None, "mention": "mention"}[story.topic]
        assert row["level"] == expected, (story.slug, row["level"], row["score"])


def test_digest_has_both_seed_stories_and_no_off_topic_item(demo):
    folders = [p for p in (demo / "digest" / "us-china-milcomm").iterdir() if p.is_dir()]
    assert len(folders) == 1
    assert (demo / "digest" / "us-china-milcomm" / "feed.xml").stat().st_size > 0  # the rolling feed
    folder = folders[0]
    for name in ("digest.md", "digest.html", "digest.txt", "digest.json", "feed.xml"):
        assert (folder / name).stat().st_size > 0, name
    markdown = (folder / "digest.md").read_text()
    for title in SEED_TITLES:
        assert title in markdown
    _, stories = load_stories()
    for story in stories:
        if story.topic is False:
            assert story.title not in markdown


def test_syndicated_story_is_one_entry_with_two_outlets(demo):
    folder = next(p for p in (demo / "digest" / "us-china-milcomm").iterdir() if p.is_dir())
    digest = json.loads((folder / "digest.json").read_text())
    entries = [e for e in digest["entries"]
               if any("theater-commander" in o["url"] for o in e["outlets"])]
    assert len(entries) == 1
    assert sorted(o["source"] for o in entries[0]["outlets"]) == ["Dnipro Daily", "Harbor Wire"]


def test_status_shows_the_demo_feeds_healthy(demo, capsys):
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(demo / "config.toml")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["feeds_by_health"] == {"ok": 4}
    assert report["queue_depth"] == 0
