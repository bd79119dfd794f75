"""Sources keep their names in any script, their folders and languages; a feed is followed once."""

from __future__ import annotations

import pytest
from config_helpers import write_config
from httpserver import LocalServer, Response

from pipeline.cli import main
from pipeline.feeds import load_sources

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Desk</title></head><body>
  <outline text="China">
    <outline type="rss" text="新华网" xmlUrl="https://xinhua.example/rss.xml" htmlUrl="https://xinhua.example/"
             language="zh-CN"/>
    <outline type="rss" text="环球时报" xmlUrl="https://huanqiu.example/rss.xml" htmlUrl="https://huanqiu.example/"/>
  </outline>
  <outline text="Russia" language="ru">
    <outline type="rss" text="Военное обозрение" xmlUrl="https://topwar.example/rss.xml"/>
  </outline>
  <outline text="Middle East">
    <outline text="Gulf">
      <outline type="rss" text="الجزيرة" xmlUrl="https://aljazeera.example/ar/rss.xml" language="ar"/>
    </outline>
  </outline>
  <outline type="rss" text="Wire" xmlUrl="https://wire.example/feed"/>
  <outline text="Bad port" xmlUrl="http://bad.example:99999/feed"/>
</body></opml>"""


@pytest.fixture
def config(tmp_path):
    (tmp_path / "sources").mkdir()
    return write_config(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_opml_import_keeps_names_folders_and_languages_and_a_reimport_adds_nothing(tmp_path, config, capsys):
    opml = tmp_path / "desk.opml"
    opml.write_text(OPML, encoding="utf-8")
    code, out = run(capsys, "sources", "import-opml", str(opml), "--config", str(config))
    assert code == 0
    assert out.splitlines()[-1] == ("5 added, 0 already followed, 1 invalid: Bad port: feed URL "
                                    "'http://bad.example:99999/feed': port 99999 is out of range 1-65535")
    sources = {s.name: s for s in load_sources(tmp_path / "sources")}
    assert {name: (s.category, s.language, s.path.rsplit("/", 1)[1]) for name, s in sources.items()} == {
        "新华网": ("China", "zh", "xin-hua-wang.toml"),
        "环球时报": ("China", "zh", "huan-qiu-shi-bao.toml"),  # no language given: its script says
        "Военное обозрение": ("Russia", "ru", "voennoe-obozrenie.toml"),  # the folder's language
        "الجزيرة": ("Middle East / Gulf", "ar", "ljzyr.toml"),
        "Wire": ("", "en", "wire.toml"),
    }
    code, out = run(capsys, "sources", "import-opml", str(opml), "--config", str(config))
    assert code == 0 and out.splitlines()[-1].startswith("0 added, 5 already followed, 1 invalid")
    assert "wrote" not in out
    code, out = run(capsys, "sources", "list", "--config", str(config))
    assert "新华网  (zh, https://xinhua.example/)  [China]" in out
    assert "الجزيرة  (ar, )  [Middle East / Gulf]" in out


def test_an_outlet_whose_name_is_taken_gets_its_host_not_a_number(tmp_path, config, capsys):
    (tmp_path / "sources" / "xinhua.toml").write_text(
        'name = "新华网"\n[[feeds]]\nurl = "https://other.example/feed"\n', encoding="utf-8")
    opml = tmp_path / "desk.opml"
    opml.write_text(OPML, encoding="utf-8")
    assert run(capsys, "sources", "import-opml", str(opml), "--config", str(config))[0] == 0
    names = {s.name: s.path.rsplit("/", 1)[1] for s in load_sources(tmp_path / "sources")}
    assert names["新华网 (xinhua.example)"] == "xin-hua-wang-xinhua-example.toml"
    assert names["新华网"] == "xinhua.toml"


HOME = ("<!DOCTYPE html><html lang=\"ru\"><head><title>Военное обозрение — Главная</title>"
        '<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body><p>Новости</p></body></html>')
ARTICLE = ('<html lang="en"><head><title>Talks resume — Wire</title><meta property="og:type" content="article">'
           '<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body><article>x</article>'
           "</body></html>")
RSS = ('<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>'
       "<item><title>A</title><link>https://wire.example/a</link></item></channel></rss>")


def test_sources_add_decodes_undeclared_utf8_and_keeps_the_script(tmp_path, config, capsys):
    with LocalServer() as server:
        # UTF-8 bytes and no charset anywhere: lxml alone reads them as Latin-1
        server.route("/", Response(body=HOME.encode("utf-8"), headers={"Content-Type": "text/html"}))
        server.route("/rss.xml", Response(body=RSS, headers={"Content-Type": "application/rss+xml"}))
        code, out = run(capsys, "sources", "add", server.url("/"), "--config", str(config))
    assert code == 0, out
    (source,) = load_sources(tmp_path / "sources")
    assert source.name == "Военное обозрение" and source.language == "ru"
    assert source.path.endswith("voennoe-obozrenie.toml")


def test_sources_add_refuses_an_article_and_a_feed_already_followed(tmp_path, config, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with LocalServer() as server:
        server.route("/2026/03/talks", Response(body=ARTICLE, headers={"Content-Type": "text/html; charset=utf-8"}))
        server.route("/rss.xml", Response(body=RSS, headers={"Content-Type": "application/rss+xml"}))
        code, out = run(capsys, "sources", "add", server.url("/2026/03/talks"), "--config", str(config))
        assert code == 1
        assert f"is an article, not the outlet's homepage; the outlet's feed is {server.url('/rss.xml')}" in out
        assert run(capsys, "sources", "add", server.url("/rss.xml"), "--config", str(config))[0] == 0
        code, out = run(capsys, "sources", "add", server.url("/rss.xml"), "--name", "Wire again",
                        "--config", str(config))
    assert code == 1
    assert f"{server.url('/rss.xml')} is already followed by Wire: sources/wire.toml" in out
    assert len(load_sources(tmp_path / "sources")) == 1


def test_one_feed_in_two_source_files_stops_start_up(tmp_path, config, capsys):
    for name in ("Xinhua", "Xinhua English"):
        (tmp_path / "sources" / f"{name.lower().replace(' ', '-')}.toml").write_text(
            f'name = "{name}"\n\n[[feeds]]\nurl = "http://127.0.0.1:9/feed.xml"\n', encoding="utf-8")
    code, out = run(capsys, "sources", "list", "--config", str(config))
    assert code == 2
    # files are read in name order: xinhua-english.toml comes first
    assert (f"xinhua.toml:4: feeds: http://127.0.0.1:9/feed.xml is already followed by Xinhua English: "
            f"{tmp_path / 'sources' / 'xinhua-english.toml'}") in out


def test_a_mistyped_source_key_gets_a_suggestion(tmp_path, config, capsys):
    (tmp_path / "sources" / "wire.toml").write_text(
        'name = "Wire"\ncategroy = "News"\n\n[[feeds]]\nurl = "http://127.0.0.1:9/feed.xml"\n', encoding="utf-8")
    code, out = run(capsys, "sources", "list", "--config", str(config))
    assert code == 2 and "wire.toml:2: categroy: unknown key; did you mean 'category'?" in out


def test_every_broken_source_file_is_shown_at_once(tmp_path, config, capsys):
    (tmp_path / "sources" / "a.toml").write_text('name = ""\n[[feeds]]\nurl = "http://127.0.0.1:9/a"\n')
    (tmp_path / "sources" / "b.toml").write_text('name = "B"\nlanguage = "english"\n[[feeds]]\nurl = "http://127.0.0.1:9/b"\n')
    code, out = run(capsys, "sources", "list", "--config", str(config))
    assert code == 2
    assert [line.split("sources/")[1].split(": ")[0] for line in out.splitlines()] == ["a.toml:1", "b.toml:2"]
