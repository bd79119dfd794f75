"""Issue 19's acceptance, end to end through `newswatch poll` and the digest: a json:// alert channel
on a webhook receiver and a mailto:// digest channel on aiosmtpd, both Apprise itself on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
from digest_helpers import Inbox, free_port, parts, smtp_server
from httpserver import LocalServer, Response
from waiting import wait_for

from pipeline.alerts import deliver_digests
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.digest import due_at
from pipeline.store import Store

STORY = ("Defence officials from the United States and China agreed on Tuesday to restore the military "
         "hotline between their two armed forces, after a meeting of the two defence ministers in the "
         "capital. The officials said the hotline would be tested within a week and that theatre "
         "commanders would talk again before the end of the month, the first such talks in two years.")
OTHER = ("Harvest festivals opened across the valley with parades of tractors, lanterns and choirs, and the "
         "organisers said the weather had been kind to the orchards this autumn.")


class Outlet:
    """A homepage naming its feed, and the feed; items are added by the test."""

    def __init__(self, server: LocalServer, name: str):
        self.items: list[str] = []
        server.route("/", Response(body=(f'<html><head><title>{name}</title><link rel="alternate" '
                                         'type="application/rss+xml" href="/feed.xml"></head></html>').encode(),
                                   headers={"Content-Type": "text/html"}))
        server.route("/feed.xml", lambda request: Response(
            body=(f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
                  f"<link>{server.base}/</link>{''.join(self.items)}</channel></rss>").encode(),
            headers={"Content-Type": "application/rss+xml"}))

    def publish(self, guid: str, title: str, text: str, when: datetime) -> None:
        # No link: stored from the feed's own text, so no article page is fetched.
        self.items.append(f'<item><guid isPermaLink="false">{guid}</guid><title>{escape(title)}</title>'
                          f"<description>{escape(text)}</description><pubDate>{format_datetime(when)}</pubDate>"
                          "</item>")


def make_due(config: str) -> None:
    with Store(load_config(config).db_path) as store:
        for feed in store.feeds():
            store.update_feed(feed["id"], next_poll_at=datetime.now(UTC) - timedelta(minutes=1))


def poll(capsys, config: str) -> str:
    capsys.readouterr()
    assert main(["poll", "-q", "--config", config]) == 0
    return capsys.readouterr().out


@pytest.fixture
def smtp():
    port, inbox = free_port(), Inbox()
    controller = smtp_server(port, inbox)
    yield port, inbox
    controller.stop()


def test_one_json_alert_per_story_and_the_digest_by_email_with_reading_room_links(tmp_path, capsys, monkeypatch,
                                                                                  smtp):
    smtp_port, inbox = smtp
    with LocalServer() as hook, LocalServer() as wire_a, LocalServer() as wire_b:
        hook.route("/alerts", Response(body=b"{}"))
        a, b = Outlet(wire_a, "Wire A"), Outlet(wire_b, "Wire B")
        monkeypatch.setenv("NW_TEST_ALERTS", f"json://127.0.0.1:{hook.port}/alerts")
        monkeypatch.setenv("NW_TEST_MAIL", f"mailto://127.0.0.1:{smtp_port}?mode=insecure"
                                           "&from=newswatch@example.org&to=desk@example.org")
        (tmp_path / "sources").mkdir()
        config = tmp_path / "config.toml"
        config.write_text(
            '[storage]\npath = "n.db"\n[sources]\ndir = "sources"\n'
            "[network]\nallow_private_addresses = true\nmin_host_delay = 0.0\n"
            '[digest]\ntimezone = "UTC"\nformats = []\n'
            '[web]\nbase_url = "https://room.example/"\n'
            '[[channels]]\nname = "desk"\nurl_env = "NW_TEST_ALERTS"\nreceives = ["alerts"]\n'
            '[[channels]]\nname = "mail"\nurl_env = "NW_TEST_MAIL"\nreceives = ["digest"]\n', encoding="utf-8")
        for server, name in ((wire_a, "Wire A"), (wire_b, "Wire B")):
            assert main(["sources", "add", server.url("/"), "--name", name, "--config", str(config)]) == 0
        now = datetime.now(UTC)
        a.publish("a-1", "US and China restore military hotline", STORY, now - timedelta(minutes=30))
        a.publish("a-2", "Valley harvest festivals open", OTHER, now - timedelta(minutes=20))

        out = poll(capsys, str(config))
        alerts = [json.loads(r.body) for r in hook.requests if r.method == "POST"]
        assert len(alerts) == 1, out  # the strong item, within this one poll; the festival is not news
        assert alerts[0]["title"] == "US and China restore military hotline"
        body = alerts[0]["message"]
        assert "Wire A" in body and "restore the military hotline" in body
        with Store(load_config(config).db_path) as store:
            hotline = next(r for r in store.deliveries("desk", kind="alert"))
        assert f"Why tagged: https://room.example/items/{hotline['entry_id']}" in body

        # The same story from a second outlet: no second ping.
        b.publish("b-1", "Hotline between US and Chinese forces to be restored", STORY,
                  now - timedelta(minutes=10))
        make_due(str(config))
        poll(capsys, str(config))
        assert sum(r.method == "POST" for r in hook.requests) == 1
        with Store(load_config(config).db_path) as store:
            records = store.deliveries("desk", kind="alert")
        assert sorted(r["status"] for r in records) == ["same-story", "sent"]

        # The next digest arrives by email, every entry linking to its page in the reading room.
        loaded = load_config(config)
        with Store(loaded.db_path) as store:
            # what the service's digest job does at the digest time
            outcomes = deliver_digests(store, loaded, due_at(now.date(), loaded.digest) + timedelta(minutes=1))
        assert any(o.channel == "channel mail" and o.status == "sent" for o in outcomes), outcomes
        wait_for(lambda: inbox.messages)
        (recipients, message), = inbox.messages
        assert recipients == ["desk@example.org"]
        assert "[resent]" not in message["Subject"]
        text = next(iter(parts(message).values()))
        # One story told by two outlets: one entry, one link to its page, both outlets named.
        assert text.count("Why tagged: https://room.example/items/") == 1
        assert f"Why tagged: https://room.example/items/{hotline['entry_id']}" in text
        assert "Wire A" in text and "Wire B" in text
