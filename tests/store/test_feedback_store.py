"""The reader's feedback in the store (schema v3): added to existing databases, kept apart from tags."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from store_helpers import old_database

from pipeline.models import Article, Evidence, FeedItem, Tag
from pipeline.store import SCHEMA_VERSION, Store

TOPIC = "us-china-milcomm"


def item(n: int) -> FeedItem:
    url = f"https://wire.example/{n}"
    return FeedItem(url=url, canonical_url=url, guid=None, title=f"Story {n}", summary="", published=None)


def tag(score: float = 0.9) -> Tag:
    return Tag(topic=TOPIC, score=score, level="strong",
               evidence=(Evidence(sentence="The hotline was restored.", terms=("hotline",)),))


def test_a_version_2_database_gains_the_feedback_table_and_keeps_its_rows(tmp_path):
    path = old_database(tmp_path / "old.db", 2, {"sources": [
        {"name": "Wire", "homepage": "https://wire.example/", "language": "en", "path": "", "active": 1}]})
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db["feedback"].exists()
        assert store.source_names() == ["Wire"]
        assert store.feedback() == []


def test_feedback_keeps_the_tag_it_judged_and_survives_new_tags(tmp_path):
    with Store(tmp_path / "db.sqlite") as store:
        store.sync_sources([])
        now = datetime(2026, 3, 1, 12, tzinfo=UTC)
        store.bulk_insert_items([(item(1), Article(title="Story 1", text="The hotline was restored."), [tag()], now),
                                 (item(2), Article(title="Story 2", text="Nothing here."), [], now)], 1, "Wire")
        store.set_feedback(1, TOPIC, verdict="not_relevant")
        store.set_feedback(1, TOPIC, starred=True)  # a star leaves the verdict as it was
        store.set_feedback(2, TOPIC, verdict="relevant")
        store.replace_tags(1, [tag(0.5)])
        rows = {r["entry_id"]: r for r in store.feedback()}
        assert (rows[1]["verdict"], rows[1]["starred"], rows[1]["judged_score"], rows[1]["score"]) == (
            "not_relevant", 1, 0.9, 0.5)
        assert (rows[2]["verdict"], rows[2]["judged_level"], rows[2]["level"]) == ("relevant", None, None)
        # Not relevant: out of the digest's selection; the miss (issue 20) is in it, as a strong tag.
        day = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
        assert [(i.entry_id, i.level) for i in store.tagged_items(TOPIC, *day)] == [(2, "strong")]
        store.set_feedback(1, TOPIC, verdict=None)
        assert [i.entry_id for i in store.tagged_items(TOPIC, *day)] == [2, 1]
        with pytest.raises(ValueError):
            store.set_feedback(1, TOPIC, verdict="maybe")


def test_search_items_filters_and_orders(tmp_path, monkeypatch):
    with Store(tmp_path / "db.sqlite") as store:
        store.sync_sources([])
        early, late = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
        store.bulk_insert_items([
            (item(1), Article(title="Hotline hotline", text="The hotline hotline hotline."), [tag()], early),
            (item(2), Article(title="Other", text="A hotline, once."), [], late),
        ], 1, "Wire")
        assert [r["id"] for r in store.search_items("hotline")] == [1, 2]  # best match first
        assert [r["id"] for r in store.search_items("hotline", order="newest")] == [2, 1]
        assert [r["id"] for r in store.search_items("hotline", topic=TOPIC, level="strong")] == [1]
        assert [r["id"] for r in store.search_items("hotline", start=late)] == [2]
        assert [r["id"] for r in store.search_items("hotline", source="Elsewhere")] == []
        assert [r["id"] for r in store.search_items("", order="newest")] == [2, 1]
        assert "\x02hotline\x03" in store.search_items("hotline", order="newest")[0]["snippet"].casefold()
        # Best match ranks only the newest matches of a common word: here a window of one.
        monkeypatch.setattr("pipeline.store.sqlite.RELEVANCE_WINDOW", 1)
        assert [r["id"] for r in store.search_items("hotline")] == [2]
        assert [r["id"] for r in store.search_items("hotline", topic=TOPIC)] == [1]  # the window is after filters
        assert store.tagged_days(TOPIC) == [("2026-03-01", 1)]
        assert store.tagged_days(TOPIC, utc_offset_minutes=-60) == [("2026-02-28", 1)]
