"""Group items that are the same story: wire copy run by several outlets, light rewrites, one article in two feeds.

Each text becomes a MinHash signature of its word 3-shingles (datasketch). Two items are one story
when the estimated Jaccard similarity of their shingles reaches the threshold, or when nearly all of
the shorter one is contained in the longer (an outlet that runs only the first paragraphs, or a feed
summary standing in for a page we could not fetch). Groups are closed transitively.

A day holds hundreds of items, not millions, so every pair is compared on the signatures with numpy
rather than through LSH buckets: exact on the estimate, no false negatives near the threshold, and
still a few milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from datasketch import MinHash

DEFAULT_THRESHOLD = 0.5
SHINGLE_WORDS = 3
NUM_PERM = 128
# Containment only counts for texts long enough that sharing most shingles cannot be chance; a
# threshold set above it tightens containment too, so one knob makes clustering stricter.
CONTAINMENT = 0.8
MIN_CONTAINED_SHINGLES = 25
# Below this many words the body says too little on its own, so the headline is added to it.
SHORT_TEXT_WORDS = 12

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-case word tokens; punctuation, quotes and dashes differ between outlets and carry nothing."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    tokens = words(text)
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def story_text(title: str, text: str) -> str:
    """The text an item is compared on: the body, so a new headline on the same body changes nothing."""
    if len(words(text)) < SHORT_TEXT_WORDS:
        return f"{title}\n{text}"
    return text


@lru_cache(maxsize=1)
def _reuse() -> dict:
    """Drawing the permutations costs as much as hashing a whole article: draw them once and hand
    them to every MinHash (with their scheme, which datasketch 2 wants named; 1.x has none)."""
    template = MinHash(num_perm=NUM_PERM, seed=1)
    kept: dict = {"permutations": template.permutations}
    if hasattr(template, "scheme"):
        kept["scheme"] = template.scheme
    return kept


def _signature(grams: set[str]) -> np.ndarray:
    minhash = MinHash(num_perm=NUM_PERM, seed=1, **_reuse())
    minhash.update_batch([g.encode("utf-8") for g in sorted(grams)])
    return minhash.hashvalues


class _Groups:
    """Union-find over item indexes."""

    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def similarity(a: str, b: str) -> float:
    """The estimated Jaccard similarity of two texts' shingles: for tuning the threshold and for tests."""
    return float(np.mean(_signature(shingles(a)) == _signature(shingles(b))))


def cluster_texts(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Indexes of `texts` grouped into stories; groups and their members keep the input order."""
    grams = [shingles(t) for t in texts]
    groups = _Groups(len(texts))
    present = [i for i, g in enumerate(grams) if g]
    if len(present) > 1:
        signatures = np.stack([_signature(grams[i]) for i in present])
        sizes = np.array([len(grams[i]) for i in present], dtype=float)
        for row in range(len(present) - 1):
            jaccard = (signatures[row + 1:] == signatures[row]).mean(axis=1)
            # |A ∩ B| follows from the Jaccard estimate and the set sizes: J (|A| + |B|) / (1 + J).
            shared = jaccard * (sizes[row] + sizes[row + 1:]) / (1 + jaccard)
            smaller = np.minimum(sizes[row], sizes[row + 1:])
            contained = (smaller >= MIN_CONTAINED_SHINGLES) & (shared / smaller >= max(CONTAINMENT, threshold))
            for offset in np.flatnonzero((jaccard >= threshold) | contained):
                groups.union(present[row], present[row + 1 + int(offset)])
    clusters: dict[int, list[int]] = {}
    for i in range(len(texts)):
        clusters.setdefault(groups.find(i), []).append(i)
    return list(clusters.values())
