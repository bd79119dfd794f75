"""OPML import (one source file per outlet) and export, and the round trip between them."""

from __future__ import annotations

import pytest

from pipeline.feeds import load_sources
from pipeline.feeds.opml import OpmlError, export_opml, import_opml, parse_opml

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My feeds</title></head><body>
  <outline text="News">
    <outline type="rss" text="BBC News - World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"
             htmlUrl="https://www.bbc.co.uk/news"/>
    <outline type="rss" text="BBC News - Asia" xmlUrl="https://feeds.bbci.co.uk/news/world/asia/rss.xml"
             htmlUrl="https://www.bbc.co.uk/news/world/asia"/>
    <outline type="rss" title="Reuters &amp; Co" text="ignored" xmlUrl="https://reuters.example/feed" language="en-US"/>
  </outline>
  <outline type="rss" text="Le Monde" xmlUrl="https://www.lemonde.fr/rss/une.xml" htmlUrl="https://www.lemonde.fr/"
           language="fr"/>
  <outline text="broken" xmlUrl="javascript:alert(1)"/>
  <outline text="Bad port" xmlUrl="http://bad.example:99999/feed" htmlUrl="http://bad.example/"/>
  <outline text="Bad host" xmlUrl="http://[::1/feed"/>
  <outline text="Site link broken" xmlUrl="https://ok.example/feed" htmlUrl="http://ok.example:abc/"/>
</body></opml>"""


def test_parse_groups_feeds_by_outlet():
    drafts = parse_opml(OPML).drafts
    assert [(d.name, len(d.feeds), d.language) for d in drafts] == [
        ("BBC News", 2, "en"), ("Reuters & Co", 1, "en"), ("Le Monde", 1, "fr"), ("Site link broken", 1, "en"),
    ]
    assert drafts[0].homepage == "https://www.bbc.co.uk/news"
    assert drafts[-1].homepage == ""  # an unusable site link is dropped, the feed is kept


def test_feeds_with_unusable_urls_are_left_out_with_the_reason():
    assert parse_opml(OPML).skipped == [
        "broken: feed URL 'javascript:alert(1)': scheme 'javascript' is not one of http, https",
        "Bad port: feed URL 'http://bad.example:99999/feed': port 99999 is out of range 1-65535",
        "Bad host: feed URL 'http://[::1/feed': not a URL (Invalid IPv6 URL)",
    ]


def test_import_writes_loadable_sources_and_is_idempotent(tmp_path):
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(OPML)
    imported = import_opml(opml, tmp_path / "sources")
    assert sorted(p.name for p in imported.written) == [
        "bbc-news.toml", "le-monde.toml", "reuters-co.toml", "site-link-broken.toml"]
    assert len(imported.skipped) == 3
    sources = {s.name: s for s in load_sources(tmp_path / "sources")}
    assert [f.url for f in sources["BBC News"].feeds] == [
        "https://feeds.bbci.co.uk/news/world/rss.xml", "https://feeds.bbci.co.uk/news/world/asia/rss.xml"]
    assert import_opml(opml, tmp_path / "sources").written == []  # nothing new the second time


def test_import_avoids_name_clashes(tmp_path):
    (tmp_path / "le-monde.toml").write_text('name = "Le Monde"\n\n[[feeds]]\nurl = "https://www.lemonde.fr/other.xml"\n')
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(OPML)
    names = {p.name for p in import_opml(opml, tmp_path).written}
    assert "le-monde-lemonde-fr.toml" in names
    assert {s.name for s in load_sources(tmp_path)} >= {"Le Monde", "Le Monde (lemonde.fr)"}
    assert len(load_sources(tmp_path)) == 5


def test_round_trip(tmp_path):
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(OPML)
    import_opml(opml, tmp_path / "a")
    exported = export_opml(load_sources(tmp_path / "a"))
    assert exported.startswith("<?xml") and "<opml" in exported
    again = tmp_path / "again.opml"
    again.write_text(exported, encoding="utf-8")
    import_opml(again, tmp_path / "b")
    first = {(s.name, s.homepage, s.language, tuple(f.url for f in s.feeds)) for s in load_sources(tmp_path / "a")}
    second = {(s.name, s.homepage, s.language, tuple(f.url for f in s.feeds)) for s in load_sources(tmp_path / "b")}
    assert first == second


def test_not_opml():
    with pytest.raises(OpmlError):
        parse_opml(b"<rss/>")
    with pytest.raises(OpmlError):
        parse_opml(b"")
