"""Missed digests are never lost (issue 24, item 3).

After downtime every missed day back to `[digest] catch_up_days` (14) is built and delivered, and a
day the bound leaves out is said in the log. A digest given up after its retries stays red in
`health`, also once later days have gone out, until it is delivered or a person acknowledges it
with `newswatch digest --ack DAY`. Real store, real SMTP server on 127.0.0.1, the real CLI.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from digest_helpers import HOTLINE, TOPIC, Inbox, Newsroom, email_settings, free_port, smtp_server, utc, write_config

from pipeline.cli import main
from pipeline.digest import deliver_due
from pipeline.service import check_health
from pipeline.store import Store, parse_iso


def hotline(room: Newsroom, day: date) -> None:
    room.add("wiredaily", f"hotline-{day:%m%d}", "US and China restore military hotline", HOTLINE,
             seen=utc(day.year, day.month, day.day, 9))


def newsroom(tmp_path) -> Store:
    store = Store(tmp_path / "x.db")
    Newsroom(store).sources("wiredaily")
    return store


def digest_problems(store, config, now) -> list[str]:
    return [p.reason for p in check_health(store, config, now) if p.check == "digest"]


def test_after_downtime_from_day_one_to_day_four_every_missed_day_is_delivered(tmp_path):
    config = write_config(tmp_path)
    with newsroom(tmp_path) as store:
        room = Newsroom(store, {"wiredaily": store.feeds()[0]["id"]})
        hotline(room, date(2024, 3, 1))  # the service ran on day 1, then was down until day 5
        now = utc(2024, 3, 5, 6)  # 08:00 in Kyiv: day 4's digest is due
        assert digest_problems(store, config, now) != []  # before catching up, health says the days are late
        outcomes = deliver_due(store, config, now)
        assert [(o.day, o.status) for o in outcomes] == [
            (date(2024, 3, 1), "sent"), (date(2024, 3, 2), "skipped"), (date(2024, 3, 3), "skipped"),
            (date(2024, 3, 4), "skipped")]
        assert (tmp_path / "digests" / TOPIC / "2024-03-01" / "digest.md").exists()
        assert digest_problems(store, config, now) == []


def test_the_catch_up_bound_is_stated_in_the_log_once(tmp_path, caplog):
    config = write_config(tmp_path, digest={"catch_up_days": 2})
    with newsroom(tmp_path) as store:
        room = Newsroom(store, {"wiredaily": store.feeds()[0]["id"]})
        for n in range(1, 6):
            hotline(room, date(2024, 3, n))
        now = utc(2024, 3, 6, 6)
        with caplog.at_level(logging.WARNING, logger="pipeline.digest.deliver"):
            outcomes = deliver_due(store, config, now)
            deliver_due(store, config, now + timedelta(minutes=1))
    assert [o.day for o in outcomes] == [date(2024, 3, 4), date(2024, 3, 5)]
    cut = [r.getMessage() for r in caplog.records if "catch_up_days = 2" in r.getMessage()]
    assert len(cut) == 1 and "2024-03-03" in cut[0] and "newswatch digest --date 2024-03-03" in cut[0], cut


def test_a_given_up_digest_stays_red_after_the_next_day_goes_out_until_acknowledged(tmp_path, capsys):
    port = free_port()  # nothing listens yet: every send is refused
    config = write_config(tmp_path, digest={"formats": []}, email=email_settings(port))
    (tmp_path / "sources").mkdir()
    with newsroom(tmp_path) as store:
        room = Newsroom(store, {"wiredaily": store.feeds()[0]["id"]})
        hotline(room, date(2024, 3, 12))
        now = utc(2024, 3, 13, 5)
        for _ in range(12):  # every attempt refused, until delivery gives up
            deliver_due(store, config, now)
            record = store.digest_record(TOPIC, "2024-03-12", "email")
            if record["next_attempt_at"] is None:
                break
            now = parse_iso(record["next_attempt_at"])
        assert (record["status"], record["next_attempt_at"]) == ("failed", None)

        hotline(room, date(2024, 3, 13))
        inbox = Inbox()
        server = smtp_server(port, inbox)  # the server is back for the next day
        try:
            later = utc(2024, 3, 14, 5, 30)
            outcomes = deliver_due(store, config, later)
        finally:
            server.stop()
        assert [(o.day, o.status) for o in outcomes] == [(date(2024, 3, 13), "sent")]
        (problem,) = digest_problems(store, config, later)
        assert problem.startswith(f"digest {TOPIC} 2024-03-12 via email was given up")
        assert "newswatch digest --ack 2024-03-12" in problem

    assert main(["digest", "--ack", "2024-03-12", "--config", str(tmp_path / "config.toml")]) == 0
    assert f"{TOPIC} 2024-03-12 via email: acknowledged (was failed)" in capsys.readouterr().out
    with Store(tmp_path / "x.db") as store:
        assert digest_problems(store, config, later) == []
        assert deliver_due(store, config, later + timedelta(hours=1)) == []  # acknowledged is not retried
