"""Korean words found inside sentences (issue 20): `/search?q=` and `newswatch search` find 국방장관
inside 국방장관은 and 통화 inside 통화했다, through a served reading room and the command line."""

from __future__ import annotations

from digest_helpers import Newsroom, utc, write_config
from web_helpers import http_get, serving

from pipeline.cli import main
from pipeline.store import Store

TITLE = "미 국방장관, 중국 측과 화상 통화"
TEXT = "미국 국방장관은 중국 국방부장과 화상으로 통화했다. 양측은 군사 소통 채널을 유지하기로 했다."


def test_search_finds_korean_words_with_particles_glued_on(tmp_path, capsys):
    (tmp_path / "sources").mkdir()  # serve checks the sources folder; this test needs none
    config = write_config(tmp_path)
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("koreawire")
        room.add("koreawire", "call", TITLE, TEXT, seen=utc(2024, 3, 12, 7), evidence=TEXT.split(". ")[0],
                 terms=("국방장관", "통화"))
        room.add("koreawire", "trade", "무역 협상 재개", "양국 무역대표는 관세 문제를 논의했다.",
                 seen=utc(2024, 3, 12, 8), evidence="양국 무역대표는 관세 문제를 논의했다.", terms=("무역",))
    with serving(tmp_path / "config.toml") as base:
        for word in ("국방장관", "통화", "소통 채널"):
            page = http_get(base + "/search", params={"q": word}).text
            assert TITLE in page and "무역 협상 재개" not in page, word
            assert "1 result" in page
        marked = http_get(base + "/search", params={"q": "국방장관"}).text
        assert "<mark>국방장관</mark>은" in marked  # one marked run, the particle outside it, as written
        assert "무역 협상 재개" in http_get(base + "/search", params={"q": "논의"}).text
    assert config.db_path == tmp_path / "x.db"
    assert main(["search", "--config", str(tmp_path / "config.toml"), "통화"]) == 0
    out = capsys.readouterr().out
    assert TITLE in out and "[통화]했다" in out and "무역" not in out
