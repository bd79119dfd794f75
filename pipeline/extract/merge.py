"""Merging the fast stage's and trafilatura's paragraphs by agreement, paragraph by paragraph.

Runs only where the fast stage was unsure (`article.SURE_COVERAGE`). Neither output is taken whole;
the evidence is word 4-gram agreement between the two, a paragraph's position relative to the
paragraphs both found, and whether it reads as prose. The decision rule:

1. A paragraph is *shared* when at least `AGREE` of its word 4-grams occur in the other side's text
   (a paragraph under four words must appear there whole), so a block split differently by the
   two is no disagreement. Shared paragraphs are kept.
2. When most of trafilatura's text (`CONFIRM`) lies in the fast stage's block, the block is
   confirmed as the story's place, and the fast stage's order is followed:
   - a fast-only paragraph is kept when it reads as prose (`PROSE_WORDS` words ending like a
     sentence) and comes after the first shared paragraph: inside the story, or where trafilatura
     stopped short;
   - a trafilatura-only paragraph that contains a fast paragraph (a table row around one of its
     cells) replaces it: the fuller version of the same line wins;
   - another trafilatura-only paragraph is kept when it reads as prose and sits between shared
     paragraphs; at the block's edges it is the frame (teasers, signatures), not the story.
3. Otherwise the block is not the story (paragraphs spread over many containers, a list of posts)
   and trafilatura's paragraphs are taken as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"""[.!?。！？…"'”’»)]\s*$""")
SHINGLE = 4
AGREE = 0.5
CONFIRM = 0.6
PROSE_WORDS = 12

Shingles = set[tuple[str, ...]]


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _shingles(tokens: Sequence[str]) -> Shingles:
    if len(tokens) < SHINGLE:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}


def reads_as_prose(paragraph: str) -> bool:
    return len(_WORD.findall(paragraph)) >= PROSE_WORDS and bool(_SENTENCE_END.search(paragraph))


class _Side:
    """One extractor's paragraphs with their shingles, and the whole text's shingles."""

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.paragraphs = list(paragraphs)
        self.tokens = [_tokens(p) for p in self.paragraphs]
        self.shingles = [_shingles(t) for t in self.tokens]
        self.all = set().union(*self.shingles) if self.shingles else set()
        self.short = {" ".join(t) for t in self.tokens if len(t) < SHINGLE}

    def shares(self, tokens: list[str], shingles: Shingles) -> bool:
        if not tokens:
            return False
        if len(tokens) < SHINGLE:
            return " ".join(tokens) in self.short
        return len(shingles & self.all) >= AGREE * len(shingles)


def merge_paragraphs(fast: Sequence[str], slow: Sequence[str]) -> list[str]:
    """The article's paragraphs from the fast stage's and trafilatura's cleaned paragraphs."""
    if not fast:
        return list(slow)
    if not slow:
        return [p for p in fast if reads_as_prose(p)]
    f, s = _Side(fast), _Side(slow)
    fast_shared = [s.shares(t, sh) for t, sh in zip(f.tokens, f.shingles, strict=True)]
    slow_shared = [f.shares(t, sh) for t, sh in zip(s.tokens, s.shingles, strict=True)]
    slow_words = sum(len(t) for t in s.tokens) or 1
    confirmed = sum(len(t) for t, ok in zip(s.tokens, slow_shared, strict=True) if ok) / slow_words
    if confirmed < CONFIRM:
        return list(slow)

    first = fast_shared.index(True) if any(fast_shared) else len(fast)
    keep = [ok or (i > first and reads_as_prose(p)) for i, (p, ok) in enumerate(zip(fast, fast_shared, strict=True))]
    # each trafilatura-only paragraph goes after the fast paragraph that matches its predecessor
    inserts: dict[int, list[str]] = {}
    fuller: dict[int, str] = {}
    anchor, cursor = -1, 0
    for i, paragraph in enumerate(slow):
        if slow_shared[i]:
            anchor = _best_match(f.shingles, s.shingles[i], cursor, anchor)
            cursor = max(cursor, anchor + 1)
            continue
        part = _contained(f.shingles, s.shingles[i], cursor)
        if part is not None and part not in fuller:
            fuller[part] = paragraph  # the same line told in full: a table row around its cell
        elif any(slow_shared[:i]) and any(slow_shared[i + 1 :]) and reads_as_prose(paragraph):
            inserts.setdefault(anchor, []).append(paragraph)
    merged = list(inserts.get(-1, []))
    for i, paragraph in enumerate(fast):
        if keep[i]:
            merged.append(fuller.get(i, paragraph))
        merged.extend(inserts.get(i, []))
    return merged


def _contained(candidates: list[Shingles], outer: Shingles, start: int) -> int | None:
    """Index of the first candidate from `start` on whose shingles lie mostly inside `outer`."""
    for i in range(max(start, 0), len(candidates)):
        own = candidates[i]
        if own and len(own & outer) >= AGREE * len(own) and len(outer) > len(own):
            return i
    return None


def _best_match(candidates: list[Shingles], target: Shingles, start: int, default: int) -> int:
    """Index of the candidate sharing most with `target`, searching from `start` onward."""
    best, best_overlap = default, 0
    for i in range(max(start, 0), len(candidates)):
        overlap = len(target & candidates[i])
        if overlap > best_overlap:
            best, best_overlap = i, overlap
            if overlap >= AGREE * len(target):
                break
    return best
