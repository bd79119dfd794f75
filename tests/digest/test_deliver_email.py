"""Email delivered exactly once, against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from digest_helpers import (
    DRILLS,
    HOTLINE,
    HOTLINE_BOILERPLATE,
    TOPIC,
    Inbox,
    Newsroom,
    email_settings,
    free_port,
    parts,
    smtp_server,
    utc,
    write_config,
)

from pipeline.digest import deliver, deliver_due, make_digest
from pipeline.store import Store, parse_iso

DAY = date(2024, 3, 12)
DUE = utc(2024, 3, 13, 5)  # 07:00 in Kyiv the next morning
MESSAGE_ID = "<newswatch.us-china-milcomm.2024-03-12.daily@newswatch.example>"


class Crash(BaseException):
    """The process dying: not an Exception, so nothing on the way up may catch it."""


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def inbox():
    return Inbox()


@pytest.fixture
def server(port, inbox):
    controller = smtp_server(port, inbox)
    yield controller
    controller.stop()


@pytest.fixture
def config(tmp_path, port):
    return write_config(tmp_path, email=email_settings(port))


@pytest.fixture
def db(tmp_path):
    """The database file, with a day of stories; tests open their own Store objects on it, as restarts do."""
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("wiredaily", "harbourtimes", "citydesk")
        room.add("wiredaily", "hotline", "US and China restore military hotline", HOTLINE, seen=utc(2024, 3, 12, 7))
        room.add("harbourtimes", "hotline", "Military hotline back on", HOTLINE_BOILERPLATE, seen=utc(2024, 3, 12, 8))
        room.add("citydesk", "drills", "Navy drills this weekend", DRILLS, seen=utc(2024, 3, 12, 9),
                 level="mention", score=0.4, terms=("navy",))
    return tmp_path / "x.db"


def run(db, config, now):
    """One deliver_due call by a freshly started service."""
    with Store(db) as store:
        return deliver_due(store, config, now)


def record(db, channel="email", kind="daily", day=DAY):
    with Store(db) as store:
        return store.digest_record(TOPIC, day.isoformat(), channel, kind)


def by_channel(outcomes):
    return {o.channel: o for o in outcomes}


def test_message_arrives_once_with_both_parts_and_the_entries(db, config, server, inbox):
    outcomes = by_channel(run(db, config, DUE + timedelta(minutes=1)))
    assert outcomes["email"].status == "sent" and outcomes["files"].status == "sent"
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["ana@example.org", "bo@example.org"]
    assert message["Message-ID"] == MESSAGE_ID
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == ("US–China military communication — digest for Tuesday 12 March 2024 "
                                  "(1 story, 1 mention)")
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    for text in body.values():
        assert "US and China restore military hotline" in text and "Navy drills this weekend" in text
        assert "harbourtimes" in text  # the syndicated copy is listed under the one story
    assert body["text/plain"].count("US and China restore military hotline") == 1
    rec = record(db)
    assert (rec["status"], rec["attempts"], rec["message_id"]) == ("sent", 1, MESSAGE_ID)
    assert rec["items"] == 2

    # Later checks and a restarted service find nothing to do.
    assert run(db, config, DUE + timedelta(minutes=6)) == []
    assert run(db, config, DUE + timedelta(hours=20)) == []
    assert len(inbox.messages) == 1


def test_server_down_then_back_is_retried_and_delivered_once(db, config, port, inbox):
    outcomes = by_channel(run(db, config, DUE))
    assert outcomes["email"].status == "failed" and "cannot connect" in outcomes["email"].detail
    assert outcomes["files"].status == "sent"  # one channel failing does not hold up the other
    rec = record(db)
    assert rec["status"] == "failed" and rec["attempts"] == 1 and "cannot connect" in rec["last_error"]
    retry_at = parse_iso(rec["next_attempt_at"])
    assert DUE + timedelta(seconds=60) <= retry_at <= DUE + timedelta(seconds=120)  # backoff with jitter

    assert run(db, config, retry_at - timedelta(seconds=1)) == []  # not before its time

    controller = smtp_server(port, inbox)
    try:
        # The service restarted meanwhile: a new Store on the same file.
        outcomes = run(db, config, retry_at)
        assert [(o.channel, o.status) for o in outcomes] == [("email", "sent")]
        assert run(db, config, retry_at + timedelta(minutes=5)) == []
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert inbox.messages[0][1]["Message-ID"] == MESSAGE_ID
    assert inbox.messages[0][1]["X-Newswatch-Resend"] is None
    rec = record(db)
    assert (rec["status"], rec["attempts"], rec["last_error"]) == ("sent", 2, None)


def test_repeated_failures_back_off_further_each_time(db, config):
    waits = []
    now = DUE
    for _ in range(4):
        run(db, config, now)
        rec = record(db)
        next_at = parse_iso(rec["next_attempt_at"])
        waits.append((next_at - now).total_seconds())
        now = next_at
    assert rec["attempts"] == 4 and rec["status"] == "failed"
    assert waits[0] <= 120 < waits[2] and waits[3] >= 480  # 60-120 s, then doubling


def test_crash_between_send_and_record_resends_once_with_the_same_message_id(db, config, server, inbox,
                                                                             monkeypatch):
    real_send = deliver.send

    def send_then_die(message, settings, **kwargs):
        real_send(message, settings, **kwargs)
        raise Crash

    monkeypatch.setattr(deliver, "send", send_then_die)
    with pytest.raises(Crash):
        run(db, config, DUE)
    monkeypatch.setattr(deliver, "send", real_send)
    assert len(inbox.messages) == 1
    rec = record(db)
    assert rec["status"] == "sending"

    # Within the lease another run may still be sending: leave it alone.
    assert [o for o in run(db, config, DUE + timedelta(minutes=1)) if o.channel == "email"] == []
    assert len(inbox.messages) == 1

    restarted = parse_iso(rec["next_attempt_at"])  # the lease has run out: the sender is dead
    outcomes = run(db, config, restarted)
    assert [(o.channel, o.status) for o in outcomes] == [("email", "sent")]
    assert "resent" in outcomes[0].detail
    assert run(db, config, restarted + timedelta(minutes=5)) == []
    assert len(inbox.messages) == 2
    first, second = (m for _, m in inbox.messages)
    assert first["Message-ID"] == second["Message-ID"] == MESSAGE_ID
    assert second["X-Newswatch-Resend"] == "yes" and second["Subject"].startswith("[resent] ")
    assert record(db)["status"] == "sent"


def test_left_in_sending_by_a_crash_is_resent_at_most_once(db, config, server, inbox):
    with Store(db) as store:
        store.save_digest_record(TOPIC, DAY.isoformat(), "email", status="sending", message_id=MESSAGE_ID,
                                 attempts=1, created_at=DUE)
    run(db, config, DUE + timedelta(minutes=1))
    assert [m["Message-ID"] for _, m in inbox.messages] == [MESSAGE_ID]

    # A resend interrupted in turn is not sent a third time automatically.
    with Store(db) as store:
        store.save_digest_record(TOPIC, DAY.isoformat(), "email", status="resending", next_attempt_at=None)
    outcomes = run(db, config, DUE + timedelta(minutes=10))
    assert [(o.channel, o.status) for o in outcomes] == [("email", "failed")]
    assert "--resend" in outcomes[0].detail
    assert run(db, config, DUE + timedelta(hours=12)) == []
    assert len(inbox.messages) == 1
    rec = record(db)
    assert rec["status"] == "failed" and rec["next_attempt_at"] is None


def test_cli_digest_sends_once_and_resend_is_recognisable(db, config, server, inbox):
    now = DUE + timedelta(hours=3)
    with Store(db) as store:
        first = by_channel(make_digest(store, config, DAY, now=now))
        again = by_channel(make_digest(store, config, DAY, now=now))
        resent = by_channel(make_digest(store, config, DAY, resend=True, now=now))
    assert first["email"].status == "sent" and first["files"].status == "sent"
    assert again["email"].status == "skipped" and "--resend" in again["email"].detail
    assert again["files"].status == "sent"  # files are always rewritten
    assert resent["email"].status == "sent"
    assert [m["Message-ID"] for _, m in inbox.messages] == [MESSAGE_ID, MESSAGE_ID]
    assert inbox.messages[1][1]["X-Newswatch-Resend"] == "yes"
    assert record(db)["attempts"] == 2
    assert run(db, config, now) == []  # the service finds it all done


def test_cli_digest_for_today_writes_files_but_does_not_email(db, config, server, inbox):
    during = utc(2024, 3, 12, 12)
    with Store(db) as store:
        outcomes = by_channel(make_digest(store, config, DAY, now=during))
    assert outcomes["files"].status == "written" and outcomes["email"].status == "skipped"
    assert inbox.messages == []
    assert record(db, "files") is None  # the scheduled run still writes the complete day
    assert by_channel(run(db, config, DUE))["email"].status == "sent"
    assert len(inbox.messages) == 1


def test_password_comes_from_the_environment(db, tmp_path, port, server, monkeypatch):
    config = write_config(tmp_path, email=email_settings(port, username="digest", password_env="NW_TEST_SMTP_PW"))
    monkeypatch.delenv("NW_TEST_SMTP_PW", raising=False)
    outcome = by_channel(run(db, config, DUE))["email"]
    assert outcome.status == "failed" and "export NW_TEST_SMTP_PW" in outcome.detail
