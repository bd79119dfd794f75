"""The slow path's choice between candidate texts: by their prose, never by which extractor spoke."""

from __future__ import annotations

import itertools

from pipeline.extract.choose import Candidate, choose, prose_words

TITLE = "Ferry service to the islands resumes after the storm"
STORY = [
    "The ferry to the outer islands sailed again on Thursday morning, five days after the storm tore a "
    "mooring post out of the harbour wall.",
    "Divers from the port authority spent two days checking the berth for debris before the harbour master "
    "allowed the first crossing.",
    "Islanders had been without fresh deliveries since the weekend, and the village shop on the largest "
    "island ran out of milk and bread on Tuesday.",
    "The operator said the timetable would return to normal from Saturday, with an extra evening crossing "
    "for the rest of the month to clear the backlog.",
    "Repairs to the harbour wall will take most of the winter, and the council has asked for an emergency "
    "grant to pay for the work.",
    "Fishermen who use the same harbour said the damaged section had been reported as weak two years ago, "
    "and asked why it had not been repaired then.",
]
COMMENTS = [
    "Great news at last, my parents live on the island and were getting worried about their medicine.",
    "Why does it always take a storm before anyone listens to the people who work on the water every day?",
    "Thanks to the divers, they did a brilliant job in awful weather, and nobody seems to mention that.",
    "I crossed on the first sailing and the crew were cheerful despite everything, a credit to the company.",
    "The council knew about that wall for years and did nothing, as usual, until it was far too late for anyone.",
    "Does anyone know whether the evening crossing will carry cars or only foot passengers this month?",
]
TEASERS = [
    "Lighthouse keeper's cottage sold at auction for a record price after a bidding war between two …",
    "Harbour festival returns next summer with a tall ships parade and fireworks over the bay, organisers …",
    "New cycle path along the coast opens in spring, linking the three villages for the first time since …",
    "Local school wins national prize for its project on seabirds nesting on the cliffs above the old …",
    "Council approves plans for a new lifeboat station at the end of the pier after a long campaign by …",
]
ABOUT = [
    "Founded by a group of volunteers, our paper has reported on life in the valley for more than a century, "
    "from parish councils to the county show, and remains owned by its readers today.",
    "We welcome letters from readers on any subject and publish a selection of them every week in print "
    "and on our website, space permitting.",
]


def test_a_fragment_loses_to_the_whole_story_another_extractor_found() -> None:
    fragment = Candidate("block", STORY[:2])
    whole = Candidate("trafilatura", STORY)

    assert choose([fragment, whole], TITLE) is whole


def test_a_story_with_its_comments_loses_to_the_story_the_others_agree_on() -> None:
    """A comment thread half as long as the story, which only one extractor kept, is its frame."""
    story = Candidate("block", STORY)
    with_comments = Candidate("readability", STORY + COMMENTS)
    also_story = Candidate("trafilatura", STORY[:-1])

    assert choose([story, with_comments, also_story], TITLE) is story


def test_teasers_cut_short_are_not_prose() -> None:
    assert prose_words(TEASERS) == 0
    story = Candidate("block", STORY[:3])
    teasers = Candidate("trafilatura", STORY[:1] + TEASERS)

    assert choose([story, teasers], TITLE) is story


def test_a_text_about_something_else_loses_to_the_story() -> None:
    """An about-us blurb shares no word with the title: it is not the page's story."""
    story = Candidate("block", STORY[:2])
    blurb = Candidate("trafilatura", ABOUT)

    assert prose_words(blurb.paragraphs) > prose_words(story.paragraphs)
    assert choose([story, blurb], TITLE) is story


def test_a_sentence_broken_over_lines_is_still_prose() -> None:
    cut = STORY[0].index(" again")
    broken = [STORY[0][:cut], STORY[0][cut:].strip()]
    assert broken[1][0].islower()

    assert prose_words(broken) == prose_words([STORY[0]])


def test_nothing_is_chosen_when_no_candidate_is_an_article() -> None:
    assert choose([Candidate("block", ["Home", "News"]), Candidate("trafilatura", ["Sign in"])], TITLE) is None


def test_the_choice_does_not_depend_on_the_extractors_names_or_order() -> None:
    texts = [STORY[:2], STORY, STORY[:4] + COMMENTS[:2]]
    chosen = set()
    for names in itertools.permutations(["block", "trafilatura", "readability"]):
        for order in itertools.permutations(range(3)):
            candidates = [Candidate(names[i], texts[i]) for i in order]
            result = choose(candidates, TITLE)
            assert result is not None
            chosen.add(tuple(result.paragraphs))
    assert chosen == {tuple(STORY)}


def test_the_feed_summary_names_the_subject_when_the_title_does_not() -> None:
    story = Candidate("block", STORY[:2])
    blurb = Candidate("trafilatura", ABOUT)
    summary = "Crossings to the outer islands restart after divers cleared the harbour berth."

    assert choose([story, blurb], "Live updates", summary) is story
