"""Building a day's digest from a real store: windows, clustering, ranking, the cap, evidence, the footer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from digest_helpers import (
    DRILLS,
    HOTLINE,
    HOTLINE_ANALYSIS,
    HOTLINE_BOILERPLATE,
    HOTLINE_EDITED,
    PORT,
    TOPIC,
    Newsroom,
    utc,
    write_config,
)

from pipeline.config import DigestSection
from pipeline.digest.build import build_digest, highlight, split_sentences
from pipeline.digest.days import due_at, due_days, weekly_due, window
from pipeline.store import Store

DAY = date(2024, 3, 12)  # Kyiv is on EET (UTC+2) that day


@pytest.fixture
def room(tmp_path):
    store = Store(tmp_path / "x.db")
    newsroom = Newsroom(store)
    newsroom.sources("wiredaily", "harbourtimes", "coastpost", "citydesk", "busywire")
    yield newsroom
    store.close()


def build(room, config, day=DAY):
    return build_digest(room.store, config, TOPIC, day, now=utc(2024, 3, 13, 6))


def test_syndicated_copies_are_one_entry_listing_every_outlet(room, tmp_path):
    room.add("wiredaily", "hotline", "US and China restore military hotline", HOTLINE, seen=utc(2024, 3, 12, 7))
    room.add("harbourtimes", "w/hotline", "Military hotline back on", HOTLINE_BOILERPLATE, seen=utc(2024, 3, 12, 8))
    room.add("coastpost", "analysis", "A hotline is only as good as who answers", HOTLINE_ANALYSIS,
             seen=utc(2024, 3, 12, 9), score=0.8)
    digest = build(room, write_config(tmp_path))
    assert [e.sources for e in digest.stories] == [("wiredaily", "harbourtimes"), ("coastpost",)]
    first = digest.stories[0]
    assert first.headline == "US and China restore military hotline"
    assert [o.url for o in first.outlets] == ["https://wiredaily.example/hotline",
                                              "https://harbourtimes.example/w/hotline"]
    assert digest.items == 3 and digest.outlets == 3


def test_entry_has_lead_and_highlighted_evidence_in_local_time(room, tmp_path):
    room.add("wiredaily", "hotline", "Hotline restored", HOTLINE, seen=utc(2024, 3, 12, 7),
             evidence="Analysts said the arrangement was modest but could reduce the risk.",
             terms=("risk", "arrangement"), published=utc(2024, 3, 12, 6, 45))
    entry = build(room, write_config(tmp_path)).stories[0]
    assert 2 <= len(entry.sentences) <= 3
    assert entry.sentences[0].plain.startswith("Defence officials") and not entry.sentences[0].evidence
    evidence = entry.sentences[-1]
    assert evidence.evidence
    assert [s.text for s in evidence.spans if s.highlight] == ["arrangement", "risk"]
    assert entry.published == datetime(2024, 3, 12, 8, 45, tzinfo=ZoneInfo("Europe/Kyiv"))
    assert entry.published.utcoffset() == timedelta(hours=2)


def test_evidence_that_is_the_lead_is_not_repeated_and_text_order_is_kept(room, tmp_path):
    lead, second = split_sentences(HOTLINE)[:2]
    # Taggers read headline and text together, so the evidence can arrive glued to the headline.
    room.add("wiredaily", "hotline", "Hotline restored", HOTLINE, seen=utc(2024, 3, 12, 7),
             evidence=f"Hotline restored {lead}")
    sentences = build(room, write_config(tmp_path)).stories[0].sentences
    assert [(s.plain, s.evidence) for s in sentences] == [(lead, True), (second, False)]


def test_evidence_that_is_only_the_headline_gives_way_to_the_text(room, tmp_path):
    room.add("wiredaily", "hotline", "Hotline restored", HOTLINE, seen=utc(2024, 3, 12, 7), evidence="Hotline restored")
    sentences = build(room, write_config(tmp_path)).stories[0].sentences
    assert [s.plain for s in sentences] == split_sentences(HOTLINE)[:2]


def test_sentences_do_not_end_at_titles_and_initials():
    text = "Maj. Gen. Li Wei met Adm. John F. Smith on Monday. They spoke for an hour."
    assert split_sentences(text) == ["Maj. Gen. Li Wei met Adm. John F. Smith on Monday.", "They spoke for an hour."]


def test_strong_first_then_by_score_with_a_bonus_for_more_outlets(room, tmp_path):
    room.add("coastpost", "solo", "Analysis", HOTLINE_ANALYSIS, seen=utc(2024, 3, 12, 7), score=0.88)
    room.add("wiredaily", "hotline", "Wire", HOTLINE, seen=utc(2024, 3, 12, 8), score=0.85)
    room.add("harbourtimes", "hotline", "Copy", HOTLINE_BOILERPLATE, seen=utc(2024, 3, 12, 9), score=0.6)
    room.add("citydesk", "drills", "Drills", DRILLS, seen=utc(2024, 3, 12, 10), level="mention", score=0.99,
             terms=("navy",))
    digest = build(room, write_config(tmp_path))
    assert [e.headline for e in digest.stories] == ["Wire", "Analysis"]  # 0.85 + two outlets beats 0.88
    assert [e.headline for e in digest.mentions] == ["Drills"]  # a mention never outranks a strong tag


def test_a_story_four_outlets_tell_in_strong_sentences_outranks_a_single_strong_sentence(room, tmp_path):
    """Issue 20: scores pile up near 1, so the outlets must be able to spread the order."""
    room.add("citydesk", "solo", "Analysis", HOTLINE_ANALYSIS, seen=utc(2024, 3, 12, 7), score=0.99)
    for hour, outlet in enumerate(("wiredaily", "harbourtimes", "coastpost", "busywire")):
        text = HOTLINE_BOILERPLATE if outlet == "harbourtimes" else HOTLINE_EDITED if outlet == "coastpost" else HOTLINE
        room.add(outlet, "hotline", f"Hotline ({outlet})", text, seen=utc(2024, 3, 12, 8 + hour), score=0.8)
    stories = build(room, write_config(tmp_path)).stories
    assert len(stories[0].sources) == 4 and stories[1].headline == "Analysis"
    assert stories[0].rank > stories[1].rank


def test_a_day_is_local_midnight_to_midnight(room, tmp_path):
    room.add("wiredaily", "late", "Late", HOTLINE, seen=utc(2024, 3, 12, 21, 59))  # 23:59 in Kyiv
    room.add("coastpost", "next", "Next day", HOTLINE_ANALYSIS, seen=utc(2024, 3, 12, 22, 0))  # 00:00 next day
    room.add("citydesk", "early", "Early", DRILLS, seen=utc(2024, 3, 11, 22, 0), terms=("navy",))  # 00:00 local
    config = write_config(tmp_path)
    assert [e.headline for e in build(room, config).stories] == ["Early", "Late"]
    assert [e.headline for e in build(room, config, DAY + timedelta(days=1)).stories] == ["Next day"]


def test_per_source_cap_keeps_the_best_and_spares_shared_stories(room, tmp_path):
    texts = [DRILLS, PORT, HOTLINE_ANALYSIS]
    for n, text in enumerate(texts):
        room.add("busywire", f"s{n}", f"Busy {n}", text, seen=utc(2024, 3, 12, 7 + n), score=0.9 - n / 10,
                 terms=("the",))
    room.add("busywire", "hotline", "Busy hotline", HOTLINE, seen=utc(2024, 3, 12, 11), score=0.5)
    room.add("wiredaily", "hotline", "Wire hotline", HOTLINE_BOILERPLATE, seen=utc(2024, 3, 12, 12), score=0.5)
    digest = build(room, write_config(tmp_path, digest={"per_source_cap": 2}))
    assert [e.headline for e in digest.stories] == ["Busy 0", "Busy 1", "Busy hotline"]
    assert digest.capped == 1


def test_footer_lists_sources_failing_during_the_day(room, tmp_path):
    room.store.update_feed(room.feeds["coastpost"], health="failing", last_attempt_at=utc(2024, 3, 12, 5),
                           last_error="timeout: no answer in 30 s", failures=3)
    digest = build(room, write_config(tmp_path))
    assert [(f.source, f.health, f.error) for f in digest.failing] == [
        ("coastpost", "failing", "timeout: no answer in 30 s")]
    assert digest.empty


def test_highlight_is_case_insensitive_and_merges_overlaps():
    spans = highlight("The Hotline and the hotline link", ["hotline", "hotline link"])
    assert [(s.text, s.highlight) for s in spans] == [
        ("The ", False), ("Hotline", True), (" and the ", False), ("hotline link", True)]


# -- the calendar, across DST --------------------------------------------------------------------

def settings(**values) -> DigestSection:
    return DigestSection(**values)


def test_due_time_stays_at_local_wall_clock_across_spring_forward():
    ny = settings(time="07:00", timezone="America/New_York")  # DST began 2024-03-10 02:00
    assert due_at(date(2024, 3, 8), ny).astimezone(UTC) == utc(2024, 3, 9, 12)  # 07:00 EST
    assert due_at(date(2024, 3, 9), ny).astimezone(UTC) == utc(2024, 3, 10, 11)  # 07:00 EDT
    assert due_at(date(2024, 3, 10), ny).astimezone(UTC) == utc(2024, 3, 11, 11)
    assert due_days(utc(2024, 3, 10, 10, 59), ny) == [date(2024, 3, 7), date(2024, 3, 8)]
    assert due_days(utc(2024, 3, 10, 11, 0), ny) == [date(2024, 3, 8), date(2024, 3, 9)]


def test_due_time_stays_at_local_wall_clock_across_fall_back():
    kyiv = settings(time="07:00", timezone="Europe/Kyiv")  # DST ended 2024-10-27 04:00 local
    assert due_at(date(2024, 10, 25), kyiv).astimezone(UTC) == utc(2024, 10, 26, 4)  # 07:00 EEST
    assert due_at(date(2024, 10, 26), kyiv).astimezone(UTC) == utc(2024, 10, 27, 5)  # 07:00 EET


def test_digest_time_inside_the_dst_gap_fires_just_after_it():
    ny = settings(time="02:30", timezone="America/New_York")  # 02:30 did not exist on 2024-03-10
    assert due_at(date(2024, 3, 9), ny).astimezone(UTC) == utc(2024, 3, 10, 7, 30)  # = 03:30 EDT


def test_dst_days_are_23_and_25_hours_long():
    ny = ZoneInfo("America/New_York")
    start, end = window(date(2024, 3, 10), 1, ny)
    assert end - start == timedelta(hours=23) and start == utc(2024, 3, 10, 5)
    start, end = window(date(2024, 11, 3), 1, ny)
    assert end - start == timedelta(hours=25)


def test_weekly_digest_covers_the_seven_days_before_the_weekly_day():
    weekly = settings(time="07:00", timezone="Europe/Kyiv", weekly=True, weekly_day="mon")
    assert weekly_due(utc(2024, 3, 18, 4, 59), weekly) == date(2024, 3, 4)  # Monday 06:59 local: last week's
    assert weekly_due(utc(2024, 3, 18, 5, 0), weekly) == date(2024, 3, 11)  # Monday 07:00: Mon 11 - Sun 17
    assert weekly_due(utc(2024, 3, 20, 12), weekly) == date(2024, 3, 11)
