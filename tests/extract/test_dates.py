"""Dates keep their time zone: abbreviations read in the outlet's context, a source's `timezone`."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import ConfigError
from pipeline.extract import extract_article
from pipeline.extract.dates import DateContext, parse_date, resolve_abbreviation, source_context
from pipeline.feeds.sources import load_source
from pipeline.models import ExtractionRules

BODY = "".join(
    f"<p>Paragraph {n}: the two delegations met for three hours and agreed to keep the hotline open.</p>"
    for n in range(1, 5)
)


def page(date_line: str, lang: str = "en", head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><title>Hotline talks</title>{head}</head><body>"
        f"<article><h1>Hotline talks</h1><p class='date'>{date_line}</p>{BODY}</article></body></html>"
    )


def published(html: str, url: str | None = None, rules: ExtractionRules | None = None) -> datetime:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an abbreviation dateutil does not understand must not slip by
        article = extract_article(html, url, rules)
    assert article.published is not None, "no date found"
    assert article.published.tzinfo is not None and article.published.utcoffset() is not None
    return article.published


def offset(hours: float) -> timedelta:
    return timedelta(hours=hours)


@pytest.mark.parametrize(
    ("date_line", "lang", "hours", "local"),
    [
        ("December 1, 2023, 10:05 a.m. EST", "en-US", -5, "2023-12-01T10:05"),
        ("July 4, 2023 at 9:30 PM EDT", "en-US", -4, "2023-07-04T21:30"),
        ("Dec 1, 2023 10:05 CST", "en-US", -6, "2023-12-01T10:05"),
        ("Jul 4, 2023 10:05 CDT", "en-US", -5, "2023-07-04T10:05"),
        ("Dec 1, 2023 8:00 PST", "en-US", -8, "2023-12-01T08:00"),
        ("Jul 4, 2023 8:00 PDT", "en-US", -7, "2023-07-04T08:00"),
        ("Dec 1, 2023 10:05 CST", "zh-CN", 8, "2023-12-01T10:05"),  # China Standard Time on a Chinese page
        ("Dec 1, 2023 10:05 CST", "zh", 8, "2023-12-01T10:05"),
        ("Dec 1, 2023 10:05 BJT", "en", 8, "2023-12-01T10:05"),
        ("1 December 2023 18:05 HKT", "en-HK", 8, "2023-12-01T18:05"),
        ("1 December 2023 18:05 JST", "ja", 9, "2023-12-01T18:05"),
        ("1 December 2023 18:05 KST", "ko", 9, "2023-12-01T18:05"),
        ("1 December 2023 18:05 IST", "en-IN", 5.5, "2023-12-01T18:05"),
        ("1 December 2023 18:05 IST", "he", 2, "2023-12-01T18:05"),
        ("1 December 2023 18:05 GMT", "en-GB", 0, "2023-12-01T18:05"),
        ("4 July 2023 18:05 BST", "en-GB", 1, "2023-07-04T18:05"),
        ("1 December 2023 18:05 CET", "de", 1, "2023-12-01T18:05"),
        ("4 July 2023 18:05 CEST", "de", 2, "2023-07-04T18:05"),
        ("1 December 2023 18:05 MSK", "ru", 3, "2023-12-01T18:05"),
        ("1 December 2023 18:05 EET", "uk", 2, "2023-12-01T18:05"),
        ("4 July 2023 18:05 EEST", "uk", 3, "2023-07-04T18:05"),
        ("1 December 2023 18:05 (GMT+3)", "en", 3, "2023-12-01T18:05"),
    ],
)
def test_visible_date_keeps_its_zone(date_line: str, lang: str, hours: float, local: str) -> None:
    value = published(page(date_line, lang))
    assert value.utcoffset() == offset(hours)
    assert value.replace(tzinfo=None) == datetime.fromisoformat(local)  # the clock time was read too


def test_the_instant_is_right_not_only_the_offset() -> None:
    value = published(page("Dec 1, 2023 10:05 CST", "zh-CN"))
    assert value.astimezone(UTC) == datetime(2023, 12, 1, 2, 5, tzinfo=UTC)


def test_cst_follows_a_chinese_country_domain_when_the_page_declares_no_language() -> None:
    html = page("Dec 1, 2023 10:05 CST").replace(" lang='en'", "")
    assert published(html, "https://news.example.cn/a/1.html").utcoffset() == offset(8)
    assert published(html, "https://news.example.com/a/1.html").utcoffset() == offset(-6)


def test_source_timezone_places_times_that_give_none() -> None:
    head = '<meta property="article:published_time" content="2023-12-01T10:05:00">'
    rules = ExtractionRules(timezone="Asia/Shanghai")
    assert published(page("", head=head), rules=rules) == datetime(2023, 12, 1, 2, 5, tzinfo=UTC)
    assert published(page("", head=head)).utcoffset() == timedelta(0)  # no timezone key: UTC


def test_source_timezone_gives_json_ld_and_written_dates_their_zone() -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "Hotline talks", "datePublished": "2023-07-04 09:00"})
    head = f'<script type="application/ld+json">{ld}</script>'
    rules = ExtractionRules(timezone="America/New_York")
    assert published(page("", head=head), rules=rules).utcoffset() == offset(-4)  # summer: EDT
    assert published(page("Dec 1, 2023"), rules=rules).utcoffset() == offset(-5)  # a date alone: local day


def test_source_timezone_settles_an_abbreviation_it_uses_itself() -> None:
    # an American outlet's "CST" in a zone whose own abbreviation it is, whatever the page language
    rules = ExtractionRules(timezone="America/Chicago")
    assert published(page("Dec 1, 2023 10:05 CST", "zh"), rules=rules).utcoffset() == offset(-6)
    shanghai = ExtractionRules(timezone="Asia/Shanghai")
    assert published(page("Dec 1, 2023 10:05 CST", "en"), rules=shanghai).utcoffset() == offset(8)


def test_numeric_offsets_and_unknown_names() -> None:
    assert parse_date("Dec 1, 2023 10:05 +0800").utcoffset() == offset(8)
    assert parse_date("2019-11-20 14:53 GMT+3").utcoffset() == offset(3)  # not POSIX's UTC-3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unknown = parse_date("Dec 1, 2023 10:05 QQT", source_context("MDY", "Asia/Tokyo"))
    assert unknown is not None and unknown.utcoffset() == offset(9)  # unknown name: the source's zone
    assert resolve_abbreviation("QQT", DateContext()) is None


def test_generic_us_names_follow_daylight_saving_time() -> None:
    assert parse_date("July 1, 2023 3:45 PM ET").utcoffset() == offset(-4)
    assert parse_date("January 1, 2023 3:45 PM ET").utcoffset() == offset(-5)


def test_no_date_comes_back_naive() -> None:
    for text in ("Dec 1, 2023", "2023-12-01T10:00:00", "01/12/2023 10:00", "Friday 1 December 2023 10:00 XYZ"):
        value = parse_date(text)
        assert value is not None and value.tzinfo is not None, text


def write_source(tmp_path, timezone_line: str):
    file = tmp_path / "outlet.toml"
    file.write_text(f'name = "Outlet"\nlanguage = "zh"\n{timezone_line}\n[[feeds]]\nurl = "https://o.example/rss"\n')
    return file


def test_source_file_timezone_key_reaches_the_extraction_rules(tmp_path) -> None:
    source = load_source(write_source(tmp_path, 'timezone = "Asia/Shanghai"'))
    assert source.rules.timezone == "Asia/Shanghai"
    assert load_source(write_source(tmp_path, "")).rules.timezone is None


@pytest.mark.parametrize("value", ['"China/Beijing"', '"CST"', "8", '""', '" Asia/Shanghai"'])
def test_bad_timezone_key_is_one_config_error_with_file_line_and_key(tmp_path, value: str) -> None:
    file = write_source(tmp_path, f"timezone = {value}")
    with pytest.raises(ConfigError) as caught:
        load_source(file)
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(file), 3, "timezone")
    assert "IANA time zone" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize(
    ("line", "lang", "expected"),
    [
        ("기사입력 : 2023-12-01 17:32", "ko", datetime(2023, 12, 1, 8, 32, tzinfo=UTC)),  # KST from the page
        ("Publié le 01/12/2023 à 18:05", "fr", datetime(2023, 12, 1, 18, 5, tzinfo=UTC)),
        ("December 1, 2023 - 11:28 EST", "en", datetime(2023, 12, 1, 16, 28, tzinfo=UTC)),
    ],
)
def test_a_labelled_date_line_leaves_the_text_and_dates_the_article(line: str, lang: str, expected: datetime) -> None:
    rules = ExtractionRules(date_order="DMY", timezone="Asia/Seoul" if lang == "ko" else None)
    article = extract_article(page(line, lang), rules=rules)
    assert line not in article.text
    assert article.published == expected


def test_a_line_that_lists_a_date_among_other_words_stays() -> None:
    line = "2023.12.01 ~ OPEN RUN at the harbour theatre"
    article = extract_article(page(line))
    assert line in article.text.split("\n\n")
