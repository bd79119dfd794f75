"""Property-based tests of HTML -> Article: arbitrary and mutated pages never break extraction, and a
page built from known paragraphs keeps every one of them.

`extract_article` documents that it never raises: whatever the input, it returns an Article whose
text is either the article or empty with a `reason`. These tests hold it to that on inputs written
by hypothesis, and check that what is valid survives: known paragraphs wrapped in random layouts,
furniture, junk markup and broken nesting.
"""

from __future__ import annotations

import html as html_lib

from fuzzing import bounded
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract import extract_article
from pipeline.models import Article

# Plain words no cleaning rule reacts to (no "subscribe", "photo", "copyright", dates, ...).
VOCABULARY = (
    "the", "delegation", "harbour", "ministry", "officials", "agreed", "river", "bridge", "council", "morning",
    "evening", "report", "talks", "border", "patrol", "vessel", "crew", "captain", "engineers", "village",
    "farmers", "water", "supply", "repairs", "weather", "storm", "coast", "road", "traffic", "museum", "school",
    "teachers", "pupils", "doctors", "hospital", "budget", "plan", "project", "northern", "southern", "eastern",
    "western", "quiet", "busy", "careful", "slow", "rapid", "early", "late", "local", "regional", "reviewed",
    "explained", "described", "measured", "repaired", "delivered", "visited", "inspected", "expected",
    "confirmed",
)  # fmt: skip
SETTINGS = bounded(25)  # each example extracts a page or two: 25 keep the file to seconds

sentences = st.lists(st.sampled_from(VOCABULARY), min_size=8, max_size=16).map(
    lambda words: " ".join(words).capitalize() + "."
)
paragraph = st.lists(sentences, min_size=2, max_size=4).map(" ".join)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
# An article says each thing once: every paragraph opens with its own ordinal, so none repeats or
# contains another (extractors rightly drop repeated blocks).
story = st.lists(paragraph, min_size=3, max_size=len(ORDINALS)).map(
    lambda ps: [f"{ORDINALS[i].capitalize()} update: {p}" for i, p in enumerate(ps)]
)

CONTAINERS = ("article", "div", "section", "main")
CLASSES = ("", "content", "story-body", "entry", "post text", "col-8")
# markup that is broken or irrelevant: stray tags, a container closed too early or opened and
# never closed, comments, scripts; a browser still shows the story as one run of paragraphs
JUNK = (
    "",
    "<!-- a comment -->",
    "<span></span>",
    "</span>",
    "<div>",
    "</div>",
    "<br>",
    "<script>var x = '<p>not text</p>';</script>",
    "<style>p { color: red }</style>",
    "<img src='a.png' alt=''>",
    "<b>",
    "</i>",
)


def check_article(article: Article) -> None:
    assert isinstance(article, Article)
    assert bool(article.text) != bool(article.reason)  # the article, or an empty text that says why
    if article.published is not None:
        assert article.published.tzinfo is not None


@st.composite
def known_page(draw: st.DrawFn) -> tuple[str, list[str]]:
    paragraphs = draw(story)
    container = draw(st.sampled_from(CONTAINERS))
    css = draw(st.sampled_from(CLASSES))
    junk = st.sampled_from(JUNK)
    body = "".join(f"{draw(junk)}<p>{html_lib.escape(p)}</p>{draw(junk)}" for p in paragraphs)
    nav = "".join(f"<li><a href='/s/{i}'>{w}</a></li>" for i, w in enumerate(draw(st.lists(st.sampled_from(
        ("Home", "World", "Business", "Sport", "Contact")), max_size=5))))  # fmt: skip
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Harbour report</title></head>"
        f"<body><header><nav><ul>{nav}</ul></nav></header>"
        f"<{container} class='{css}'><h1>Harbour report</h1>{body}</{container}>"
        "<footer><p><a href='/about'>About</a> <a href='/jobs'>Jobs</a></p></footer></body></html>"
    )
    return page, paragraphs


@SETTINGS
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=3000)))
def test_arbitrary_input_never_raises(data: str | bytes) -> None:
    check_article(extract_article(data))


@SETTINGS
@given(
    st.lists(
        st.one_of(
            st.sampled_from(("<p>", "</p>", "<div>", "</div>", "<a href='x'>", "</a>", "<table><tr><td>", "<li>",
                             "<h1>", "<meta charset='koi8-r'>", "<script>", "<![CDATA[", "&", "&#0;", "\x00",
                             "<html>", "<?xml version='1.0'?>")),
            st.text(max_size=40),
        ),
        max_size=200,
    ).map("".join)
)  # fmt: skip
def test_tag_soup_never_raises(markup: str) -> None:
    check_article(extract_article(markup))


@SETTINGS
@given(known_page())
def test_known_paragraphs_are_all_kept(page_and_paragraphs: tuple[str, list[str]]) -> None:
    page, paragraphs = page_and_paragraphs
    article = extract_article(page)

    check_article(article)
    kept = article.text.split("\n\n")
    for p in paragraphs:
        assert p in kept
    assert article.title == "Harbour report"
    assert "Harbour report" not in kept  # the headline is metadata, not text


@SETTINGS
@given(known_page(), st.data())
def test_mutated_pages_never_raise(page_and_paragraphs: tuple[str, list[str]], data: st.DataObject) -> None:
    page, _ = page_and_paragraphs
    raw = page.encode("utf-8")
    start = data.draw(st.integers(0, len(raw)))
    end = data.draw(st.integers(start, min(len(raw), start + 200)))
    insert = data.draw(st.binary(max_size=50))
    mutated = raw[:start] + insert + raw[end:]
    check_article(extract_article(mutated))
    check_article(extract_article(raw[:start]))  # a page cut off mid-transfer


@SETTINGS
@given(known_page(), st.data())
def test_a_truncated_tail_loses_nothing_before_the_cut(
    page_and_paragraphs: tuple[str, list[str]], data: st.DataObject
) -> None:
    """A page cut off after its last paragraph (closing tags, footer lost) keeps every paragraph.

    The cut falls between tags: a lone "<" left at the end is text to a browser too.
    """
    page, paragraphs = page_and_paragraphs
    last = page.rindex(html_lib.escape(paragraphs[-1])) + len(html_lib.escape(paragraphs[-1]))
    cuts = [last] + [i + 1 for i in range(last, len(page)) if page[i] == ">"]
    cut = data.draw(st.sampled_from(cuts))
    article = extract_article(page[:cut])

    check_article(article)
    kept = article.text.split("\n\n")
    for p in paragraphs:
        assert p in kept
