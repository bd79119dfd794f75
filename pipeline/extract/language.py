"""Cheap language guess for pages that do not declare one: the script first, then stop words.

Only a fallback behind <html lang> and <meta> declarations, so it favours speed and the languages
news sources actually publish in over coverage; it answers None rather than guess wildly.
"""

from __future__ import annotations

import re
from functools import lru_cache

from justext import get_stoplist

SAMPLE_CHARS = 1500
# justext ships stop-word lists by language name; these are the Latin-script languages we tell apart
_STOPLIST_CODES = {
    "English": "en", "German": "de", "French": "fr", "Spanish": "es", "Portuguese": "pt", "Italian": "it",
    "Dutch": "nl", "Polish": "pl", "Turkish": "tr", "Indonesian": "id", "Swedish": "sv", "Czech": "cs",
    "Romanian": "ro", "Hungarian": "hu", "Danish": "da", "Norwegian_Bokmal": "no", "Finnish": "fi",
    "Vietnamese": "vi", "Croatian": "hr",
}  # fmt: skip
# Unicode blocks per script, counted with C-speed regexes rather than a Python loop over characters
_SCRIPTS = {
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "han": re.compile(r"[\u3400-\u9fff\uf900-\ufaff]"),
    "ko": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "he": re.compile(r"[\u0590-\u05ff]"),
    "el": re.compile(r"[\u0370-\u03ff]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
    "hi": re.compile(r"[\u0900-\u097f]"),
}
# Persian and Urdu are written in Arabic script with letters Arabic does not use: Persian and Urdu
# yeh and keheh (ی ک, where Arabic writes ي ك) and پ چ ژ گ; Urdu alone adds ٹ ڈ ڑ ں ھ ہ ے.
_PERSIAN_OR_URDU = re.compile(r"[\u067e\u0686\u0698\u06a9\u06af\u06cc]")
_URDU_ONLY = re.compile(r"[\u0679\u0688\u0691\u06ba\u06be\u06c1\u06d2\u06d3]")
_UKRAINIAN_LETTERS = set("іїєґІЇЄҐ")
_RUSSIAN_LETTERS = set("ыэъЫЭЪ")
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _stoplists() -> dict[str, frozenset[str]]:
    return {code: frozenset(get_stoplist(name)) for name, code in _STOPLIST_CODES.items()}


def detect_language(text: str) -> str | None:
    sample = text[:SAMPLE_CHARS]
    counts = {script: len(pattern.findall(sample)) for script, pattern in _SCRIPTS.items()}
    total = sum(counts.values())
    if not total:
        return None
    # Japanese mixes kana into kanji; a Chinese text has none
    if counts["kana"] and counts["kana"] >= 0.05 * total:
        return "ja"
    script = max(counts, key=counts.__getitem__)
    if script in {"han", "kana"}:
        return "zh"
    if script == "cyrillic":
        letters = set(sample)
        if letters & _UKRAINIAN_LETTERS and not letters & _RUSSIAN_LETTERS:
            return "uk"
        return "ru"
    if script == "ar":
        return _arabic_script_language(sample, counts["ar"])
    if script != "latin":
        return script
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return None
    scores = {code: sum(w in stops for w in words) for code, stops in _stoplists().items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= max(3, len(words) // 10) else None


def _arabic_script_language(sample: str, letters: int) -> str:
    """ar, fa or ur by the letters only Persian and Urdu use (a few per cent of their text; an
    Arabic text has none but the odd foreign name)."""
    floor = max(2, letters // 50)
    if len(_URDU_ONLY.findall(sample)) >= floor:
        return "ur"
    if len(_PERSIAN_OR_URDU.findall(sample)) >= floor:
        return "fa"
    return "ar"
