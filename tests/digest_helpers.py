"""Shared fixtures for the digest tests: our own made-up stories, a real store, a real SMTP server.

Every article text here was written for these tests; none is copied from a news site.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from pipeline.config import DigestSection, EmailSection, load_config
from pipeline.models import Article, Evidence, FeedConfig, FeedItem, Source, Tag
from pipeline.store import Store, iso

TOPIC = "us-china-milcomm"

# A wire story, as the agency sent it.
HOTLINE = (
    "Defence officials from the United States and China agreed on Tuesday to restore a military hotline "
    "that had been silent for more than a year, according to people familiar with the talks in Singapore. "
    "The two sides will hold working-level calls every month and a call between theatre commanders before "
    "the end of the quarter, the officials said. Analysts said the arrangement was modest but could reduce "
    "the risk that an encounter between ships or aircraft in the South China Sea escalates because nobody "
    "picks up the phone. A spokesperson for the ministry in Beijing described the meeting as candid and "
    "constructive and said further steps depended on Washington. The Pentagon said it would publish a short "
    "readout of the meeting later in the week and that maritime safety talks would resume in the spring."
)

# The same wire copy, run by a second outlet under its own header and footer.
HOTLINE_BOILERPLATE = (
    "HARBOUR TIMES | World | Updated 09:40\n\n" + HOTLINE
    + "\n\nSign up for our morning briefing to get the day's top stories in your inbox. "
    "Copyright Harbour Times. All rights reserved. Reporting by our wire partners."
)

# A lightly edited copy: a few words changed and one sentence trimmed.
HOTLINE_EDITED = (
    HOTLINE.replace("agreed on Tuesday", "agreed Tuesday")
    .replace("more than a year", "over a year")
    .replace("Analysts said", "Security analysts said")
    .replace(" and that maritime safety talks would resume in the spring", "")
)

# A different story about the same event: same people and place, different reporting.
HOTLINE_ANALYSIS = (
    "The restored link between American and Chinese commanders is the product of months of quiet diplomacy, "
    "and its value will be tested the first time a crisis breaks out at night. Former officers who staffed "
    "the old hotline say calls often went unanswered for hours while messages were cleared in Beijing. "
    "This time the Pentagon wants a standing duty officer on both ends, a demand the Chinese side has not "
    "publicly accepted. Diplomats in Singapore cautioned that a single meeting would not change the deeper "
    "mistrust between the two militaries, which keep expanding their patrols in the Western Pacific."
)

DRILLS = (
    "The navy announced live-fire drills off the eastern coast for the coming weekend and warned fishing "
    "boats to stay out of a zone marked on its charts. The exercise will involve destroyers, patrol aircraft "
    "and a submarine, a navy statement said, and is part of a routine annual training plan. Neighbouring "
    "governments were informed through the usual notices to mariners, officials added."
)

PORT = (
    "City council members approved a budget for dredging the harbour channel, ending a long argument over "
    "who should pay for deeper berths. The port authority said larger container ships could call from next "
    "year, and local shipping firms welcomed the decision while environmental groups asked for more studies."
)


def source(name: str, *feeds: str) -> Source:
    return Source(name=name, homepage=f"https://{name}.example/", language="en",
                  feeds=tuple(FeedConfig(url=f) for f in (feeds or (f"https://{name}.example/feed.xml",))))


@dataclass
class Newsroom:
    """A real store with sources, and a way to add tagged articles first seen at a chosen moment."""

    store: Store
    feeds: dict[str, int] = field(default_factory=dict)

    def sources(self, *names: str) -> None:
        self.store.sync_sources([source(n) for n in names])
        for row in self.store.db.query("SELECT id, source FROM feeds"):
            self.feeds[row["source"]] = row["id"]

    def add(self, outlet: str, slug: str, title: str, text: str, *, seen: datetime, level: str = "strong",
            score: float = 0.9, evidence: str | None = None, terms: tuple[str, ...] = ("hotline",),
            url: str | None = None, published: datetime | None = None, processed: datetime | None = None,
            feed_published: datetime | None = None) -> int:
        """`published` is the page's date (and the feed's unless `feed_published` says otherwise);
        `processed` is when its page was processed (default: when it was seen)."""
        url = url or f"https://{outlet}.example/{slug}"
        item = FeedItem(url=url, canonical_url=url, guid=url, title=title, summary="",
                        published=feed_published or published or seen)
        self.store.add_items(self.feeds[outlet], outlet, [item])
        entry_id = self.store.db.execute("SELECT id FROM entries WHERE canonical_url = ?", [url]).fetchone()[0]
        sentence = evidence or next(s for s in text.replace(". ", ".\n").splitlines()
                                    if any(t.lower() in s.lower() for t in terms))
        tag = Tag(topic=TOPIC, score=score, level=level, evidence=(Evidence(sentence=sentence, terms=terms),))
        self.store.complete_entry(entry_id, Article(title=title, text=text, published=published or seen), [tag])
        # Entries are stamped with the wall clock; the digest tests need a chosen day.
        self.store.db["entries"].update(entry_id, {"discovered_at": iso(seen), "processed_at": iso(processed or seen)})
        return entry_id


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def write_config(tmp_path: Path, *, digest: dict | None = None, email: dict | None = None):
    """A config.toml in tmp_path, loaded through the real loader."""
    def table(name: str, values: dict) -> str:
        lines = [f"[{name}]"]
        for key, value in values.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {str(value).lower()}")
            elif isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
            else:
                lines.append(f"{key} = {value}")
        return "\n".join(lines)

    digest_values = {"time": "07:00", "timezone": "Europe/Kyiv", "output_dir": "digests",
                     "formats": ["markdown", "html", "text", "json", "atom"], "topics": [TOPIC]}
    digest_values.update(digest or {})
    parts = [f'[storage]\npath = "{tmp_path / "x.db"}"', table("digest", digest_values)]
    if email:
        parts.append(table("email", email))
    path = tmp_path / "config.toml"
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    config = load_config(path)
    assert isinstance(config.digest, DigestSection) and isinstance(config.email, EmailSection)
    return config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def smtp_server(port: int, inbox: Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=60)  # a loaded machine starts slowly
    controller.start()
    return controller


def email_settings(port: int, **overrides) -> dict:
    values = {"enabled": True, "host": "127.0.0.1", "port": port, "security": "none",
              "sender": "digest@newswatch.example", "recipients": ["ana@example.org", "bo@example.org"],
              "timeout": 5}
    values.update(overrides)
    return values


def parts(message: EmailMessage) -> dict[str, str]:
    """The content of each text part by type: text/plain and text/html."""
    return {p.get_content_type(): p.get_content() for p in message.walk() if p.get_content_maintype() == "text"}
