"""Issue 18: a digest holds what was published on its day, once; a late report goes into the next
digest under "Reported earlier"; backlog goes into none. The digest's zone is Europe/Kyiv (EET, UTC+2;
EEST, UTC+3 from 31 March 2024 03:00), digests at 07:00."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from digest_helpers import DRILLS, HOTLINE, HOTLINE_ANALYSIS, PORT, TOPIC, Newsroom, utc, write_config

from pipeline.digest.build import build_digest, build_published, digest_items
from pipeline.digest.days import digest_day, parse_day
from pipeline.digest.deliver import deliver_due, make_digest
from pipeline.digest.render import render
from pipeline.store import Store


@pytest.fixture
def room(tmp_path):
    store = Store(tmp_path / "x.db")
    newsroom = Newsroom(store)
    newsroom.sources("wiredaily", "harbourtimes", "coastpost", "citydesk")
    yield newsroom
    store.close()


def ids(digest) -> dict[str, list[str]]:
    return {"stories": [e.headline for e in digest.stories], "mentions": [e.headline for e in digest.mentions],
            "earlier": [e.headline for e in digest.earlier]}


def test_an_item_at_2330_in_the_digest_zone_belongs_to_that_day(room, tmp_path):
    config = write_config(tmp_path)
    # 23:30 in Kyiv on 12 March is 21:30 UTC: already 13 March in UTC+3 zones, still 12 March in UTC.
    room.add("wiredaily", "late-evening", "Hotline call at night", HOTLINE, seen=utc(2024, 3, 12, 21, 35),
             published=utc(2024, 3, 12, 21, 30))
    assert ids(build_digest(room.store, config, TOPIC, date(2024, 3, 12)))["stories"] == ["Hotline call at night"]
    assert build_digest(room.store, config, TOPIC, date(2024, 3, 13)).empty
    # The same item published a minute after midnight in Kyiv is the next day's.
    room.add("coastpost", "after-midnight", "Drills after midnight", DRILLS, seen=utc(2024, 3, 12, 22, 5),
             published=utc(2024, 3, 12, 22, 1), terms=("navy",))
    assert "Drills after midnight" not in str(ids(build_digest(room.store, config, TOPIC, date(2024, 3, 12))))
    assert ids(build_digest(room.store, config, TOPIC, date(2024, 3, 13)))["stories"] == ["Drills after midnight"]


def test_a_late_report_goes_once_into_the_next_digest_under_reported_earlier(room, tmp_path):
    """The acceptance case: published yesterday 23:50 in the digest's zone, first fetched after
    yesterday's digest was sent: once, in today's digest, under "Reported earlier", with its date."""
    config = write_config(tmp_path)
    yesterday, today = date(2024, 3, 12), date(2024, 3, 13)
    room.add("wiredaily", "on-time", "US and China restore military hotline", HOTLINE, seen=utc(2024, 3, 12, 8))
    sent = deliver_due(room.store, config, utc(2024, 3, 13, 5, 0))  # 07:00 Kyiv: yesterday's digest
    assert {o.day for o in sent} == {yesterday} and all(o.status == "sent" for o in sent)
    # Published 23:50 Kyiv on the 12th; its feed was read only at 08:10 Kyiv on the 13th.
    room.add("harbourtimes", "night", "Theatre commanders to talk", HOTLINE_ANALYSIS,
             seen=utc(2024, 3, 13, 6, 10), published=utc(2024, 3, 12, 21, 50))
    room.add("coastpost", "today", "Harbour budget and navy drills", DRILLS, seen=utc(2024, 3, 13, 9),
             terms=("navy",))
    before = (tmp_path / "digests" / TOPIC / "2024-03-12" / "digest.md").read_text()
    assert "Theatre commanders" not in before
    sent = deliver_due(room.store, config, utc(2024, 3, 14, 5, 0))
    assert {o.day for o in sent} == {today}
    folder = tmp_path / "digests" / TOPIC
    md = (folder / "2024-03-13" / "digest.md").read_text()
    earlier = md.split("## Reported earlier", 1)[1]
    assert "Theatre commanders to talk" in earlier and "published 12 Mar 2024 23:50 EET" in earlier
    assert "first seen 13 Mar 2024 08:10 EET" in earlier
    assert "Harbour budget" in md.split("## Reported earlier", 1)[0]
    data = json.loads((folder / "2024-03-13" / "digest.json").read_text())
    late = [e for e in data["entries"] if e["reported_earlier"]]
    assert [e["headline"] for e in late] == ["Theatre commanders to talk"]
    # Rebuilding yesterday's digest (a resend) does not take it back: it is in exactly one.
    assert "Theatre commanders to talk" not in str(ids(build_digest(room.store, config, TOPIC, yesterday)))
    # ... and says where the item it does not hold went.
    again = build_digest(room.store, config, TOPIC, yesterday)
    assert again.published_elsewhere == 1 and build_digest(room.store, config, TOPIC, today).published_elsewhere == 0
    # The day page of the 12th shows it, since it was published then.
    assert "Theatre commanders to talk" in str(ids(build_published(room.store, config, TOPIC, yesterday)))


def test_a_dst_change_moves_the_digest_time_not_the_day(room, tmp_path):
    config = write_config(tmp_path)
    # Kyiv springs forward on 31 March 2024: the digest of the 31st is due 1 April 07:00 EEST = 04:00 UTC.
    room.add("wiredaily", "before", "Hotline call before the digest", HOTLINE, seen=utc(2024, 3, 31, 20, 30),
             published=utc(2024, 3, 31, 20, 30), processed=utc(2024, 4, 1, 3, 50))  # 06:50 EEST
    room.add("coastpost", "after", "Navy drills after the digest", DRILLS, seen=utc(2024, 3, 31, 20, 31),
             published=utc(2024, 3, 31, 20, 31), processed=utc(2024, 4, 1, 4, 30), terms=("navy",))  # 07:30 EEST
    # On EET (no DST) 04:30 UTC would still be before 07:00: only a correct zone puts it after.
    march31 = ids(build_digest(room.store, config, TOPIC, date(2024, 3, 31)))
    april1 = ids(build_digest(room.store, config, TOPIC, date(2024, 4, 1)))
    assert march31["stories"] == ["Hotline call before the digest"] and march31["mentions"] == []
    assert april1["earlier"] == ["Navy drills after the digest"] and not april1["stories"]


def test_the_page_date_wins_over_a_disagreeing_feed_date(room, tmp_path):
    config = write_config(tmp_path)
    # The feed says 10 March (it was regenerated then, say); the page says 12 March 09:00 Kyiv.
    entry = room.add("wiredaily", "disagree", "Hotline talks dated by the page", HOTLINE,
                     seen=utc(2024, 3, 12, 8), published=utc(2024, 3, 12, 7), feed_published=utc(2024, 3, 10, 7))
    row = room.store.find_entry(str(entry))
    assert (row["published_at"], row["published_from"]) == ("2024-03-12T07:00:00+00:00", "page")
    assert ids(build_digest(room.store, config, TOPIC, date(2024, 3, 12)))["stories"] == [
        "Hotline talks dated by the page"]
    for day in (date(2024, 3, 10), date(2024, 3, 11), date(2024, 3, 13)):
        assert build_digest(room.store, config, TOPIC, day).empty


def test_every_item_is_in_exactly_one_daily_digest_and_backlog_in_none(room, tmp_path):
    config = write_config(tmp_path)
    texts = [HOTLINE, HOTLINE_ANALYSIS, DRILLS, PORT + " The navy said so."]
    cases = []
    moments = [utc(2024, 3, 10, 21, 59), utc(2024, 3, 10, 22, 1), utc(2024, 3, 11, 4, 59), utc(2024, 3, 11, 5, 1),
               utc(2024, 3, 11, 12), utc(2024, 3, 12, 21, 30), utc(2024, 3, 13, 4, 0)]
    delays = [timedelta(0), timedelta(minutes=20), timedelta(hours=7), timedelta(hours=30)]
    n = 0
    for published in moments:
        for delay in delays:
            n += 1
            text = texts[n % len(texts)] + f" Item {n} of the test, reported by desk number {n * 7}."
            cases.append(room.add(["wiredaily", "harbourtimes", "coastpost", "citydesk"][n % 4], f"i{n}",
                                  f"Headline {n}", text, seen=published + delay / 2, published=published,
                                  processed=published + delay, terms=("navy",) if "navy" in text else ("hotline",)))
    # One more, first seen long after publication: backlog by the age rule.
    stale = room.add("citydesk", "stale", "Stale headline", HOTLINE, seen=utc(2024, 3, 12, 10),
                     published=utc(2024, 3, 1, 10))
    room.store.db["entries"].update(stale, {"backlog": "too old"})
    days = [date(2024, 3, 9) + timedelta(days=i) for i in range(8)]
    seen_in: dict[int, list[date]] = {}
    for day in days:
        for item in digest_items(room.store, config, TOPIC, day):
            seen_in.setdefault(item.entry_id, []).append(day)
            assert digest_day(item, config.digest) == day
    assert {entry: len(found) for entry, found in seen_in.items()} == dict.fromkeys(cases, 1)
    assert stale not in seen_in
    assert "Stale headline" in str(ids(build_published(room.store, config, TOPIC, date(2024, 3, 1))))


def test_manual_runs_honour_empty_day_and_never_say_today_for_a_past_day(room, tmp_path):
    config = write_config(tmp_path, digest={"empty_day": "skip"})
    outcomes = make_digest(room.store, config, date(2024, 3, 12), now=utc(2024, 3, 14, 9))
    assert [o.status for o in outcomes] == ["skipped"]
    assert not (tmp_path / "digests" / TOPIC / "2024-03-12").exists()
    config = write_config(tmp_path, digest={"empty_day": "send"})
    outcomes = make_digest(room.store, config, date(2024, 3, 12), now=utc(2024, 3, 14, 9))
    text = (tmp_path / "digests" / TOPIC / "2024-03-12" / "digest.txt").read_text()
    assert "today" not in text.casefold() and "12 March 2024" in text
    digest = build_digest(room.store, config, TOPIC, date(2024, 3, 12), now=utc(2024, 3, 14, 9))
    assert all("today" not in render(digest, fmt).casefold() for fmt in ("markdown", "html", "text"))


@pytest.mark.parametrize(("text", "expected"), [
    ("today", date(2026, 3, 1)), ("Yesterday", date(2026, 2, 28)), ("3 days ago", date(2026, 2, 26)),
    ("1 day ago", date(2026, 2, 28)), ("2024-02-29", date(2024, 2, 29)), (" 0 days ago ", date(2026, 3, 1)),
])
def test_dates_as_people_write_them(text, expected):
    assert parse_day(text, date(2026, 3, 1)) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2023-02-29", "tomorrow", "2024-1-4", "04/01/2024", "", "days ago"])
def test_anything_else_is_not_a_day(text):
    with pytest.raises(ValueError, match="not a day"):
        parse_day(text, date(2026, 3, 1))
