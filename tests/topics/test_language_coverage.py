"""Language coverage is visible: items in a language a topic has no words for are counted by
`status` and the reading room's /sources page, and `explain` says so for the item."""

from __future__ import annotations

from pathlib import Path

from config_helpers import write_config

from pipeline.config import bundled_topic
from pipeline.models import Article
from pipeline.service import collect_status, format_status
from pipeline.store import SqliteStore
from pipeline.topics import Tagger, format_explanation, languages_without_rules, load_topics, primary_language

TOPIC = bundled_topic("us-china-milcomm")


def test_primary_language_and_counts_per_topic() -> None:
    (topic,) = load_topics([TOPIC])
    assert primary_language("ko-KR") == "ko" and primary_language("zh_Hant") == "zh" and primary_language("") is None
    counts = languages_without_rules({"ko": 3, "ko-KR": 1, "sw": 2, "sw-KE": 1, "nl": 4, "": 9}, [topic])
    assert counts == {"us-china-milcomm": {"nl": 4, "sw": 3}}


def test_explain_says_when_the_topic_has_no_rules_for_the_language() -> None:
    tagger = Tagger(load_topics([TOPIC]))
    swahili = tagger.explain("Mawaziri wa ulinzi wazungumza", "Waziri wa ulinzi wa Marekani amezungumza.", "sw")
    (topic,) = swahili["topics"]
    assert topic["language_has_rules"] is False
    assert "NO RULES for language 'sw'" in format_explanation(swahili)
    korean = tagger.explain("미중 국방장관 통화", "오스틴 장관은 둥쥔 부장과 통화했다.", "ko-KR")
    assert korean["topics"][0]["language_has_rules"] is True
    assert "NO RULES" not in format_explanation(korean)


def test_status_counts_items_per_language_without_rules(tmp_path: Path) -> None:
    write_config(tmp_path)
    with SqliteStore(tmp_path / "s.db") as store:
        from pipeline.models import FeedConfig, FeedItem, Source

        store.sync_sources([Source("A", "https://a.example/", "sw", (FeedConfig("https://a.example/rss"),))])
        feed = store.feeds()[0]["id"]
        store.add_items(feed, "A", [FeedItem(url=f"https://a.example/{n}", canonical_url=f"https://a.example/{n}",
                                             guid=None, title="t", summary="s", published=None) for n in range(3)])
        for entry, language in zip(store.pending_entries(10), ["sw", "sw", "ko"], strict=True):
            store.complete_entry(entry.id, Article(title="t", text="x", language=language), [])
        status = collect_status(store, topic_objects=load_topics([TOPIC]))
    assert status["languages_without_rules"] == {"us-china-milcomm": {"sw": 2}}
    assert "no rules in topic us-china-milcomm for: sw (2 items)" in format_status(status)
