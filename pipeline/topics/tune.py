"""`newswatch topics tune`: fit a topic's rule weights and mention threshold to labelled items.

The labelled items are the reader's verdicts ("relevant (missed)" and "relevant": yes; "not
relevant": no) and the tagging evaluation set (tests/data/tagging). Which rules a sentence meets
does not depend on the weights, so each item is explained once (`Tagger.explain`) and then scored
again for any weights by the scorer's own arithmetic: a sentence scores the largest weight of the
rules it meets (times title_weight in the headline, capped at 0.99), the item 1 - Π(1 - sentence
scores), less document penalties. The fit is coordinate descent over a grid of weights and
thresholds that maximises F1 (tagged at "mention" or above = relevant); the figures it reports are
k-fold cross-validated: each fold is scored by weights fitted on the other folds only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .model import Topic
from .tagger import Tagger

WEIGHTS = tuple(round(0.05 * i, 2) for i in range(0, 21))  # 0 (rule off) .. 1
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(2, 20))  # mention threshold 0.10 .. 0.95
MAX_SENTENCE_SCORE = 0.99  # as pipeline/topics/score.py
ROUNDS = 3
# A change must raise F1 by this much: trading one error for another (F1 moves by ~1e-5) is no reason.
MIN_GAIN = 1e-3
FOLDS = 5


@dataclass(frozen=True)
class Example:
    id: str
    label: bool
    origin: str  # "verdict" or "evaluation set"
    sentences: tuple[tuple[bool, tuple[str, ...]], ...]  # (headline?, rules met) per sentence
    keep: float  # what document penalties leave of the score (1 = none)


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    n: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Params:
    weights: dict[str, float]
    mention: float
    strong: float
    title_weight: float

    def score(self, example: Example) -> float:
        remaining = 1.0
        for headline, rules in example.sentences:
            best = 0.0
            for rule in rules:
                w = self.weights.get(rule, 0.0)
                best = max(best, min(w * self.title_weight, MAX_SENTENCE_SCORE) if headline else w)
            remaining *= 1.0 - best
        return round((1.0 - remaining) * example.keep, 4)

    def tagged(self, example: Example) -> bool:
        return self.score(example) >= self.mention


@dataclass
class Change:
    rule: str
    before: float
    after: float
    gained: list[str] = field(default_factory=list)  # relevant items now tagged because of it
    lost: list[str] = field(default_factory=list)  # wrongly tagged items no longer tagged
    added_errors: list[str] = field(default_factory=list)  # not-relevant items now tagged
    dropped: list[str] = field(default_factory=list)  # relevant items no longer tagged


@dataclass
class TuneReport:
    topic: str
    examples: int
    verdicts: int
    before: Scores  # the rules as they are, on every example
    after_cv: Scores  # cross-validated: each fold scored by weights fitted on the others
    before_cv: Scores  # the same folds, the rules as they are
    fitted: Params
    original: Params
    changes: list[Change]
    mismatches: int  # examples whose replayed score differs from the tagger's (should be 0)


def examples_from(tagger: Tagger, topic: Topic, items: Iterable[dict]) -> tuple[list[Example], int]:
    """Explain each {id, title, text, lang, label, origin} once; also count replay mismatches."""
    out, mismatches = [], 0
    original = params_of(topic)
    for item in items:
        result = tagger.explain(item.get("title") or "", item.get("text") or "", item.get("lang"))
        explained = next(t for t in result["topics"] if t["topic"] == topic.id)
        keep = 1.0
        for p in explained["arithmetic"]["penalties"]:
            keep *= 1.0 - float(p["removes"])
        example = Example(
            id=str(item["id"]), label=bool(item["label"]), origin=item["origin"], keep=keep,
            sentences=tuple((bool(s["headline"]), tuple(r["rule"] for r in s["rules_met"]))
                            for s in explained["sentences"] if s["rules_met"]),
        )
        mismatches += abs(original.score(example) - float(explained["score"])) > 1e-3
        out.append(example)
    return out, mismatches


def params_of(topic: Topic) -> Params:
    return Params({r.id: r.weight for r in topic.rules}, topic.thresholds.mention, topic.thresholds.strong,
                  topic.title_weight)


def evaluate(params: Params, examples: Iterable[Example]) -> Scores:
    s = Scores()
    for e in examples:
        guess = params.tagged(e)
        s.n += 1
        s.tp += e.label and guess
        s.fp += (not e.label) and guess
        s.fn += e.label and not guess
    return s


def fit(start: Params, examples: list[Example]) -> Params:
    """Coordinate descent: each rule's weight, then the mention threshold, ROUNDS times; a change
    must raise F1 (ties keep the current value, so nothing moves without a reason)."""
    best = Params(dict(start.weights), start.mention, start.strong, start.title_weight)
    best_f1 = evaluate(best, examples).f1
    for _ in range(ROUNDS):
        moved = False
        for rule in sorted(best.weights):
            for w in WEIGHTS:
                trial = Params({**best.weights, rule: w}, best.mention, best.strong, best.title_weight)
                f1 = evaluate(trial, examples).f1
                if f1 > best_f1 + MIN_GAIN:
                    best, best_f1, moved = trial, f1, True
        for m in THRESHOLDS:
            trial = Params(best.weights, m, max(best.strong, m), best.title_weight)
            f1 = evaluate(trial, examples).f1
            if f1 > best_f1 + MIN_GAIN:
                best, best_f1, moved = trial, f1, True
        if not moved:
            break
    return best


def fold_of(example: Example, folds: int = FOLDS) -> int:
    """A stable fold per example, the same on every run."""
    return int(hashlib.sha256(example.id.encode()).hexdigest(), 16) % folds


def tune(tagger: Tagger, topic: Topic, items: list[dict], folds: int = FOLDS) -> TuneReport:
    examples, mismatches = examples_from(tagger, topic, items)
    original = params_of(topic)
    before_cv, after_cv = Scores(), Scores()
    for k in range(folds):
        train = [e for e in examples if fold_of(e, folds) != k]
        test = [e for e in examples if fold_of(e, folds) == k]
        fitted = fit(original, train)
        for total, params in ((after_cv, fitted), (before_cv, original)):
            s = evaluate(params, test)
            total.tp, total.fp, total.fn, total.n = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn, total.n + s.n
    fitted = fit(original, examples)
    return TuneReport(topic=topic.id, examples=len(examples), verdicts=sum(e.origin == "verdict" for e in examples),
                      before=evaluate(original, examples), after_cv=after_cv, before_cv=before_cv, fitted=fitted,
                      original=original, changes=changes(original, fitted, examples), mismatches=mismatches)


def changes(original: Params, fitted: Params, examples: list[Example]) -> list[Change]:
    """Each rule whose weight the fit moved, with the items that move with it (the other fitted
    values in place) — the reason, in examples."""
    out = []
    for rule in sorted(original.weights):
        if original.weights[rule] == fitted.weights.get(rule):
            continue
        change = Change(rule, original.weights[rule], fitted.weights[rule])
        without = Params({**fitted.weights, rule: original.weights[rule]}, fitted.mention, fitted.strong,
                         fitted.title_weight)
        for e in examples:
            was, now = without.tagged(e), fitted.tagged(e)
            if now and not was:
                (change.gained if e.label else change.added_errors).append(e.id)
            elif was and not now:
                (change.dropped if e.label else change.lost).append(e.id)
        out.append(change)
    return out


def format_report(report: TuneReport) -> str:
    def line(name: str, s: Scores) -> str:
        return (f"  {name:<34} precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}  "
                f"(tp {s.tp}, fp {s.fp}, fn {s.fn} of {s.n})")

    out = [f"{report.topic}: {report.examples} labelled items ({report.verdicts} reader's verdicts, "
           f"{report.examples - report.verdicts} from the evaluation set)",
           line("rules as they are, all items", report.before),
           line(f"rules as they are, {FOLDS}-fold", report.before_cv),
           line(f"tuned, {FOLDS}-fold cross-validated", report.after_cv)]
    if report.mismatches:
        out.append(f"  note: {report.mismatches} items scored differently when replayed; the figures are approximate")
    if report.fitted.mention != report.original.mention:
        out.append(f"  mention threshold {report.original.mention} -> {report.fitted.mention}"
                   + (f" (strong {report.original.strong} -> {report.fitted.strong})"
                      if report.fitted.strong != report.original.strong else ""))
    if not report.changes and report.fitted.mention == report.original.mention:
        out.append("  no change would raise F1 on these items: the rules stay as they are")
    for c in report.changes:
        reasons = []
        if c.gained:
            reasons.append(f"tags {len(c.gained)} relevant item(s) it missed ({_ids(c.gained)})")
        if c.lost:
            reasons.append(f"stops tagging {len(c.lost)} not-relevant item(s) ({_ids(c.lost)})")
        if c.added_errors:
            reasons.append(f"but tags {len(c.added_errors)} not-relevant item(s) ({_ids(c.added_errors)})")
        if c.dropped:
            reasons.append(f"but misses {len(c.dropped)} relevant item(s) ({_ids(c.dropped)})")
        why = "; ".join(reasons) or "no item changes on its own: it moves with the other changes"
        out.append(f"  rule {c.rule}: weight {c.before} -> {c.after}: {why}")
    return "\n".join(out)


def _ids(ids: list[str], shown: int = 5) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def evaluation_items(folder: Path, topic_id: str) -> list[dict]:
    """The tagging evaluation set's items (dev and heldout JSON lines) labelled for `topic_id`; the
    set is written for the bundled topic, so another topic gets none."""
    if topic_id != "us-china-milcomm" or not folder.is_dir():
        return []
    items = []
    for part in ("dev.jsonl", "heldout.jsonl"):
        path = folder / part
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    items.append({"id": row["id"], "title": row.get("title", ""), "text": row.get("text", ""),
                                  "lang": row.get("lang"), "label": bool(row["label"]), "origin": "evaluation set"})
    return items


def verdict_items(feedback: Iterable[dict], topic_id: str) -> list[dict]:
    """The reader's verdicts on `topic_id` as labelled items."""
    return [{"id": f"item-{f['entry_id']}", "title": f["title"] or "", "text": f["text"] or "",
             "lang": f["language"], "label": f["verdict"] == "relevant", "origin": "verdict"}
            for f in feedback if f["verdict"] and f["topic"] == topic_id]


_RULE_BLOCK = re.compile(r"(?ms)^\[\[rules\]\]\s*$.*?(?=^\[|\Z)")


def rewrite_topic(text: str, report: TuneReport) -> str:
    """The topic file's text with the fitted weights and thresholds; comments and order kept."""
    fitted = report.fitted

    def rule_block(match: re.Match) -> str:
        block = match.group()
        rule_id = re.search(r'(?m)^id\s*=\s*"([^"]+)"', block)
        if not rule_id or rule_id.group(1) not in fitted.weights:
            return block
        return _set_number(block, "weight", fitted.weights[rule_id.group(1)])

    text = _RULE_BLOCK.sub(rule_block, text)
    thresholds = re.search(r"(?ms)^\[thresholds\]\s*$.*?(?=^\[|\Z)", text)
    if thresholds:
        block = _set_number(thresholds.group(), "mention", fitted.mention)
        block = _set_number(block, "strong", fitted.strong)
        text = text[:thresholds.start()] + block + text[thresholds.end():]
    return text


def _set_number(block: str, key: str, value: float) -> str:
    """`key = N` in a TOML block set to `value`, left as written when it is that value already."""
    def replace(m: re.Match) -> str:
        return m.group() if float(m.group(2)) == value else f"{m.group(1)}{value}"

    return re.sub(rf"(?m)^({key}\s*=\s*)([0-9.]+)", replace, block, count=1)
