"""Issue 24: delivery per recipient, and a slow send never doubled, against a real aiosmtpd server."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, timedelta

import pytest
from digest_helpers import (
    DRILLS,
    HOTLINE,
    TOPIC,
    Inbox,
    Newsroom,
    email_settings,
    free_port,
    smtp_server,
    utc,
    write_config,
)
from waiting import wait_for

from pipeline.digest import deliver, deliver_due
from pipeline.service import collect_status, format_status
from pipeline.service.health import check_health
from pipeline.store import Store, parse_iso

DAY = date(2024, 3, 12)
DUE = utc(2024, 3, 13, 5)  # 07:00 in Kyiv the next morning
MESSAGE_ID = "<newswatch.us-china-milcomm.2024-03-12.daily@newswatch.example>"


class BusyMailbox(Inbox):
    """Answers 450 at RCPT for `busy` until `refusals` of them have been given, then takes them;
    `final` addresses get 550 every time."""

    def __init__(self, busy: str = "", refusals: int = 1, final: str = "") -> None:
        super().__init__()
        self.busy, self.refusals, self.final = busy, refusals, final
        self.refused: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook name
        if address == self.final:
            self.refused.append(address)
            return "550 5.1.1 no such mailbox"
        if address == self.busy and self.refusals:
            self.refusals -= 1
            self.refused.append(address)
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def db(tmp_path):
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("wiredaily", "citydesk")
        room.add("wiredaily", "hotline", "US and China restore military hotline", HOTLINE, seen=utc(2024, 3, 12, 7))
        room.add("citydesk", "drills", "Navy drills this weekend", DRILLS, seen=utc(2024, 3, 12, 9),
                 level="mention", score=0.4, terms=("navy",))
    return tmp_path / "x.db"


def serve(handler):
    port = free_port()
    return port, smtp_server(port, handler)


def email_outcome(db, config, now):
    with Store(db) as store:
        return next((o for o in deliver_due(store, config, now) if o.channel == "email"), None)


def recipients(db):
    with Store(db) as store:
        return {r["recipient"]: (r["status"], r["attempts"])
                for r in store.digest_recipients(TOPIC, DAY.isoformat(), "daily")}


def health(db, config, now):
    with Store(db) as store:
        return [str(p) for p in check_health(store, config, now) if "recipient" in str(p)]


def test_a_recipient_refused_for_now_is_retried_alone(db, tmp_path):
    mailbox = BusyMailbox(busy="bo@example.org")
    port, server = serve(mailbox)
    try:
        config = write_config(tmp_path, email=email_settings(port))
        first = email_outcome(db, config, DUE)
        # ana has it; bo is owed it, and the record says so instead of "sent"
        assert first.status == "failed" and "bo@example.org (450 4.2.1 mailbox busy" in first.detail
        assert [to for to, _ in mailbox.messages] == [["ana@example.org"]]
        assert recipients(db) == {"ana@example.org": ("sent", 1), "bo@example.org": ("failed", 1)}
        with Store(db) as store:
            record = store.digest_record(TOPIC, DAY.isoformat(), "email")
            text = format_status(collect_status(store))
        assert record["status"] == "failed" and "450" in record["last_error"]
        assert "recipient ana@example.org: last got us-china-milcomm 2024-03-12" in text
        assert "recipient bo@example.org: never got a digest; us-china-milcomm 2024-03-12: failed (450" in text
        assert health(db, config, DUE + timedelta(minutes=1)) == []  # a retry is due soon: not late yet
        (problem,) = health(db, config, DUE + timedelta(hours=1))  # as a late digest is, after 30 min
        assert "bo@example.org" in problem and "450 4.2.1 mailbox busy" in problem

        retry_at = parse_iso(record["next_attempt_at"])
        assert email_outcome(db, config, retry_at - timedelta(seconds=1)) is None  # not before its time
        second = email_outcome(db, config, retry_at)
        assert second.status == "sent" and "sent to 1 recipient" in second.detail
        # bo alone, with the same Message-ID; not a resend: bo never had it, ana is not sent it twice
        assert [to for to, _ in mailbox.messages] == [["ana@example.org"], ["bo@example.org"]]
        assert {m["Message-ID"] for _, m in mailbox.messages} == {MESSAGE_ID}
        assert mailbox.messages[1][1]["X-Newswatch-Resend"] is None
        assert recipients(db) == {"ana@example.org": ("sent", 1), "bo@example.org": ("sent", 2)}
        assert health(db, config, retry_at) == []
        assert email_outcome(db, config, retry_at + timedelta(hours=1)) is None
        assert len(mailbox.messages) == 2
    finally:
        server.stop()


def test_a_crash_after_a_partial_send_never_resends_to_who_had_it(db, tmp_path, monkeypatch):
    mailbox = BusyMailbox(busy="bo@example.org")
    port, server = serve(mailbox)
    try:
        config = write_config(tmp_path, email=email_settings(port))
        assert email_outcome(db, config, DUE).status == "failed"  # ana sent, bo refused for now
        with Store(db) as store:
            retry_at = parse_iso(store.digest_record(TOPIC, DAY.isoformat(), "email")["next_attempt_at"])

        class Crash(BaseException):
            pass

        real_send = deliver.send

        def send_then_die(message, settings, **kwargs):
            real_send(message, settings, **kwargs)
            raise Crash

        monkeypatch.setattr(deliver, "send", send_then_die)
        with pytest.raises(Crash):
            email_outcome(db, config, retry_at)
        monkeypatch.setattr(deliver, "send", real_send)
        with Store(db) as store:
            lease_over = parse_iso(store.digest_record(TOPIC, DAY.isoformat(), "email")["next_attempt_at"])
        resent = email_outcome(db, config, lease_over)
        assert resent.status == "sent" and "resent to 1 recipient" in resent.detail
        # bo: the first copy (unrecorded) and one marked resend; ana: only ever the first
        assert [to for to, _ in mailbox.messages] == [["ana@example.org"], ["bo@example.org"], ["bo@example.org"]]
        assert mailbox.messages[2][1]["X-Newswatch-Resend"] == "yes"
        assert {m["Message-ID"] for _, m in mailbox.messages} == {MESSAGE_ID}
    finally:
        server.stop()


def test_every_recipient_refused_for_now_is_retried_and_recorded_each(db, tmp_path):
    mailbox = BusyMailbox(busy="bo@example.org")
    port, server = serve(mailbox)
    try:
        config = write_config(tmp_path, email=email_settings(port, recipients=["bo@example.org"]))
        first = email_outcome(db, config, DUE)
        assert first.status == "failed" and "every recipient was refused" in first.detail
        assert recipients(db) == {"bo@example.org": ("failed", 1)} and mailbox.messages == []
        with Store(db) as store:
            retry_at = parse_iso(store.digest_record(TOPIC, DAY.isoformat(), "email")["next_attempt_at"])
        assert email_outcome(db, config, retry_at).status == "sent"
        assert [to for to, _ in mailbox.messages] == [["bo@example.org"]]
        assert recipients(db) == {"bo@example.org": ("sent", 2)}
    finally:
        server.stop()


def test_a_recipient_refused_for_good_is_not_retried_and_health_says_so(db, tmp_path):
    mailbox = BusyMailbox(final="bo@example.org")
    port, server = serve(mailbox)
    try:
        config = write_config(tmp_path, email=email_settings(port))
        outcome = email_outcome(db, config, DUE)
        assert outcome.status == "sent" and "bo@example.org (550 5.1.1 no such mailbox)" in outcome.detail
        assert recipients(db) == {"ana@example.org": ("sent", 1), "bo@example.org": ("refused", 1)}
        (problem,) = health(db, config, DUE + timedelta(minutes=1))
        assert "bo@example.org" in problem and "refused by the server" in problem
        assert email_outcome(db, config, DUE + timedelta(hours=2)) is None
        assert mailbox.refused == ["bo@example.org"]
    finally:
        server.stop()


class HoldingInbox(Inbox):
    """Holds the first message's DATA until `release` is set: a send slower than its lease."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.release = threading.Event(), threading.Event()
        self.connections = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.connections += 1
        if self.connections == 1:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def test_a_send_in_progress_keeps_its_claim_so_a_slow_send_is_not_doubled(db, tmp_path, monkeypatch):
    monkeypatch.setattr(deliver, "RENEW_SECONDS", 0.05, raising=False)
    mailbox = HoldingInbox()
    port, server = serve(mailbox)
    first: list = []
    sender = threading.Thread(target=lambda: first.append(email_outcome(db, config, DUE)))
    try:
        config = write_config(tmp_path, email=email_settings(port, timeout=30))
        sender.start()
        wait_for(mailbox.holding.is_set)
        with Store(db) as store:
            claimed = parse_iso(store.digest_record(TOPIC, DAY.isoformat(), "email")["next_attempt_at"])
            # At least the lease it was claimed with: the renewer (every 0.05 s here) may already have pushed it.
            assert claimed >= DUE + timedelta(seconds=deliver.LEASE_SECONDS)

            def renewed():
                lease = parse_iso(store.digest_record(TOPIC, DAY.isoformat(), "email")["next_attempt_at"])
                return lease if lease > claimed else None

            later = wait_for(renewed)
        # Past the lease the send was claimed with, but inside the renewed one: another deliverer
        # (a restarted service, another host) must take it for a send in progress. Another process
        # has a lock of its own: only the store's claim keeps the two apart.
        monkeypatch.setattr(deliver, "_one_at_a_time", threading.Lock())
        assert email_outcome(db, config, claimed + (later - claimed) / 2) is None
        mailbox.release.set()
        sender.join(60)
        assert first[0].status == "sent"
        assert len(mailbox.messages) == 1 and mailbox.connections == 1
    finally:
        mailbox.release.set()
        server.stop()


def test_an_acknowledged_digest_clears_its_recipients_from_health(db, tmp_path, capsys):
    from pipeline.cli import main

    mailbox = BusyMailbox(busy="bo@example.org", refusals=100)
    port, server = serve(mailbox)
    try:
        config = write_config(tmp_path, email=email_settings(port))
        assert email_outcome(db, config, DUE).status == "failed"
        (problem,) = health(db, config, DUE + timedelta(hours=1))
        assert "bo@example.org" in problem
        (tmp_path / "sources").mkdir()
        assert main(["--config", str(tmp_path / "config.toml"), "digest", "--ack", DAY.isoformat()]) == 0
        assert f"{TOPIC} {DAY} via email: acknowledged (was failed)" in capsys.readouterr().out
        # a person accepted the day undelivered, bo included: neither the digest nor bo is retried or red
        assert health(db, config, DUE + timedelta(hours=1)) == []
        assert email_outcome(db, config, DUE + timedelta(hours=2)) is None  # the retry that was due
        with Store(db) as store:
            assert store.digest_record(TOPIC, DAY.isoformat(), "email")["status"] == "acknowledged"
        assert [to for to, _ in mailbox.messages] == [["ana@example.org"]]
    finally:
        server.stop()
