"""The slow path's choice between candidate texts of one page, by their prose alone.

When the fast stage is unsure (`article.SURE_COVERAGE`) several extractors have answered: the fast
block, the fast block merged with trafilatura by agreement (`merge`), full trafilatura (its own
fallbacks on) and readability-lxml. Each has its own failure: the fast block a fragment of a story
set in many boxes, trafilatura a promo box or a comment, readability a story with its comments.
No extractor is preferred; the choice looks only at the candidates' cleaned paragraphs:

1. *Prose* is the words of the paragraphs that read as prose (`PROSE_WORDS` words ending like a
   sentence, or `LONG_WORDS` words): menus, labels and teaser titles are not prose.
2. *Support* is how much of a candidate's prose the other candidates also found (bag-of-words
   overlap, averaged over them): text every extractor found is the story; text one found alone is
   its frame (comments, teasers) or another's omission, and prose length decides between those.
3. *Subject*: a candidate that shares no word with the title and the summary (the feed's or the
   page's own description) is about something else: a footer, an about-us blurb.

A candidate's score is prose x (`SUPPORT_FLOOR` + support) x subject. Fragments lose to the whole
story because prose counts; over-long candidates lose because the part only they have lowers
their support. Candidates with fewer than `MIN_WORDS` words are not an article and never chosen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"""[.!?。！？…"'”’»)]\s*$""")
PROSE_WORDS = 10
LONG_WORDS = 30
MIN_WORDS = 25
SUPPORT_FLOOR = 0.5
NO_SUBJECT = 0.5  # the score of a candidate sharing no word with title and summary is halved
_STOP = frozenset(
    {"the", "and", "for", "with", "from", "are", "was", "were", "that", "this", "its", "how", "why", "what", "who"}
    | {"und", "der", "die", "das", "les", "des", "del", "los", "las", "por", "para", "con"}
)


@dataclass
class Candidate:
    name: str  # which extractor: for logs and the benchmark, never for the choice
    paragraphs: list[str]


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def prose_words(paragraphs: Sequence[str]) -> int:
    total = 0
    for paragraph in paragraphs:
        n = len(_WORD.findall(paragraph))
        if n >= LONG_WORDS or (n >= PROSE_WORDS and _SENTENCE_END.search(paragraph)):
            total += n
    return total


def choose(candidates: Sequence[Candidate], title: str = "", summary: str = "") -> Candidate | None:
    """The candidate whose text reads most like the page's story; None when none is an article."""
    bags = [Counter(w for p in c.paragraphs for w in _words(p)) for c in candidates]
    usable = [i for i, bag in enumerate(bags) if sum(bag.values()) >= MIN_WORDS]
    if not usable:
        return None
    if len(usable) == 1:
        return candidates[usable[0]]
    subject = {w for w in _words(f"{title} {summary}") if w not in _STOP and len(w) > 2}
    best, best_score = usable[0], -1.0
    for i in usable:
        prose = prose_words(candidates[i].paragraphs)
        size = sum(bags[i].values())
        others = [j for j in usable if j != i]
        support = sum(sum((bags[i] & bags[j]).values()) / size for j in others) / len(others)
        score = prose * (SUPPORT_FLOOR + support)
        if subject and not subject & bags[i].keys():
            score *= NO_SUBJECT
        if score > best_score:
            best, best_score = i, score
    return candidates[best]
