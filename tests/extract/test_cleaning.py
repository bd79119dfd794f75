"""Generic paragraph cleaning: what the rules drop, and the prose next to it that they keep."""

from __future__ import annotations

from pipeline.extract.cleaning import clean_paragraphs

STORY = [
    "The harbour council met on Tuesday evening and agreed to repair the old bridge before winter.",
    "Engineers said the work would take six weeks and close the road to traffic at night only.",
]


def cleaned(*lines: str) -> list[str]:
    return clean_paragraphs([*lines, *STORY]).paragraphs


def test_widget_labels_before_the_story_are_dropped() -> None:
    assert cleaned("Caption", "Close") == STORY


def test_a_sentence_broken_over_lines_keeps_its_first_word() -> None:
    lines = ["Photos", "which were taken at the harbour on Tuesday show the damage to the old bridge clearly."]
    assert clean_paragraphs([*lines, *STORY]).paragraphs[:2] == lines


def test_a_short_chinese_or_japanese_sentence_is_not_a_label() -> None:
    line = "これが非常に困ったもの。"
    assert clean_paragraphs([STORY[0], line, STORY[1]]).paragraphs == [STORY[0], line, STORY[1]]
    assert clean_paragraphs([line, *STORY]).paragraphs == [line, *STORY]


def test_reading_time_and_listen_back_promos_are_dropped() -> None:
    for line in ("Reading time: 3 minutes", "Tempo de leitura: 2 minutos", "4 min read",
                 "Listen to the evening bulletin live at 18:00 on weekdays - or listen back here."):  # fmt: skip
        assert cleaned(line) == STORY, line


def test_contact_lines_that_are_only_an_address_are_dropped() -> None:
    assert clean_paragraphs([*STORY, "ann.lee@news.example.com", "twitter.com/annlee"]).paragraphs == STORY


def test_labelled_cross_links_and_taxonomy_lines_after_the_story_are_dropped() -> None:
    lines = ["Also: See the council's guide to the harbour works", "Filed under: Harbour |"]
    assert clean_paragraphs([*STORY, *lines]).paragraphs == STORY
    also = "Also the council agreed to open the museum on Sundays through the winter months."
    assert clean_paragraphs([*STORY, also]).paragraphs == [*STORY, also]  # "also" in prose is no label


def test_a_labelled_date_line_goes_to_metadata() -> None:
    result = clean_paragraphs(["기사입력 : 2023-12-01 17:32", *STORY])
    assert result.paragraphs == STORY
    assert result.published is not None and result.published.date().isoformat() == "2023-12-01"


def test_a_row_of_category_links_is_dropped_and_a_sentence_naming_them_is_kept() -> None:
    """A post's categories ("Rivers, Local council") or a breadcrumb ("Home » Rivers"), every part a
    link on the page, are not prose; a sentence with the same names and words of its own is."""
    from pipeline.extract.cleaning import link_key

    links = frozenset(link_key(t) for t in ("Rivers", "Local council", "Home"))
    sentence = "Rivers, local council plans and the harbour were the themes of the evening meeting."
    for row in ("Rivers, Local council", "Home » Rivers › Local council"):
        assert clean_paragraphs([*STORY, row], link_texts=links).paragraphs == STORY, row
    assert clean_paragraphs([*STORY, sentence], link_texts=links).paragraphs == [*STORY, sentence]
    # bars join a row of the story's own links as often: a shop's buttons, a venue and its photographer
    assert clean_paragraphs([*STORY, "Rivers | Home"], link_texts=links).paragraphs == [*STORY, "Rivers | Home"]
