"""Metadata from JSON-LD, OpenGraph, meta tags and what the reader sees."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from pipeline.extract import extract_article
from pipeline.extract.dates import DateContext
from pipeline.extract.metadata import parse_byline, parse_date
from pipeline.models import ExtractionRules

BODY = "".join(
    f"<p>Paragraph {n}: the delegations met for three hours and agreed to keep the hotline open.</p>"
    for n in range(1, 5)
)


def page(head: str = "", before_body: str = "", lang: str = "") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return (
        f"<!DOCTYPE html><html{lang_attr}><head><title>Talks resume | Example News</title>{head}</head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Talks resume</h1>{before_body}{BODY}</article>"
        "</body></html>"
    )


def test_json_ld_article_fields() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Example News"},
            {
                "@type": "NewsArticle",
                "headline": "Defense talks resume after a year",
                "author": [{"@type": "Person", "name": "Ann Lee"}, {"@type": "Person", "name": "Bo Chen"}],
                "datePublished": "2023-12-01T09:30:00+02:00",
                "image": {"@type": "ImageObject", "url": "https://example.org/img/talks.jpg"},
                "inLanguage": "en-GB",
            },
        ],
    }
    article = extract_article(page(f'<script type="application/ld+json">{json.dumps(ld)}</script>'))

    assert article.title == "Defense talks resume after a year"
    assert article.authors == ["Ann Lee", "Bo Chen"]
    assert article.published == datetime(2023, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert article.image == "https://example.org/img/talks.jpg"
    assert article.language == "en"


def test_broken_json_ld_is_ignored() -> None:
    article = extract_article(page('<script type="application/ld+json">{"@type": "NewsArticle", </script>'))

    assert article.title == "Talks resume"
    assert "Paragraph 1" in article.text


def test_opengraph_fields_and_relative_urls() -> None:
    head = (
        '<meta property="og:title" content="OG headline">'
        '<meta property="og:image" content="/img/og.png">'
        '<meta property="article:published_time" content="2023-12-01T08:00:00Z">'
        '<meta property="og:locale" content="uk_UA">'
        '<link rel="canonical" href="/news/talks-resume">'
    )
    article = extract_article(page(head), url="https://example.org/news/talks-resume?utm=x")

    assert article.title == "OG headline"
    assert article.image == "https://example.org/img/og.png"
    assert article.published == datetime(2023, 12, 1, 8, 0, tzinfo=UTC)
    assert article.canonical_url == "https://example.org/news/talks-resume"
    assert article.language == "uk"


def test_plain_meta_tags() -> None:
    head = '<meta name="author" content="Maria Garcia"><meta name="date" content="2023-11-30">'
    article = extract_article(page(head, lang="es-ES"))

    assert article.authors == ["Maria Garcia"]
    assert article.published == datetime(2023, 11, 30, tzinfo=UTC)
    assert article.language == "es"
    assert article.title == "Talks resume"  # the site name after " | " is not part of the title


def test_visible_byline_and_written_out_date() -> None:
    before = '<div class="byline">By John Smith</div><div class="date">Dec 1, 2023</div>'
    article = extract_article(page(before_body=before))

    assert article.authors == ["John Smith"]
    assert article.published == datetime(2023, 12, 1, tzinfo=UTC)
    assert "John Smith" not in article.text
    assert "Dec 1" not in article.text


def test_numeric_date_follows_the_source_date_order() -> None:
    before = '<span class="post-date">02/12/2023</span>'

    dmy = extract_article(page(before_body=before), rules=ExtractionRules(date_order="DMY"))
    mdy = extract_article(page(before_body=before))

    assert dmy.published == datetime(2023, 12, 2, tzinfo=UTC)
    assert mdy.published == datetime(2023, 2, 12, tzinfo=UTC)


def test_language_is_detected_when_undeclared() -> None:
    body = "".join(
        "<p>Die Delegationen trafen sich am Dienstag und sprachen über die Sicherheit in der Region.</p>"
        for _ in range(4)
    )
    article = extract_article(
        f"<html><head><title>Gespräche</title></head><body><article>{body}</article></body></html>"
    )

    assert article.language == "de"


def test_parse_byline() -> None:
    assert parse_byline("Author - Serhii Kolomiets, 02/12/2023", DateContext("DMY")) == (
        ["Serhii Kolomiets"],
        datetime(2023, 12, 2, tzinfo=UTC),
    )
    assert parse_byline("By Ann Lee and Bo Chen") == (["Ann Lee", "Bo Chen"], None)
    assert parse_byline("By contrast, the talks went well") is None
    assert parse_byline("By the end of the year nothing had changed") is None


def test_parse_date_is_always_timezone_aware() -> None:
    assert parse_date("Dec 1, 2023") == datetime(2023, 12, 1, tzinfo=UTC)
    assert parse_date("2023-12-01T10:00:00-05:00").utcoffset() == timedelta(hours=-5)
    assert parse_date("not a date") is None
    assert parse_date("") is None


def test_iso_dates_are_not_reread_day_first():
    # dateutil's dayfirst turns 2023-12-01 into 12 January; a DMY source's ISO metadata must not suffer
    assert parse_date("2023-12-01T18:05:00+02:00", DateContext("DMY")).isoformat() == "2023-12-01T18:05:00+02:00"
    assert parse_date("01/12/2023", DateContext("DMY")).date().isoformat() == "2023-12-01"
