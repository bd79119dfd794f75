"""The beat in 22 languages: per-language floors on our own set, third-country precision per
language, and `newswatch classify` run as the real CLI on reports written for the test."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from config_helpers import write_config

from pipeline.config import bundled_topic
from pipeline.topics import Tagger, load_topics

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE_SET = ROOT / "bench" / "data" / "tagging"
ACCEPTANCE = ROOT / "tests" / "data" / "classify" / "acceptance.jsonl"
TOPIC = "us-china-milcomm"
LANGUAGES = ["en", "zh", "ja", "ko", "vi", "hi", "ar", "fa", "ur", "th", "id", "ms", "tl", "tr",
             "ru", "uk", "pl", "fr", "de", "es", "pt", "it"]  # fmt: skip
TUNED_ON = ("dev", "heldout")
THIRD_COUNTRY_NOTES = {"US-Japan", "US-Philippines", "China-Russia"}


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_topics([bundled_topic(TOPIC)]))


def rows(lang: str) -> list[dict]:
    path = LANGUAGE_SET / f"{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tagged(tagger: Tagger, row: dict) -> bool:
    return any(t.topic == TOPIC for t in tagger.tag(row["title"], row["text"], row["lang"]))


def test_every_language_has_its_own_set_of_ten_positives_and_ten_hard_negatives() -> None:
    assert sorted(p.stem for p in LANGUAGE_SET.glob("*.jsonl")) == sorted(LANGUAGES)
    ids = set()
    for lang in LANGUAGES:
        items = rows(lang)
        assert sum(r["label"] for r in items) >= 10 and sum(not r["label"] for r in items) >= 10, lang
        for r in items:
            assert set(r) == {"id", "lang", "part", "label", "level", "title", "text", "note"}
            assert r["lang"] == lang and r["part"] in ("dev", "heldout", "heldout2") and r["id"] not in ids
            ids.add(r["id"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_language_floor_on_the_parts_tuned_on(tagger: Tagger, lang: str) -> None:
    """P >= 0.97 and R >= 0.95 per language on the parts the rules were tuned on: "dev", and the
    first held-out part "heldout", whose misses were fixed at their cause. The newest held-out part
    ("heldout2", written after those fixes) is measured by bench/tagging.py and reported, not
    asserted: it exists to tell the truth."""
    counts: dict[str, int] = defaultdict(int)
    for row in rows(lang):
        if row["part"] not in TUNED_ON:
            continue
        guess = tagged(tagger, row)
        counts["tp"] += row["label"] and guess
        counts["fp"] += (not row["label"]) and guess
        counts["fn"] += row["label"] and not guess
    precision = counts["tp"] / max(1, counts["tp"] + counts["fp"])
    recall = counts["tp"] / max(1, counts["tp"] + counts["fn"])
    assert precision >= 0.97 and recall >= 0.95, f"{lang}: P={precision:.3f} R={recall:.3f} {dict(counts)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_third_country_defence_talks_naming_the_other_side_are_not_tagged(tagger: Tagger, lang: str) -> None:
    """US–Japan / US–Philippines / China–Russia defence talks that name China or the US."""
    third = [r for r in rows(lang) if r["note"] in THIRD_COUNTRY_NOTES or r["note"].startswith(("US-", "China-"))]
    third = [r for r in third if not r["label"] and r["part"] in TUNED_ON]
    assert len(third) >= 2, f"{lang}: the set needs third-country negatives"
    wrongly = [r["title"] for r in third if tagged(tagger, r)]
    assert not wrongly, f"{lang}: tagged {wrongly}"


def test_classify_cli_tags_five_languages_calls_and_none_of_their_hard_negatives(tmp_path: Path) -> None:
    """Acceptance: the real CLI on a Korean, Vietnamese, Hindi, Arabic and Indonesian report of a
    US–China defence ministers' call, and five hard negatives in the same languages."""
    config = write_config(tmp_path)
    (tmp_path / "sources").mkdir()
    items = [json.loads(line) for line in ACCEPTANCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert sorted({i["language"] for i in items}) == ["ar", "hi", "id", "ko", "vi"]
    assert sum(i["expect"] for i in items) == 5 and sum(not i["expect"] for i in items) == 5
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "classify", "-", "--config", str(config)],
        input=ACCEPTANCE.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = {line["id"]: line for line in map(json.loads, done.stdout.splitlines())}
    for item in items:
        topics = [t["topic"] for t in out[item["id"]]["tags"]]
        assert (TOPIC in topics) == item["expect"], (item["id"], out[item["id"]])


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Philippine standoff looms over Singapore security forum",
            "Lloyd Austin met Dong Jun for 75 minutes on the sidelines of the forum on Friday.",
        ),
        (
            "Milley tells senators of calls to Beijing",
            "Testifying before the Senate, Gen. Mark Milley said he had phoned Gen. Li Zuocheng twice to "
            "calm fears of an American attack.",
        ),
    ],
)
def test_the_two_english_misses_of_the_hidden_set_kind_are_tagged(tagger: Tagger, title: str, text: str) -> None:
    """Defence chiefs meeting where a third country is in the headline; a chairman's testimony."""
    assert tagged(tagger, {"title": title, "text": text, "lang": "en"})
