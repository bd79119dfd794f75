"""The two seed stories the project started from (../shared/seeds/, read at test time, never copied).

The seeds are the text a reader saw on the two sites, furniture included, one block per line. Each
test lays those lines out as one flat column of paragraphs under the headline, the hardest layout
for the extractor (no <nav> or <aside> to give the furniture away), and checks that the cleaner
drops every furniture line the seeds are known for while keeping every paragraph of the story, and
that the metadata shown on the page (title, date, author) is read.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path

import pytest

from pipeline.extract import extract_article
from pipeline.models import ExtractionRules

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
SEED_PORTAL = "000_b061b12d1e4ea110.txt"  # news-agency layout: "< Back", date line, author line
SEED_BLOG = "004_8f1305e0207b19aa.txt"  # WordPress layout: search box, captions, teasers, comment form

# What shared/README.md says the cleaner must remove from the seeds (prefixes of whole lines).
FURNITURE = (
    "< Back",
    "Recent news",
    "Connect with us",
    "Hi, what are you looking for?",
    "Photo from Google",
    "READ ALSO:",
    "Click to comment",
    "Leave a Reply",
    "Your email address will not be published",
    "Author - ",
)
PROSE_WORDS = 12  # a line this long that is not furniture is a paragraph of the story


def seed_lines(name: str) -> list[str]:
    path = SEEDS / name
    if not path.is_file():
        pytest.skip(f"seed story {path} is not there (the shared folder sits beside the project checkout)")
    return [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]


def as_page(lines: list[str], title: str) -> str:
    blocks = "".join(
        f"<h1>{html.escape(line)}</h1>" if line == title else f"<p>{html.escape(line)}</p>" for line in lines
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><div class='content'>{blocks}</div></body></html>"
    )


def story_paragraphs(lines: list[str], title: str) -> list[str]:
    return [
        line for line in lines if len(line.split()) >= PROSE_WORDS and not line.startswith(FURNITURE) and line != title
    ]


def check_story(lines: list[str], title: str, text: str) -> None:
    paragraphs = text.split("\n\n")
    for line in lines:
        if line.startswith(FURNITURE):
            assert line not in paragraphs, f"furniture kept: {line!r}"
            assert not any(p.startswith(line[:20]) for p in paragraphs), f"furniture kept: {line!r}"
    assert title not in paragraphs  # the headline is metadata, not the first paragraph
    for line in story_paragraphs(lines, title):
        assert line in paragraphs, f"story paragraph lost: {line[:60]!r}"


def test_portal_seed_keeps_the_story_drops_the_furniture_and_reads_date_and_author() -> None:
    lines = seed_lines(SEED_PORTAL)
    title = "The Ministry of Defense of China is ready to cooperate with the USA"
    assert title in lines
    article = extract_article(as_page(lines, title), "https://agency.example/news/1", ExtractionRules(date_order="DMY"))

    check_story(lines, title, article.text)
    assert article.title == title
    assert article.published is not None and article.published.tzinfo is not None
    assert article.published.date() == date(2023, 12, 1)  # the date line under the headline
    assert article.authors == ["Serhii Kolomiets"]  # from the author line, which leaves the text
    assert "Dec 1, 2023" not in article.text.split("\n\n")


def test_blog_seed_keeps_the_story_and_its_subheadings_and_drops_the_furniture() -> None:
    lines = seed_lines(SEED_BLOG)
    title = "Pentagon Summit: US and Chinese Officials Convene for Talks on Bilateral Relations"
    assert title in lines
    article = extract_article(as_page(lines, title), "https://blog.example/2023/12/pentagon-summit/")

    check_story(lines, title, article.text)
    paragraphs = article.text.split("\n\n")
    assert article.title == title
    assert "US-China Talks: Pentagon Affirms Regularity Amid PRC’s 2022 Postponement" in paragraphs
    assert "US-China" not in paragraphs  # the category label above the headline
    assert paragraphs[-1].endswith("between the two nations.")
