"""Charset handling: header, BOM, meta, detection, and declarations that lie."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from pipeline.extract import extract_article
from pipeline.fetch import decode_html

ENCODINGS = Path(__file__).parents[1] / "fixtures" / "extract" / "encodings"


@pytest.mark.parametrize(
    ("name", "content_type", "language", "phrase"),
    [
        ("uk_windows1251.html", None, "uk", "Сьогодні вранці у нашому місті відкрили нову бібліотеку"),
        ("ru_windows1251_undeclared.html", None, "ru", "В субботу в городском парке прошёл"),
        ("zh_gbk.html", None, "zh", "本市今天开通了一条新的公交线路"),
        ("zh_big5.html", "text/html; charset=big5", "zh", "本市今天舉辦了一場傳統市集"),
        ("ja_shift_jis.html", None, "ja", "今日、町の図書館で子ども向けの読書会が開かれました。"),
        ("ru_declared_latin1.html", None, "ru", "Организаторы подсчитали"),
    ],
)
def test_fixture_pages_come_out_readable(name: str, content_type: str | None, language: str, phrase: str) -> None:
    article = extract_article((ENCODINGS / name).read_bytes(), content_type=content_type)

    assert phrase in article.text
    assert "\ufffd" not in article.text
    assert article.language == language
    assert article.title and article.title not in article.text.split("\n\n")


def test_big5_without_header_is_detected() -> None:
    text = decode_html((ENCODINGS / "zh_big5.html").read_bytes(), None)

    assert "傳統市集吸引大量民眾" in text


def test_header_charset_beats_meta() -> None:
    data = '<html><head><meta charset="utf-8"></head><body><p>Привіт, світе</p></body></html>'.encode("cp1251")

    assert "Привіт, світе" in decode_html(data, "text/html; charset=windows-1251")


def test_bom_beats_a_wrong_meta() -> None:
    data = codecs.BOM_UTF8 + '<html><head><meta charset="iso-8859-1"></head><body>café</body></html>'.encode()

    text = decode_html(data, None)

    assert "café" in text
    assert not text.startswith("\ufeff")


def test_utf16_with_bom() -> None:
    data = "<html><body><p>Ünïcödé text</p></body></html>".encode("utf-16")

    assert "Ünïcödé text" in decode_html(data, None)


def test_latin1_label_on_utf8_bytes_loses_to_utf8() -> None:
    data = '<html><head><meta charset="windows-1252"></head><body>Zürich café naïve</body></html>'.encode()

    assert "Zürich café naïve" in decode_html(data, "text/html; charset=ISO-8859-1")


def test_wrong_header_charset_loses_to_detection() -> None:
    page = "<html><body>" + "<p>Министерство обороны заявило о готовности к сотрудничеству.</p>" * 5
    data = (page + "</body></html>").encode("cp1251")

    assert "Министерство обороны" in decode_html(data, "text/html; charset=utf-8")


def test_unknown_charset_label_is_ignored() -> None:
    data = "<html><body>plain ascii and é</body></html>".encode()

    assert "plain ascii and é" in decode_html(data, "text/html; charset=x-no-such-charset")


def test_str_passes_through_and_empty_bytes_give_empty_text() -> None:
    assert decode_html("<p>already text</p>", "text/html; charset=big5") == "<p>already text</p>"
    assert decode_html(b"", None) == ""
