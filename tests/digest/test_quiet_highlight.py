"""Highlighting that reads (issue 20): in the digest files and the email, the evidence sentence is one
quiet span with at most the two parties' names emphasised; the terms that earned the tag are not
marked one by one (that lives in the reading room's "Why tagged")."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from digest_helpers import TOPIC, Inbox, Newsroom, email_settings, free_port, parts, smtp_server, utc, write_config

from pipeline.config import bundled_topic
from pipeline.digest import deliver_due
from pipeline.digest.build import topic_parties
from pipeline.store import Store
from pipeline.topics import load_topics

DAY = date(2024, 3, 12)
EVIDENCE = ("The Pentagon said Admiral Paparo held a video call with China's Southern Theater commander "
            "on Tuesday, the first military call between the two sides in a year.")
TEXT = ("Officials in Washington and Beijing gave few details about the timing of the announcement. "
        "Both capitals described the exchange in short statements released late in the evening. "
        "Analysts said the tone of the statements was unusually restrained. " + EVIDENCE)
# Every term the tagger matched in the evidence: far more than a reader wants in bold.
TERMS = ("Pentagon", "Admiral Paparo", "video call", "China's", "Southern Theater", "military", "call", "two sides")


class Marks(HTMLParser):
    """The text inside each <mark>, and the text of each <strong> inside one."""

    def __init__(self, html: str):
        super().__init__()
        self.marks: list[str] = []
        self.strong: list[str] = []
        self.stack: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "mark":
            self.marks.append("")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if "mark" in self.stack:
            self.marks[-1] += data
            if self.stack[-1] == "strong":
                self.strong.append(data)


def check_html(html: str) -> None:
    found = Marks(html)
    assert found.marks == [EVIDENCE], "one span, around the whole evidence sentence"
    assert 1 <= len(found.strong) <= 2 and set(found.strong) <= {"Pentagon", "Paparo", "China"}
    assert len({"Pentagon", "Paparo"} & set(found.strong)) <= 1  # one name per party
    assert "<mark" not in html.replace(html[html.index("<mark"):html.index("</mark>")], "", 1)


def check_text(text: str) -> None:
    flat = " ".join(text.split())
    assert EVIDENCE in flat.replace("*", "")
    starred = re.findall(r"\*([^*\n]+)\*", flat)
    assert 1 <= len(starred) <= 2 and set(starred) <= {"Pentagon", "Paparo", "China"}
    for term in ("video call", "military", "two sides", "Southern Theater"):
        assert f"*{term}*" not in flat


@pytest.fixture
def delivered(tmp_path):
    port = free_port()
    inbox = Inbox()
    server = smtp_server(port, inbox)
    try:
        config = write_config(tmp_path, email=email_settings(port))
        with Store(tmp_path / "x.db") as store:
            room = Newsroom(store)
            room.sources("wiredaily")
            room.add("wiredaily", "call", "Theatre commanders speak", TEXT, seen=utc(2024, 3, 12, 7),
                     evidence=EVIDENCE, terms=TERMS)
            due = utc(2024, 3, 13, 5) + timedelta(minutes=1)
            outcomes = {o.channel: o.status for o in deliver_due(store, config, due)}
        assert outcomes == {"email": "sent", "files": "sent"}
        assert len(inbox.messages) == 1
        yield tmp_path, parts(inbox.messages[0][1])
    finally:
        server.stop()


def test_the_html_file_and_email_mark_the_sentence_once_and_at_most_two_names(delivered):
    folder, email = delivered
    [page] = folder.glob("**/digest.html")
    check_html(page.read_text(encoding="utf-8"))
    check_html(email["text/html"])


def test_markdown_shows_the_sentence_once_without_bold_terms(delivered):
    folder, _ = delivered
    [md] = folder.glob("**/digest.md")
    text = md.read_text(encoding="utf-8")
    bold = re.findall(r"\*\*([^*]+)\*\*", text)
    assert 1 <= len(bold) <= 2 and set(bold) <= {"Pentagon", "Paparo", "China"}
    assert text.count("Southern Theater commander") == 1
    # The sentence is one span: a single italic run from its first word to its last.
    [span] = re.findall(r"_The \*\*Pentagon\*\* said .*? in a year\._", text)
    assert span.replace("*", "").strip("_") == EVIDENCE


def test_plain_text_file_and_email_star_only_the_parties(delivered):
    folder, email = delivered
    [txt] = folder.glob("**/digest.txt")
    check_text(txt.read_text(encoding="utf-8"))
    check_text(email["text/plain"])


@pytest.mark.parametrize(("sentence", "terms", "names"), [
    (EVIDENCE, TERMS, ["Pentagon", "China"]),  # one name per side, the first that earned the score
    ("US and Chinese officials met at the Pentagon to talk.", ("US and Chinese", "Pentagon", "talk"),
     ["US and Chinese"]),  # one name for both sides says it once
    ("The navy held drills near the strait.", ("navy",), []),  # no side named: nothing emphasised
])
def test_the_parties_names_come_from_the_topics_pair_group(sentence, terms, names):
    [topic] = load_topics([bundled_topic(TOPIC)])
    sides = topic_parties(topic)
    assert sides.groups == ("us", "china")
    assert [sentence[a:b] for a, b in sorted(sides.names(sentence, terms))] == names
