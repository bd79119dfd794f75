"""Applies one topic's rules and exclusions to an item's sentences and keeps the reasoning.

Scoring, in the order a reader of `newswatch explain` sees it:
  1. each sentence collects the groups its terms belong to (plus the groups they imply);
  2. a sentence-scope exclusion whose `when` group is present, and none of whose `unless` groups
     is, silences that sentence: it neither scores nor lends groups to its neighbours;
  3. a rule is met at a sentence when its first group is in that sentence and each other group is
     within `within` sentences of it, every `document` group is somewhere in the item and no
     `not_in_document` group is (these two look at all sentences, silenced ones included: they
     ask what the item is about, not what earns the score);
  4. the sentence scores the largest weight among the rules it meets, times title_weight in the
     headline (capped at 0.99);
  5. item score = 1 - product(1 - sentence score): independent pieces of evidence add up, and
     no amount of it passes 1; document-scope exclusions then remove their penalty share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .match import Matcher, RawHit
from .model import Topic
from .text import Sentence

_MAX_SENTENCE_SCORE = 0.99
# Evidence kept per tag: the best sentences, in text order. A digest shows two or three; keeping
# every scoring sentence of a long article only costs time and space.
MAX_EVIDENCE = 8


@dataclass(slots=True)
class SentenceResult:
    sentence: Sentence
    hits: list[RawHit]  # (start, end, groups, term), in text order
    groups: set[str]  # every group any hit in the sentence belongs to or implies
    excluded_by: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # exclusions an `unless` group stopped
    rules: list[tuple[str, float]] = field(default_factory=list)  # (rule id, weight as counted)
    score: float = 0.0

    def matches(self, text: str) -> dict[str, list[str]]:
        """group -> the terms as they appear in the text (built only when someone asks)."""
        out: dict[str, list[str]] = {}
        for start, end, groups, _term in self.hits:
            for group in groups:
                out.setdefault(group, []).append(text[start:end])
        return out


@dataclass
class Evaluation:
    topic: Topic
    sentences: list[SentenceResult]  # every sentence with a match when explaining, else the evidence
    penalties: list[tuple[str, float]]
    score: float
    level: str | None  # "strong", "mention" or None

    def evidence(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(sentence, the terms that earned its score) for every sentence that earned part of the score.

        Only the terms of the groups the sentence's rules need: a digest highlights what earned
        the score, not every word a group happens to list ("the two", a bare "Chinese").
        """
        needs = {rule.id: set(rule.all) for rule in self.topic.rules}
        out = []
        for result in self.sentences:
            if result.score > 0:
                sentence = text[result.sentence.start : result.sentence.end].strip()
                wanted = set().union(*(needs.get(rule_id, ()) for rule_id, _weight in result.rules))
                hits = [h for h in result.hits if wanted & set(h[2])] or result.hits
                terms = tuple(dict.fromkeys([text[h[0] : h[1]] for h in hits]))
                out.append((sentence, terms))
        return out


@dataclass(frozen=True)
class _CompiledRule:
    id: str
    anchor: str
    others: frozenset[str]
    document: frozenset[str]
    absent: frozenset[str]
    within: int
    weight: float
    title_weight: float


@dataclass(frozen=True)
class _CompiledExclusion:
    id: str
    when: frozenset[str]
    unless: frozenset[str]


class Scorer:
    """One topic's rules as sets, prepared once, so scoring an item is set arithmetic."""

    def __init__(self, topic: Topic, matcher: Matcher):
        self.topic = topic
        self.matcher = matcher
        # Heaviest first: when tagging, a sentence stops at the first rule it meets.
        self._rules = sorted(
            [
                _CompiledRule(
                    r.id,
                    r.all[0],
                    frozenset(r.all[1:]),
                    frozenset(r.document),
                    frozenset(r.not_in_document),
                    r.within,
                    r.weight,
                    min(r.weight * topic.title_weight, _MAX_SENTENCE_SCORE),
                )
                for r in topic.rules
            ],
            key=lambda r: -r.weight,
        )
        self._needed = [frozenset(r.all) | frozenset(r.document) for r in topic.rules]
        self._document_exclusions = [x for x in topic.exclusions if x.scope == "document"]
        self._triggers = frozenset(g for x in topic.exclusions if x.scope == "sentence" for g in x.when)
        self._exclusions = [
            _CompiledExclusion(x.id, frozenset(x.when), frozenset(x.unless))
            for x in topic.exclusions
            if x.scope == "sentence"
        ]

    def evaluate(self, text: str, starts: list[int], titles: int, keep_all: bool = False) -> Evaluation:
        """Score one item. `starts` are sentence start offsets; the first `titles` are the headline.

        keep_all keeps every sentence with a match (for explain); otherwise only scoring ones.
        """
        topic = self.topic
        scanned = self.matcher.scan(text, starts)
        present: set[str] = set().union(*(groups for _h, groups in scanned.values())) if scanned else set()
        penalties = self._document_penalties(present)
        if not any(needed <= present for needed in self._needed):
            # Most items never contain every group of any rule: no per-sentence work at all.
            results = self._results(scanned, scanned, starts, titles, len(text)) if keep_all else []
            return Evaluation(topic, results, penalties, 0.0, None)

        excluded: dict[int, list[str]] = {}
        cancelled: dict[int, list[str]] = {}
        triggers = self._triggers
        for i, (_hits, groups) in scanned.items():
            if triggers.isdisjoint(groups):
                continue
            for x in self._exclusions:
                if not x.when.isdisjoint(groups):
                    (cancelled if not x.unless.isdisjoint(groups) else excluded).setdefault(i, []).append(x.id)
        active = {i: groups for i, (_hits, groups) in scanned.items() if i not in excluded}
        rules = [r for r in self._rules if r.document <= present and r.absent.isdisjoint(present)]

        met: dict[int, list[tuple[str, float]]] = {}
        best: dict[int, float] = {}
        for i, groups in active.items():
            for rule in rules:
                if rule.anchor not in groups:
                    continue
                nearby = groups
                if rule.within:
                    nearby = set().union(*(active.get(j, ()) for j in range(i - rule.within, i + rule.within + 1)))
                if rule.others <= nearby:
                    weight = rule.title_weight if i < titles else rule.weight
                    met.setdefault(i, []).append((rule.id, weight))
                    best[i] = max(best.get(i, 0.0), weight)
                    if not keep_all:
                        break  # rules are sorted heaviest first: this one sets the sentence score

        remaining = 1.0
        for weight in best.values():
            remaining *= 1.0 - weight
        score = 1.0 - remaining
        for _id, penalty in penalties:
            score *= 1.0 - penalty
        score = round(score, 4)
        thresholds = topic.thresholds
        level = "strong" if score >= thresholds.strong else "mention" if score >= thresholds.mention else None

        keep: Mapping[int, object] = scanned if keep_all else _strongest(best, MAX_EVIDENCE)
        results = self._results(scanned, keep, starts, titles, len(text))
        for r in results:
            i = r.sentence.index
            r.excluded_by = excluded.get(i, [])
            r.cancelled = cancelled.get(i, [])
            r.rules = met.get(i, [])
            r.score = best.get(i, 0.0)
        return Evaluation(topic, results, penalties, score, level)

    @staticmethod
    def _results(
        scanned: dict[int, tuple[list[RawHit], set[str]]],
        keep: Mapping[int, object],
        starts: list[int],
        titles: int,
        size: int,
    ) -> list[SentenceResult]:
        last = len(starts) - 1
        return [
            SentenceResult(
                Sentence(i, starts[i], starts[i + 1] if i < last else size, i < titles), sorted(hits), groups
            )
            for i, (hits, groups) in sorted(scanned.items())
            if i in keep
        ]

    def _document_penalties(self, present: set[str]) -> list[tuple[str, float]]:
        return [
            (x.id, x.penalty)
            for x in self._document_exclusions
            if any(g in present for g in x.when) and not any(g in present for g in x.unless)
        ]


def _strongest(best: dict[int, float], limit: int) -> dict[int, float]:
    if len(best) <= limit:
        return best
    chosen = sorted(best, key=lambda i: (-best[i], i))[:limit]
    return {i: best[i] for i in chosen}


def explanation(evaluation: Evaluation, text: str) -> dict[str, Any]:
    """JSON-serialisable account of every rule's and exclusion's result for one topic."""
    topic = evaluation.topic
    sentences = []
    for r in evaluation.sentences:
        sentences.append(
            {
                "index": r.sentence.index,
                "headline": r.sentence.is_title,
                "text": text[r.sentence.start : r.sentence.end].strip(),
                "matches": r.matches(text),
                "excluded_by": r.excluded_by,
                "exclusions_cancelled": r.cancelled,
                "rules_met": [{"rule": rid, "weight": round(w, 4)} for rid, w in r.rules],
                "score": round(r.score, 4),
            }
        )
    scored = [round(r.score, 4) for r in evaluation.sentences if r.score > 0]
    formula = " × ".join(f"(1 - {s:.2f})" for s in scored) or "1"
    before = round(1.0 - _product(1.0 - s for s in scored), 4)
    return {
        "topic": topic.id,
        "name": topic.name,
        "decision": evaluation.level or "not tagged",
        "score": evaluation.score,
        "thresholds": {"mention": topic.thresholds.mention, "strong": topic.thresholds.strong},
        "sentences": sentences,
        "rules": [
            {
                "rule": rule.id,
                "description": rule.description,
                "needs": list(rule.all),
                "document": list(rule.document),
                "not_in_document": list(rule.not_in_document),
                "within": rule.within,
                "weight": rule.weight,
                "met_in": [r.sentence.index for r in evaluation.sentences if any(x == rule.id for x, _w in r.rules)],
            }
            for rule in topic.rules
        ],
        "exclusions": [
            {
                "exclusion": x.id,
                "description": x.description,
                "scope": x.scope,
                "fired_in": [r.sentence.index for r in evaluation.sentences if x.id in r.excluded_by]
                if x.scope == "sentence"
                else ["document"]
                if any(pid == x.id for pid, _p in evaluation.penalties)
                else [],
                "cancelled_in": [r.sentence.index for r in evaluation.sentences if x.id in r.cancelled],
            }
            for x in topic.exclusions
        ],
        "arithmetic": {
            "sentence_scores": scored,
            "combined": f"1 - {formula} = {before:.4f}",
            "penalties": [{"exclusion": pid, "removes": p} for pid, p in evaluation.penalties],
            "score": evaluation.score,
        },
    }


def _product(values: Any) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out
