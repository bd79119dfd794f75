"""Article text extraction: seed layouts, non-articles, bad input, per-source rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.extract import extract_article, learn_boilerplate, parse_rules
from pipeline.extract.mainblock import find_main_block
from pipeline.extract.parse import parse_html
from pipeline.models import ExtractionRules

FIXTURES = Path(__file__).parents[1] / "fixtures" / "extract"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def expected(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8").strip()


def test_seed1_ukrinform_layout_yields_exactly_the_article_body() -> None:
    article = extract_article(fixture("seed1_ukrinform_like.html"), url="https://news.example/eng/1")

    assert article.text == expected("seed1_ukrinform_like.expected.txt")
    assert article.title == "The Ministry of Defense of China is ready to cooperate with the USA"
    assert article.authors == ["Serhii Kolomiets"]
    assert article.published == datetime(2023, 12, 1, tzinfo=UTC)  # the visible date line
    assert article.language == "en"
    assert article.reason is None


def test_seed1_author_line_goes_to_metadata_not_text() -> None:
    article = extract_article(fixture("seed1_ukrinform_like.html"))

    assert "Author" not in article.text
    for boilerplate in ("< Back", "Recent news", "Connect with us", "Dec 1, 2023", "Politics"):
        assert boilerplate not in article.text


def test_seed2_wordpress_layout_yields_exactly_the_article_body() -> None:
    article = extract_article(fixture("seed2_wordpress_news.html"))

    assert article.text == expected("seed2_wordpress_news.expected.txt")
    assert article.title == "Pentagon Summit: US and Chinese Officials Convene for Talks on Bilateral Relations"


def test_seed2_keeps_subheadings_and_drops_teasers_captions_and_comment_form() -> None:
    text = extract_article(fixture("seed2_wordpress_news.html")).text
    paragraphs = text.split("\n\n")

    assert "US-China Talks: Pentagon Affirms Regularity Amid PRC’s 2022 Postponement" in paragraphs
    assert paragraphs[0].startswith("It was stated on Tuesday")
    assert paragraphs[-1].endswith("between the two nations.")
    for boilerplate in ("READ ALSO", "Photo from Google", "Click to comment", "Leave a Reply",
                        "Hi, what are you looking for?", "Your email address"):  # fmt: skip
        assert boilerplate not in text
    assert "US-China" not in paragraphs  # the category label above the title


def test_section_front_yields_empty_text_not_the_menu() -> None:
    article = extract_article(fixture("section_front.html"))

    assert article.text == ""
    assert article.reason
    assert article.empty


@pytest.mark.parametrize(
    "html",
    [
        b"",
        "",
        b"   \n ",
        b"\x00\xff\xfe\x89PNG\r\n\x1a\n binary garbage \x00\x00",
        "<" * 100_000,
        "<div>" * 50_000 + "deep text",
        "<html><body>" + "<b><i>" * 20_000 + "x",
        b"<html><body><p>hi</p></body></html>",
        "<?xml version='1.0' encoding='utf-8'?><rss><channel><title>x</title></channel></rss>",
    ],
)
def test_bad_input_never_raises_and_says_why(html: str | bytes) -> None:
    article = extract_article(html)

    assert article.text == ""
    assert article.reason


def test_wrong_input_type_is_reported_not_raised() -> None:
    article = extract_article(None)  # type: ignore[arg-type]

    assert article.empty and article.reason


def _page(body: str) -> str:
    return f"<html><head><title>Rules test</title></head><body>{body}</body></html>"


RULES_PAGE = _page(
    "<div class='teaser'><p>"
    + "This teaser block is long enough to look like prose to a generic extractor and so it stays. " * 2
    + "</p></div>"
    "<div class='story'>"
    + "".join(
        f"<p>Paragraph {n} of the story tells the reader what happened at the harbour on that day.</p>"
        for n in range(1, 5)
    )
    # a class name the generic furniture rules do not know: only a source's rule can tell
    + "<p class='appeal'>Support our newsroom with a small monthly donation today, please.</p>"
    "<p>Sponsored: cheap flights to the seaside all winter long.</p>"
    "</div>"
)


def test_without_rules_the_generic_extractor_keeps_the_promos() -> None:
    text = extract_article(RULES_PAGE).text

    assert "Support our newsroom" in text
    assert "Sponsored: cheap flights" in text


def test_body_selector_takes_only_the_selected_element() -> None:
    text = extract_article(RULES_PAGE, rules=ExtractionRules(body=("div.story",))).text

    assert text.startswith("Paragraph 1 of the story")
    assert "teaser block" not in text


def test_drop_selector_removes_elements() -> None:
    text = extract_article(RULES_PAGE, rules=ExtractionRules(body=("div.story",), drop=("p.appeal",))).text

    assert "Support our newsroom" not in text
    assert "Paragraph 4 of the story" in text


def test_drop_text_removes_matching_paragraphs() -> None:
    rules = ExtractionRules(drop=("p.appeal",), drop_text=(r"^Sponsored:",))
    text = extract_article(RULES_PAGE, rules=rules).text

    assert "Sponsored" not in text
    assert "Support our newsroom" not in text
    assert text.count("Paragraph") == 4


def test_date_order_rule_reads_numeric_dates_day_first() -> None:
    page = _page(
        "<article><h1>Harbour news</h1>"
        + "<p>The harbour reopened after a week of repairs to the northern pier and the cranes.</p>" * 4
        + "<p>Author - Olena Petrenko, 02/12/2023</p></article>"
    )

    dmy = extract_article(page, rules=ExtractionRules(date_order="DMY"))
    mdy = extract_article(page)

    assert dmy.authors == ["Olena Petrenko"]
    assert dmy.published == datetime(2023, 12, 2, tzinfo=UTC)
    assert mdy.published == datetime(2023, 2, 12, tzinfo=UTC)
    assert "Olena" not in dmy.text


def test_known_boilerplate_lines_are_dropped() -> None:
    signature = "Our reporters work around the clock to keep you informed about the city"
    pages = [
        _page(
            "<article><h1>Story</h1>"
            + f"<p>Story number {n} describes a different event in a different district today.</p>" * 3
            + f"<p>{n} more facts came out later on the same day from the district office.</p>"
            + f"<p>{signature}</p></article>"
        )
        for n in range(4)
    ]
    texts = [extract_article(page).text for page in pages]
    assert all(signature in text for text in texts)

    known = learn_boilerplate(texts)
    cleaned = extract_article(pages[0], known_boilerplate=known).text

    assert signature not in cleaned
    assert "Story number 0 describes" in cleaned


def test_parse_rules_reads_a_valid_table() -> None:
    rules = parse_rules(
        {"body": "div.story", "drop": [".promo", "aside"], "drop_text": ["^READ ALSO"], "date_order": "dmy"},
        "sources/example.toml",
    )

    assert rules == ExtractionRules(
        body=("div.story",), drop=(".promo", "aside"), drop_text=("^READ ALSO",), date_order="DMY"
    )
    assert parse_rules(None, "x.toml") == ExtractionRules()


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"bdy": "div"}, "extract.bdy"),
        ({"drop_text": ["(unclosed"]}, "extract.drop_text"),
        ({"body": "div[["}, "extract.body"),
        ({"drop": [1, 2]}, "extract.drop"),
        ({"date_order": "DYM"}, "extract.date_order"),
    ],
)
def test_parse_rules_rejects_bad_tables_with_the_key(table: dict, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_rules(table, "sources/example.toml")

    assert error.value.key == key
    assert error.value.file == "sources/example.toml"
    assert error.value.problem


def test_a_story_split_over_sibling_blocks_is_kept_whole() -> None:
    """Paragraphs in two sibling <div>s under one <article> (the second never closed) are one story."""
    paragraphs = [
        "First update: the harbour council met early and agreed the repair plan for the northern pier.",
        "Second update: engineers measured the river bridge and the ministry confirmed the road budget.",
        "Third update: doctors at the regional hospital described a quiet evening after the storm passed.",
    ]
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Harbour report</title></head>"
        "<body><header><nav><ul></ul></nav></header><article><h1>Harbour report</h1>"
        f"<div><p>{paragraphs[0]}</p><p>{paragraphs[1]}</p></div><div><p>{paragraphs[2]}</p></article>"
    )

    assert extract_article(page).text.split("\n\n") == paragraphs


def test_a_story_cut_into_chunks_keeps_every_chunk_and_leaves_the_box_beside_it() -> None:
    """Story chunks of one kind in separate grid rows are one story; an author box of another kind is not."""
    chunks = [
        [
            "The council opened the new harbour wall on Monday after two years of repairs to the old pier.",
            "Engineers said the wall would hold against the winter storms that flooded the road last year.",
        ],
        [
            "Farmers from the northern villages came to watch, and the school brought its pupils by bus.",
            "The ministry confirmed that the second stage of the project would begin in the spring.",
        ],
    ]
    rows = "".join(
        "<div class='row'><div class='story-chunk'>" + "".join(f"<p>{p}</p>" for p in chunk) + "</div>"
        "<div class='ad-slot'></div></div>"
        for chunk in chunks
    )
    author_box = (
        "<div class='author-box'><p>Our correspondent has covered the coast and its harbours for years.</p></div>"
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Harbour wall opens</title></head>"
        f"<body><article><h1>Harbour wall opens</h1><div class='chunks'>{rows}</div>{author_box}</article>"
        "</body></html>"
    )

    story = [p for chunk in chunks for p in chunk]
    assert extract_article(page).text.split("\n\n") == story
    # the fast stage's block holds every chunk: the story does not depend on trafilatura filling the gaps
    tree = parse_html(page)
    assert tree is not None
    block = find_main_block(tree)
    assert block is not None
    assert [p for p in block.paragraphs if p in story] == story


def test_a_quotation_embedded_in_a_widget_is_part_of_the_story() -> None:
    """A quoted post (a tweet in a widget box) stays; a widget of links in the same story does not."""
    story = [
        "The harbour master resigned on Tuesday after eleven years in charge of the northern port.",
        "His deputy posted a farewell within the hour, and the council thanked him at its evening meeting.",
        "The council will name a successor before the winter storms reach the coast next month.",
    ]
    quote = "Thank you for everything you taught me on the quay. Good luck, and see you at the harbour soon."
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Harbour master resigns</title></head>"
        f"<body><article><h1>Harbour master resigns</h1><div class='body'><p>{story[0]}</p><p>{story[1]}</p>"
        f"<div class='article-widget embed-post'><blockquote><p>{quote}</p></blockquote></div>"
        "<div class='article-widget more-links'><p><a href='/a'>The port's busiest year on record, in pictures</a>"
        f"</p></div><p>{story[2]}</p></div></article></body></html>"
    )

    assert extract_article(page).text.split("\n\n") == [story[0], story[1], quote, story[2]]
