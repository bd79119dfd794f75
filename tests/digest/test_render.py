"""Every format from one digest, and hostile feed content that must not survive into HTML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser

import pytest
from digest_helpers import DRILLS, HOTLINE, HOTLINE_BOILERPLATE, TOPIC, Newsroom, utc, write_config

from pipeline.digest.atom import ATOM, render_atom
from pipeline.digest.build import build_digest
from pipeline.digest.html import render_html
from pipeline.digest.render import md_escape, render, render_json, render_markdown, render_text
from pipeline.store import Store

DAY = date(2024, 3, 12)


@pytest.fixture
def digest(tmp_path):
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("wiredaily", "harbourtimes", "citydesk", "badfeed")
        room.add("wiredaily", "hotline", "US and China restore military hotline", HOTLINE,
                 seen=utc(2024, 3, 12, 7), published=utc(2024, 3, 12, 6, 30))
        room.add("harbourtimes", "hotline", "Military hotline back on", HOTLINE_BOILERPLATE, seen=utc(2024, 3, 12, 8))
        room.add("citydesk", "drills", "Navy drills this weekend", DRILLS, seen=utc(2024, 3, 12, 9),
                 level="mention", score=0.4, terms=("navy",))
        room.store.update_feed(room.feeds["badfeed"], health="gone", last_attempt_at=utc(2024, 3, 12, 3),
                               last_error="http: 410 Gone")
        yield build_digest(store, write_config(tmp_path), TOPIC, DAY, now=utc(2024, 3, 13, 5))


@pytest.fixture
def hostile(tmp_path):
    """Feed content that tries every trick: markup in the title and evidence, a javascript: link."""
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("evil")
        room.add("evil", "x", '<script>alert("t")</script>Hotline <img src=x onerror="alert(1)">',
                 HOTLINE, seen=utc(2024, 3, 12, 7), url="javascript:alert(document.cookie)//hotline",
                 evidence='The hotline <a href="javascript:alert(2)" onclick="steal()">works</a> '
                          '<svg onload=alert(3)> [x](javascript:alert(4)) **bold**',
                 terms=("hotline",))
        room.add("evil", "y", "Drills <iframe src=//evil.example>", DRILLS, seen=utc(2024, 3, 12, 8),
                 level="mention", score=0.3, terms=("navy",), url="https://evil.example/y?a=1&b=<2>")
        yield build_digest(store, write_config(tmp_path), TOPIC, DAY, now=utc(2024, 3, 13, 5))


class Elements(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_markdown_has_header_entries_links_mentions_and_footer(digest):
    md = render_markdown(digest)
    assert md.startswith("# US–China military communication — digest for Tuesday 12 March 2024\n")
    assert "1 story and 1 mention from 3 outlets · 3 tagged items · times in Europe/Kyiv" in md
    assert "### 1. US and China restore military hotline" in md
    assert "*wiredaily, harbourtimes · 12 Mar 2024 08:30 EET*" in md
    assert "restore a military hotline that" in md and "**hotline**" not in md  # no term-by-term bold
    assert "- [wiredaily](https://wiredaily.example/hotline)" in md
    assert "- [harbourtimes: Military hotline back on](https://harbourtimes.example/hotline)" in md
    assert "## Mentions" in md and "[Navy drills this weekend](https://citydesk.example/drills)" in md
    assert "badfeed (gone): https://badfeed.example/feed.xml — http: 410 Gone" in md


def test_markdown_escapes_feed_text():
    assert md_escape("*not* [a](link) <b>") == r"\*not\* \[a\](link) \<b\>"


def test_text_and_json_carry_the_same_content(digest):
    text = render_text(digest)
    assert "1. US and China restore military hotline" in text and "*hotline*" not in text
    assert "   harbourtimes: https://harbourtimes.example/hotline" in text
    data = json.loads(render_json(digest))
    assert data["topic"] == TOPIC and data["start"] == "2024-03-12" and data["end"] == "2024-03-12"
    story = data["entries"][0]
    assert story["sources"] == ["wiredaily", "harbourtimes"]
    assert story["published"] == "2024-03-12T08:30:00+02:00"
    assert any(s["evidence"] and "hotline" in s["text"] for s in story["sentences"])
    assert data["failing"][0]["source"] == "badfeed"
    assert [e["level"] for e in data["entries"]] == ["strong", "mention"]
    assert data["counts"] == {"stories": 1, "mentions": 1, "reported_earlier": 0, "items": 3, "outlets": 3,
                              "capped": 0}


def test_atom_feed_is_valid_xml_with_one_entry_per_story(digest):
    root = ET.fromstring(render_atom(digest).encode("utf-8"))
    ns = {"a": ATOM}
    assert root.tag == f"{{{ATOM}}}feed"
    entries = root.findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [
        "US and China restore military hotline", "Navy drills this weekend"]
    first = entries[0]
    assert first.find("a:link[@rel='alternate']", ns).get("href") == "https://wiredaily.example/hotline"
    assert first.find("a:link[@rel='related']", ns).get("href") == "https://harbourtimes.example/hotline"
    assert first.findtext("a:id", namespaces=ns).startswith("tag:newswatch,2024-03-12:us-china-milcomm/entry-")
    assert "<mark" in first.findtext("a:content", namespaces=ns)


def test_html_is_email_safe_with_inline_styles(digest):
    html = render_html(digest)
    assert "<style" not in html and "<link" not in html
    tags = Elements(html).found
    assert any(t == "mark" for t, _ in tags)
    assert all("style" in attrs for t, attrs in tags if t in ("h1", "h2", "h3", "p", "a", "mark"))
    assert '<a href="https://wiredaily.example/hotline"' in html


@pytest.mark.parametrize("fmt", ["html", "atom"])
def test_hostile_feed_content_is_neutralised(hostile, fmt):
    out = render(hostile, fmt)
    html = ET.fromstring(out.encode()).find(f"{{{ATOM}}}entry/{{{ATOM}}}content").text if fmt == "atom" else out
    tags = Elements(html).found
    names = {t for t, _ in tags}
    assert not names & {"script", "img", "svg", "iframe", "object", "embed", "style"}
    for _, attrs in tags:
        assert not [a for a in attrs if a.startswith("on")], attrs
        assert not any(str(v).strip().lower().startswith(("javascript:", "data:")) for v in attrs.values())
    assert not [a for t, a in tags if t == "a" and "javascript" in a.get("href", "")]
    # The text is still there, shown as text rather than run.
    assert "alert(" in html and "Hotline" in html


def test_hostile_link_is_dropped_everywhere(hostile):
    entry = hostile.stories[0]
    assert entry.link is None and entry.outlets[0].url is None
    mention = hostile.mentions[0]
    assert mention.link is None  # quotes and angle brackets in a URL: not ours to repair
    md = render(hostile, "markdown")
    # Feed text is backslash-escaped: no raw HTML and no link syntax survives into the Markdown.
    assert not re.search(r"(?<!\\)<", md) and not re.search(r"(?<!\\)\]\(", md)
    outlets = json.loads(render(hostile, "json"))["entries"][0]["outlets"]
    assert [o["url"] for o in outlets] == [None]


def test_empty_digest_says_nothing_today_only_on_that_day(tmp_path):
    with Store(tmp_path / "x.db") as store:
        same_day = build_digest(store, write_config(tmp_path), TOPIC, DAY, now=utc(2024, 3, 12, 15))
        past = build_digest(store, write_config(tmp_path), TOPIC, DAY, now=utc(2024, 3, 13, 5))
    assert same_day.empty and past.empty
    for fmt in ("markdown", "text", "html"):
        assert "Nothing today" in render(same_day, fmt)
        # Made the next morning: the day is a past day and is named, never "today".
        assert "today" not in render(past, fmt).casefold()
        assert "12 March 2024" in render(past, fmt)
    assert json.loads(render(past, "json"))["entries"] == []
