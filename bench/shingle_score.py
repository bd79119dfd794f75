"""Scorers for article-extraction benchmarks, as /work/shared/README.md defines them.

Word 4-grams (ScrapingHub's benchmark):

Text is split into `\\w+` words; word 4-grams of prediction and truth are counted as multisets;
per page tp/fp/fn are normalised to sum to 1; precision and recall are averaged over pages (pages
with no predicted shingles are left out of precision); F1 comes from the two averages. "Exact" is
the share of pages whose word sequence matches the truth's exactly.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

WORD = re.compile(r"\w+")
SHINGLE = 4


def words(text: str) -> list[str]:
    return WORD.findall(text or "")


def shingles(tokens: list[str], n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class PageScore:
    tp: float  # normalised: tp + fp + fn == 1 (all zero when both sides are empty)
    fp: float
    fn: float
    exact: bool
    predicted_any: bool  # False: the page is left out of the precision average

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def score_page(predicted: str, truth: str) -> PageScore:
    pred_words, true_words = words(predicted), words(truth)
    pred, true = shingles(pred_words), shingles(true_words)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    return PageScore(tp, fp, fn, pred_words == true_words, bool(pred))


@dataclass(frozen=True)
class Summary:
    f1: float
    precision: float
    recall: float
    exact: float
    pages: int


def summarise(scores: list[PageScore]) -> Summary:
    with_prediction = [s for s in scores if s.predicted_any]
    precision = sum(s.precision for s in with_prediction) / len(with_prediction) if with_prediction else 0.0
    recall = sum(s.recall for s in scores) / len(scores) if scores else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    exact = sum(s.exact for s in scores) / len(scores) if scores else 0.0
    return Summary(f1, precision, recall, exact, len(scores))


@dataclass(frozen=True)
class BagScore:
    """WCXB's per-page figures: lower-cased `\\w+` tokens compared as bags (multisets) of words."""

    precision: float
    recall: float
    f1: float


def bag_score(predicted: str, truth: str) -> BagScore:
    pred = Counter(WORD.findall((predicted or "").lower()))
    true = Counter(WORD.findall((truth or "").lower()))
    common = sum((pred & true).values())
    precision = common / sum(pred.values()) if pred else 0.0
    recall = common / sum(true.values()) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BagScore(precision, recall, f1)


def summarise_bags(scores: list[BagScore]) -> BagScore:
    """Each figure averaged over pages (an empty prediction scores 0 on all three)."""
    n = len(scores) or 1
    return BagScore(
        sum(s.precision for s in scores) / n, sum(s.recall for s in scores) / n, sum(s.f1 for s in scores) / n
    )
