"""Issue 19, items 5 and 6: `digest --send` for today is a normal send, not a "[resent]"; `--resend`
is for days already sent; with `[web] base_url`, every digest entry links to its reading-room page
in the email and in every file format, beside its outlets."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from digest_helpers import (
    DRILLS,
    HOTLINE,
    HOTLINE_BOILERPLATE,
    Inbox,
    Newsroom,
    email_settings,
    free_port,
    parts,
    smtp_server,
    utc,
    write_config,
)

from pipeline.config import load_config
from pipeline.digest import deliver_due, make_digest
from pipeline.store import Store

DAY = date(2024, 3, 12)
NOON = utc(2024, 3, 12, 10)  # 12:00 in Kyiv, the day not over
DUE = utc(2024, 3, 13, 5)  # 07:00 in Kyiv the next morning
ROOM = "https://room.example/"


@pytest.fixture
def smtp():
    port, inbox = free_port(), Inbox()
    controller = smtp_server(port, inbox)
    yield port, inbox
    controller.stop()


@pytest.fixture
def setup(tmp_path, smtp):
    port, inbox = smtp
    path = write_config(tmp_path, email=email_settings(port)).file
    path.write_text(path.read_text(encoding="utf-8") + f'\n[web]\nbase_url = "{ROOM}"\n', encoding="utf-8")
    config = load_config(path)
    with Store(config.db_path) as store:
        room = Newsroom(store)
        room.sources("wire", "harbour", "daily")
        ids = [room.add("wire", "hotline", "Hotline restored", HOTLINE, seen=utc(2024, 3, 12, 7)),
               room.add("harbour", "hotline", "Hotline back", HOTLINE_BOILERPLATE, seen=utc(2024, 3, 12, 8)),
               room.add("daily", "drills", "Drills announced", DRILLS, seen=utc(2024, 3, 12, 9), level="mention",
                        score=0.4, terms=("navy",))]
        yield config, store, inbox, ids


def test_send_today_is_a_normal_send_and_the_full_day_still_follows(setup):
    config, store, inbox, _ = setup
    outcomes = make_digest(store, config, DAY, send=True, now=NOON)
    (email,) = [o for o in outcomes if o.channel == "email"]
    assert email.status == "sent", email
    (_, message), = inbox.messages
    assert not message["Subject"].startswith("[resent]") and "so far, at 12:00" in message["Subject"]
    assert "X-Newswatch-Resend" not in message
    again = [o for o in make_digest(store, config, DAY, send=True, now=NOON) if o.channel == "email"]
    assert again[0].status == "skipped" and "--resend" in again[0].detail
    # The scheduled digest of the whole day still goes out at its time, as itself.
    due = [o for o in deliver_due(store, config, DUE) if o.channel == "email"]
    assert [o.status for o in due] == ["sent"]
    assert len(inbox.messages) == 2 and "so far" not in inbox.messages[1][1]["Subject"]
    assert not inbox.messages[1][1]["Subject"].startswith("[resent]")


def test_resend_is_only_for_a_day_already_sent(setup):
    config, store, inbox, _ = setup
    (never,) = [o for o in make_digest(store, config, DAY, resend=True, now=DUE) if o.channel == "email"]
    assert never.status == "skipped" and "never sent" in never.detail and "--send" in never.detail
    assert inbox.messages == []
    deliver_due(store, config, DUE)
    (resent,) = [o for o in make_digest(store, config, DAY, resend=True, now=DUE + timedelta(hours=1))
                 if o.channel == "email"]
    assert resent.status == "sent"
    assert inbox.messages[-1][1]["Subject"].startswith("[resent]")


def test_every_entry_links_to_its_reading_room_page_in_the_email_and_the_files(setup):
    config, store, inbox, (hotline, _, drills) = setup
    deliver_due(store, config, DUE)
    story, mention = f"{ROOM}items/{hotline}", f"{ROOM}items/{drills}"
    (_, message), = inbox.messages
    bodies = parts(message)
    for body in (bodies["text/plain"], bodies["text/html"]):
        assert story in body and mention in body
        assert "https://wire.example/hotline" in body and "https://harbour.example/hotline" in body
    folder = config.digest_dir / "us-china-milcomm" / DAY.isoformat()
    for name in ("digest.md", "digest.html", "digest.txt"):
        text = (folder / name).read_text(encoding="utf-8")
        assert text.count(story) == 1 and mention in text, name  # once per story, its two outlets beside it
    atom = (folder / "feed.xml").read_text(encoding="utf-8")
    assert f'href="{story}" title="why tagged"' in atom and mention in atom
    data = json.loads((folder / "digest.json").read_text(encoding="utf-8"))
    assert [e["room"] for e in data["entries"]] == [story, mention]
