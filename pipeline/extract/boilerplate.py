"""Learn a source's own boilerplate: the lines that recur across its pages.

Navigation labels, newsletter promos, signature lines and "follow us" blurbs differ from site to
site, so no generic pattern list catches them all; but within one source they repeat on page after
page, while article paragraphs do not. This module is store-agnostic: the caller hands in texts and
keeps the resulting set wherever it likes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"\w+")
MIN_UNSPACED_CHARS = 8
MIN_WORDS = 2  # one-word lines ("Share", "Menu") are left to the generic patterns: too ambiguous alone


def fingerprint(line: str) -> str:
    """Case- and punctuation-insensitive key of a line; "" for lines too short to judge."""
    words = _WORD.findall(line.casefold())
    key = " ".join(words)
    # CJK lines have no spaces: judge them by length instead of word count
    return key if len(words) >= MIN_WORDS or len(key) >= MIN_UNSPACED_CHARS else ""


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def learn_boilerplate(texts: Iterable[str], min_share: float = 0.5, min_pages: int = 3) -> frozenset[str]:
    """Fingerprints of the lines that recur across one source's pages.

    Contract:
    - `texts`: the extracted text (``Article.text``) of recent, *distinct* pages of ONE source, each
      extracted WITHOUT `known_boilerplate` (or from stored raw page text); otherwise lines removed
      earlier are no longer seen and the set forgets them on the next run. Paragraphs/lines are
      split on newlines.
    - A line counts once per page, however often it repeats inside that page.
    - A line is boilerplate when it appears on at least `min_pages` pages AND on at least
      `min_share` of the pages given. With fewer than `min_pages` texts nothing is learned, so a
      new source is never over-trimmed.
    - Returns `fingerprint()` keys; pass the set to
      ``extract_article(..., known_boilerplate=...)``, which drops every line whose fingerprint is in it.
    - Pure function, no I/O; cheap enough to rerun after every crawl (linear in total text size).
    """
    pages = [text for text in texts if text and text.strip()]
    if len(pages) < max(min_pages, 1):
        return frozenset()
    seen_on: Counter[str] = Counter()
    for text in pages:
        seen_on.update({key for line in split_lines(text) if (key := fingerprint(line))})
    needed = max(min_pages, min_share * len(pages))
    return frozenset(key for key, count in seen_on.items() if count >= needed)
