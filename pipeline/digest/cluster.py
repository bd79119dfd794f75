"""Group items that are the same story: wire copy run by several outlets, light rewrites, one article in two feeds.

Each text becomes a MinHash signature of its word 3-shingles. Two items are one story
when the estimated Jaccard similarity of their shingles reaches the threshold, or when nearly all of
the shorter one is contained in the longer (an outlet that runs only the first paragraphs, or a feed
summary standing in for a page we could not fetch). Groups are closed transitively.

A day holds hundreds of items, not millions, so every pair is compared on the signatures with numpy
rather than through LSH buckets: exact on the estimate, no false negatives near the threshold, and
still a few milliseconds.

The signatures are computed here with numpy, bit for bit what datasketch 2's MinHash (scheme
"affine32", seed 1) gives: importing datasketch imports its LSH module and with it SciPy, 0.7 s
that every command importing the digest paid before doing anything.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

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
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine maps h -> a h + b (mod 2^32), one per permutation; `a` odd makes each a bijection.
    Drawn as datasketch draws them for seed 1, so the signatures are the ones it would give."""
    gen = np.random.RandomState(1)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer: spreads the SHA-1 prefixes before the affine maps (uint32 wraps)."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def _signature(grams: set[str]) -> np.ndarray:
    """NUM_PERM minima of the permuted 32-bit SHA-1 prefixes of the shingles (all-ones when empty)."""
    if not grams:
        return np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    prefixes = b"".join(hashlib.sha1(g.encode("utf-8")).digest()[:4] for g in grams)
    hashes = _fmix32(np.frombuffer(prefixes, dtype="<u4").astype(np.uint32))
    a, b = _permutations()
    return (np.outer(hashes, a) + b).min(axis=0)


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
