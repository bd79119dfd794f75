"""The slow path's choice between candidate texts of one page, by their prose alone.

When the fast stage is unsure (`article.SURE_COVERAGE`) several extractors have answered: the fast
block, full trafilatura (its own fallbacks on), the two merged by agreement (`merge`) and, where
one of the first two has no article, readability-lxml. Each has its own failure: the block a
fragment of a story set in many boxes, trafilatura a promo box or a story with its teasers,
readability a story with its comments. No extractor is preferred; the choice looks only at the
candidates' cleaned paragraphs:

1. *Prose* is the words of the paragraphs that read as prose (`PROSE_WORDS` words ending like a
   sentence, or `LONG_WORDS` words) and are not cut short with an ellipsis (a teaser's excerpt):
   menus, labels and teasers are not prose.
2. *Support* is how much of a candidate's words the candidates of other extractors also found
   (bag-of-words overlap, averaged over them; the merge is of the block's family, so it does not
   vouch for the block). Text every extractor found is the story; text one found alone is its frame
   (comments, teasers) or the others' omission.
3. *Subject*: a candidate sharing no word with the title and the summary (the feed's, or the
   page's own description) is about something else, a footer or an about-us blurb: `NO_SUBJECT`.

When two candidates of different extractors tell the same text (each holds `AGREE` of the other's
words), they outvote the rest and the better scored of them is chosen: a third that adds comments
or stops short is alone. Otherwise the score is prose x (`SUPPORT_FLOOR` + support) **
`SUPPORT_POWER`: the longer story wins unless much of its length is unsupported. Then the fragment
check: when another extractor's candidate holds
nearly all of the chosen text (`CONTAINS`) and `EXTEND` times its prose, and no third extractor
stopped where the chosen one did (`AGREE`), the chosen text is a fragment of that one's story, which
wins. Candidates with fewer than `MIN_WORDS` words are not an article and never chosen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"""[.!?。！？…"'”’»)]\s*$""")
_ELLIPSES = ("...", "…", "[…]", "[...]")
PROSE_WORDS = 10
LONG_WORDS = 30
MIN_WORDS = 25
SUPPORT_POWER = 1.5  # unsupported text costs more than its length earns
SUPPORT_FLOOR = 0.5
AGREE = 0.8  # two candidates with this share of each other's words tell the same text
CONTAINS = 0.9  # a candidate holding this share of another's words contains it
EXTEND = 1.5  # ... and extends it when it has this many times its prose
NO_SUBJECT = 0.5  # the score of a candidate sharing no word with title and summary is halved
_STOP = frozenset(
    {"the", "and", "for", "with", "from", "are", "was", "were", "that", "this", "its", "how", "why", "what", "who"}
    | {"und", "der", "die", "das", "les", "des", "del", "los", "las", "por", "para", "con"}
)


@dataclass
class Candidate:
    name: str  # which extractor: for logs and the benchmark, never for the choice
    paragraphs: list[str]
    family: str = ""  # candidates built from one another's text are no independent witnesses

    def __post_init__(self) -> None:
        self.family = self.family or self.name


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def prose_words(paragraphs: Sequence[str]) -> int:
    total = 0
    for paragraph in _lines_joined(paragraphs):
        n = len(_WORD.findall(paragraph))
        # an excerpt cut short is a teaser for another page; a table row ("| a | b |") is data
        if paragraph.endswith(_ELLIPSES) or paragraph.startswith("|"):
            continue
        if n >= LONG_WORDS or (n >= PROSE_WORDS and _SENTENCE_END.search(paragraph)):
            total += n
    return total


def _lines_joined(paragraphs: Sequence[str]) -> list[str]:
    """Paragraphs with a sentence broken over lines (a `<br>` mid-sentence) joined again."""
    joined: list[str] = []
    for paragraph in paragraphs:
        text = paragraph.strip()
        if not text:
            continue
        if joined and text[0].islower() and not _SENTENCE_END.search(joined[-1]):
            joined[-1] = f"{joined[-1]} {text}"
        else:
            joined.append(text)
    return joined


def choose(candidates: Sequence[Candidate], title: str = "", summary: str = "") -> Candidate | None:
    """The candidate whose text reads most like the page's story; None when none is an article."""
    bags = [Counter(w for p in c.paragraphs for w in _words(p)) for c in candidates]
    sizes = [sum(bag.values()) for bag in bags]
    usable = [i for i, size in enumerate(sizes) if size >= MIN_WORDS]
    if not usable:
        return None
    if len(usable) == 1:
        return candidates[usable[0]]
    prose = {i: prose_words(candidates[i].paragraphs) for i in usable}
    subject = {w for w in _words(f"{title} {summary}") if w not in _STOP and len(w) > 2}

    def share(i: int, j: int) -> float:  # how much of i's text j also has
        return sum((bags[i] & bags[j]).values()) / sizes[i]

    def witnesses(i: int) -> list[int]:
        return [j for j in usable if candidates[j].family != candidates[i].family]

    def score(i: int) -> float:
        others = witnesses(i)
        support = sum(share(i, j) for j in others) / len(others) if others else 1.0
        value = prose[i] * (SUPPORT_FLOOR + support) ** SUPPORT_POWER
        if subject and not subject & bags[i].keys():
            value *= NO_SUBJECT
        return value

    # two extractors that independently tell the same text outvote a third that adds to it or
    # stops short: the choice is between the two
    agreeing = {
        i
        for i in usable
        for j in witnesses(i)
        if share(i, j) >= AGREE and share(j, i) >= AGREE
    }
    if agreeing:
        return candidates[max(agreeing, key=score)]
    best = max(usable, key=score)
    # a fragment: another candidate holds nearly all of it and much more prose, and no third
    # extractor stopped where this one did
    confirmed = any(
        share(best, k) >= AGREE and share(k, best) >= AGREE for k in witnesses(best)
    )
    if not confirmed:
        longer = [
            j for j in witnesses(best) if share(best, j) >= CONTAINS and prose[j] >= EXTEND * max(prose[best], 1)
        ]
        if longer:
            best = max(longer, key=score)
    return candidates[best]
