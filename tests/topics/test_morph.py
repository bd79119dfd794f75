"""Matching that fits each script's morphology: one small topic per case, matched for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.topics.load import load_topic
from pipeline.topics.match import Matcher
from pipeline.topics.morph import strip_diacritics, strip_nukta
from pipeline.topics.text import sentence_starts


def matcher(tmp_path: Path, lang: str, terms: list[str]) -> Matcher:
    listed = ", ".join(f'"{t}"' for t in terms)
    path = tmp_path / "t.toml"
    path.write_text(
        f"""[topic]
id = "t"
[thresholds]
mention = 0.3
strong = 0.7
[groups.g]
{lang} = [{listed}]
[[rules]]
id = "r"
all = ["g"]
weight = 0.5
""",
        encoding="utf-8",
    )
    return Matcher(load_topic(path))


def found(m: Matcher, text: str) -> list[str]:
    return [text[h.start : h.end] for h in m.find(text)]


@pytest.mark.parametrize(
    ("lang", "term", "text", "expected"),
    [
        # Korean: the noun starts the eojeol; particles and endings follow
        ("ko", "미국", "미국과 중국은", ["미국"]),
        ("ko", "국방장관", "오스틴 국방장관은 밝혔다", ["국방장관"]),
        ("ko", "통화", "두 장관은 통화했다", ["통화"]),
        ("ko", "미 국방부", "미 국방부가 발표했다", ["미 국방부"]),
        # Korean: not inside another word; one syllable only as a whole eojeol
        ("ko", "국방", "한미국방", []),
        ("ko", "미", "미래 전략", []),
        ("ko", "미", "미 당국자", ["미"]),
        ("ko", "*국방장관", "미중국방장관 회담", ["국방장관"]),
        # Arabic clitics before, endings after; letter variants folded
        ("ar", "بنتاغون", "والبنتاغون أعلن", ["والبنتاغون"]),
        ("ar", "صين", "اتصال بالصين", ["بالصين"]),
        ("ar", "صين", "الصينية", ["الصينية"]),
        ("ar", "أمريكي", "الامريكي", ["الامريكي"]),
        ("ar", "صين", "حصين", []),
        # Persian/Urdu letters fold onto the Arabic ones
        ("fa", "آمریکا", "آمريكا", ["آمريكا"]),
        # Indonesian / Malay affixes
        ("id", "bicara", "pembicaraan kedua menteri", ["pembicaraan"]),
        ("id", "bicara", "Austin berbicara dengan Dong", ["berbicara"]),
        ("id", "militer", "militernya", ["militernya"]),
        ("id", "bicara", "abicarax", []),
        ("ms", "runding", "perundingan itu", ["perundingan"]),
        # Tagalog
        ("tl", "usap", "nag-usap sila", ["usap"]),
        # Slavic case endings
        ("ru", "Пентагон", "представитель Пентагона заявил", ["Пентагона"]),
        ("uk", "Пентагон", "з Пентагоном", ["Пентагоном"]),
        ("pl", "Chin", "minister obrony Chin", ["Chin"]),
        ("pl", "Chin", "z Chinami", ["Chinami"]),
        ("pl", "Pentagon", "Pentagonowi", ["Pentagonowi"]),
        ("pl", "Chin", "Chinatown", []),  # not a case ending
        # Turkish endings
        ("tr", "görüşme", "görüşmesinde", ["görüşmesinde"]),
        ("tr", "Çin", "Çinçilla", []),
        ("tr", "görüşme", "görüşmede", ["görüşmede"]),
        # Hindi: endings after, with or without nukta, either Unicode form
        ("hi", "वार्ता", "वार्ताओं के बाद", ["वार्ताओं"]),
        ("hi", "फ़ोन", "फोन पर बात", ["फोन"]),
        ("hi", "फ़ोन", "फ\u093cोन पर", ["फ\u093cोन"]),
        ("hi", "वार्ता", "वार्तालाप", []),
        ("hi", "रक्षा", "रक्षात्मक", []),  # a vowel sign or conjunct continues the word
        # Vietnamese: with and without diacritics (several syllables only)
        ("vi", "Trung Quốc", "Trung Quốc cho biết", ["Trung Quốc"]),
        ("vi", "Trung Quốc", "Trung Quoc cho biet", ["Trung Quoc"]),
        ("vi", "Mỹ", "my friend", []),
        # Thai: no word boundaries
        ("th", "จีน", "รัฐมนตรีกลาโหมจีนหารือ", ["จีน"]),
        # English plural still automatic, and nothing glued in front
        ("en", "talk", "talks", ["talks"]),
        ("en", "talk", "stalk", []),
    ],
)
def test_terms_bend_as_their_language_does(tmp_path: Path, lang: str, term: str, text: str, expected: list) -> None:
    assert found(matcher(tmp_path, lang, [term]), text) == expected


def test_helpers() -> None:
    assert strip_diacritics("Đổng Quân") == "Dong Quan"
    assert strip_nukta("फ़ोन") == "फोन"


@pytest.mark.parametrize(
    ("text", "count"),
    [("यह पहला वाक्य है। यह दूसरा है।", 2), ("یہ پہلا جملہ ہے۔ یہ دوسرا ہے۔", 2), ("هل تحدثا؟ نعم.", 2)],
)
def test_sentences_end_at_danda_urdu_stop_and_arabic_question_mark(text: str, count: int) -> None:
    assert len(sentence_starts(text)) == count


@pytest.mark.parametrize(
    ("terms", "text", "expected"),
    [
        (["Australia", "australi*"], "el ministro australiano habló", ["australiano"]),
        (["telefonato a", "telefonato"], "ha telefonato al generale", ["telefonato"]),
        (["Pentagon chief", "Pentagon"], "the Pentagon chiefly said", ["Pentagon"]),
    ],
)
def test_a_shorter_term_still_matches_where_the_longest_one_is_not_a_whole_word(
    tmp_path: Path, terms: list[str], text: str, expected: list[str]
) -> None:
    """The automaton reports the longest key at a position; when that key stops inside a word,
    a shorter term it starts with is still looked at instead of the position being given up."""
    assert found(matcher(tmp_path, "en", terms), text) == expected
