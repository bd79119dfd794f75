"""Story clustering on our own syndicated variants."""

from __future__ import annotations

import pytest
from digest_helpers import DRILLS, HOTLINE, HOTLINE_ANALYSIS, HOTLINE_BOILERPLATE, HOTLINE_EDITED, PORT

from pipeline.digest.cluster import DEFAULT_THRESHOLD, cluster_texts, similarity, story_text

# A rewrite of the same release: sentences reordered, some reworded, the closing one dropped.
HOTLINE_REWRITE = (
    "The two sides will hold working-level calls every month and a call between theatre commanders before "
    "the end of the quarter, the officials said. "
    "Defence officials from the United States and China agreed on Tuesday to restore a military hotline "
    "that had been silent for more than a year, according to people familiar with the talks in Singapore. "
    "A spokesperson for the ministry in Beijing described the meeting as candid and constructive and said "
    "further steps depended on Washington. Analysts said the arrangement was modest but could reduce the "
    "risk that an encounter between ships or aircraft escalates."
)


def groups(*texts: str, threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    return cluster_texts(list(texts), threshold)


def test_same_wire_copy_under_different_boilerplate_is_one_story():
    assert groups(HOTLINE, HOTLINE_BOILERPLATE) == [[0, 1]]


def test_lightly_edited_copy_is_one_story():
    assert groups(HOTLINE, HOTLINE_EDITED) == [[0, 1]]


def test_rewrite_of_the_same_release_is_one_story():
    assert groups(HOTLINE, HOTLINE_REWRITE) == [[0, 1]]


def test_new_headline_on_the_same_body_is_one_story():
    first = story_text("US and China restore military hotline", HOTLINE)
    second = story_text("Pentagon and PLA back on the phone after a year of silence", HOTLINE)
    assert groups(first, second) == [[0, 1]]


def test_one_article_in_two_feeds_is_one_story():
    assert groups(HOTLINE, HOTLINE) == [[0, 1]]


def test_outlet_running_only_the_opening_paragraphs_joins_the_story():
    opening = HOTLINE[: HOTLINE.index("Analysts said")]
    assert similarity(HOTLINE, opening) < DEFAULT_THRESHOLD  # too short for Jaccard alone...
    assert groups(HOTLINE, opening) == [[0, 1]]  # ...but almost all of it is contained in the full copy


def test_two_different_stories_about_the_same_event_stay_apart():
    assert groups(HOTLINE, HOTLINE_ANALYSIS) == [[0], [1]]


def test_mixed_day_groups_only_the_same_story():
    texts = [DRILLS, HOTLINE, PORT, HOTLINE_BOILERPLATE, HOTLINE_ANALYSIS, HOTLINE_EDITED, HOTLINE_REWRITE]
    assert groups(*texts) == [[0], [1, 3, 5, 6], [2], [4]]


@pytest.mark.parametrize("threshold", [0.3, 0.4, 0.5, 0.6])
def test_default_threshold_sits_in_a_wide_safe_band(threshold):
    """The variants cluster and the separate stories stay apart for every threshold around the default."""
    assert groups(HOTLINE, HOTLINE_BOILERPLATE, HOTLINE_EDITED, HOTLINE_ANALYSIS, DRILLS,
                  threshold=threshold) == [[0, 1, 2], [3], [4]]


def test_threshold_is_tunable():
    assert groups(HOTLINE, HOTLINE_EDITED, threshold=0.99) == [[0], [1]]


def test_short_and_empty_texts_do_not_crash_or_merge():
    assert groups("", "", "Hotline", "Drills start") == [[0], [1], [2], [3]]
    assert groups() == []


def test_short_body_is_compared_with_its_headline():
    assert story_text("Hotline restored", "Officials met.") == "Hotline restored\nOfficials met."
    assert story_text("Headline", HOTLINE) == HOTLINE
