"""A digest that reads well: the topic's name as title, only the scoring terms highlighted, and
evidence from further down the text shown apart from the lead in every format."""

from __future__ import annotations

from datetime import date

import pytest
from digest_helpers import HOTLINE, TOPIC, Newsroom, utc, write_config

from pipeline.config import bundled_topic
from pipeline.digest.build import build_digest, highlight, split_sentences
from pipeline.digest.html import render_html
from pipeline.digest.render import render_markdown, render_text
from pipeline.store import Store
from pipeline.topics import Tagger, load_topics

DAY = date(2024, 3, 12)
EVIDENCE = split_sentences(HOTLINE)[3]  # "A spokesperson for the ministry in Beijing described ..."


@pytest.fixture
def digest(tmp_path):
    with Store(tmp_path / "x.db") as store:
        room = Newsroom(store)
        room.sources("wiredaily")
        room.add("wiredaily", "hotline", "Hotline restored", HOTLINE, seen=utc(2024, 3, 12, 7),
                 evidence=EVIDENCE, terms=("Beijing",))
        yield build_digest(store, write_config(tmp_path), TOPIC, DAY, now=utc(2024, 3, 13, 5))


def test_the_title_is_the_topics_name(digest):
    assert digest.title.startswith("US–China military communication — digest for")
    assert digest.topic == TOPIC  # folders, ids and the ledger keep the id


def test_evidence_below_the_lead_is_shown_apart_from_it(digest):
    [entry] = digest.stories
    assert EVIDENCE in HOTLINE and not HOTLINE.startswith(EVIDENCE)
    assert [s.plain for s in entry.lead] == split_sentences(HOTLINE)[:1]
    assert [s.plain for s in entry.evidence] == [EVIDENCE]
    assert "> _A spokesperson for the ministry in **Beijing** described" in render_markdown(digest)
    assert "   > A spokesperson for the ministry in *Beijing* described" in render_text(digest)
    html = render_html(digest)
    lead_at, evidence_at = html.index(split_sentences(HOTLINE)[0][:30]), html.index("A spokesperson")
    assert lead_at < evidence_at and "border-left:3px solid" in html[lead_at:evidence_at]


def test_highlights_are_whole_words_and_only_the_given_terms():
    spans = highlight("US officials said thus the US-China talks", ["US", "talks"])
    assert [s.text for s in spans if s.highlight] == ["US", "US", "talks"]
    assert [s.text for s in highlight("中美两军恢复热线", ["热线"]) if s.highlight] == ["热线"]


def test_evidence_terms_are_those_of_the_rules_that_fired():
    tagger = Tagger(load_topics([bundled_topic(TOPIC)]))
    sentence = "The two sides said the Chinese and the US would keep talking about military channels."
    [tag] = tagger.tag("Austin and Dong Jun held a call", f"Markets were calm. {sentence}")
    explained = tagger.explain("Austin and Dong Jun held a call", f"Markets were calm. {sentence}")
    matched = {t for s in explained["topics"][0]["sentences"] if s["text"] == sentence
               for terms in s["matches"].values() for t in terms}
    [evidence] = [e for e in tag.evidence if e.sentence == sentence]
    assert "The two" in matched and "The two" not in evidence.terms  # matched, but no rule needed it
    assert set(evidence.terms) < matched and evidence.terms
