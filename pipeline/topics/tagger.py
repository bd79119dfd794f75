"""Topic tagging: load topic files, tag items, explain every decision.

    topics = load_topics([bundled_topic("us-china-milcomm")])
    tagger = Tagger(topics)
    tagger.tag(title, text)          # -> [Tag(topic, score, level, evidence)]
    tagger.explain(title, text)      # -> JSON-serialisable account of each rule
    print(format_explanation(tagger.explain(title, text)))

The meaning of a topic lives entirely in its TOML file; the modules behind this one only know how
to read (topic_load), match (topic_match), split text (topic_text) and score (topic_score).
"""

from __future__ import annotations

from typing import Any

from pipeline.models import Evidence, Tag

from .load import load_topic, load_topics
from .match import matcher_for
from .model import Exclusion, Group, Rule, Thresholds, Topic, primary_language
from .score import Evaluation, Scorer, explanation
from .text import sentence_starts

__all__ = [
    "Exclusion",
    "Group",
    "Rule",
    "Tagger",
    "Thresholds",
    "Topic",
    "format_explanation",
    "load_topic",
    "load_topics",
]

class Tagger:
    """Tags items with every topic whose mention threshold they pass. Compiles once, reuse it."""

    def __init__(self, topics: list[Topic]):
        self.topics = list(topics)
        self._scorers = [Scorer(t, matcher_for(t)) for t in self.topics]

    def tag(self, title: str, text: str, language: str | None = None) -> list[Tag]:
        combined, starts, titles = _prepare(title, text)
        tags = []
        for evaluation in self._evaluate(combined, starts, titles):
            if evaluation.level is None:
                continue
            evidence = tuple(Evidence(sentence=s, terms=t) for s, t in evaluation.evidence(combined))
            tags.append(
                Tag(topic=evaluation.topic.id, score=evaluation.score, level=evaluation.level, evidence=evidence)
            )
        return tags

    def explain(self, title: str, text: str, language: str | None = None) -> dict[str, Any]:
        """Why each topic was or was not tagged: matches per sentence, exclusions, arithmetic.

        Also whether the topic has words for the item's language (declared, else guessed from the
        text): an item in a language it has no rules for is untagged for lack of words, not evidence.
        """
        combined, starts, titles = _prepare(title, text)
        if not language:
            from pipeline.extract.language import detect_language

            language = detect_language(f"{title}\n{text}")
        code = primary_language(language)
        topics = []
        for evaluation in self._evaluate(combined, starts, titles, keep_all=True):
            account = explanation(evaluation, combined)
            account["language_has_rules"] = code is None or code in evaluation.topic.languages
            topics.append(account)
        return {"title": title, "language": language, "topics": topics}

    def _evaluate(self, combined: str, starts: list[int], titles: int, keep_all: bool = False) -> list[Evaluation]:
        return [scorer.evaluate(combined, starts, titles, keep_all) for scorer in self._scorers]


def _prepare(title: str, text: str) -> tuple[str, list[int], int]:
    """Headline and body as one string so offsets are shared: (text, sentence starts, headline sentences)."""
    title = " ".join((title or "").split())
    combined = f"{title}\n\n{text or ''}"
    starts = sentence_starts(title) if title else []
    titles = len(starts)
    starts += sentence_starts(text or "", offset=len(title) + 2)
    return combined, starts, titles


def format_explanation(result: dict[str, Any]) -> str:
    """Readable text for `newswatch explain`, from the dict that Tagger.explain returns."""
    lines: list[str] = []
    for topic in result["topics"]:
        t = topic["thresholds"]
        lines.append(
            f"{topic['topic']}: {topic['decision'].upper()} (score {topic['score']:.3f}; "
            f"mention >= {t['mention']}, strong >= {t['strong']})"
        )
        if not topic.get("language_has_rules", True):
            lines.append(
                f"  NO RULES for language {result['language']!r}: this topic has no words in it, so the item "
                f"cannot be tagged whatever it says (add the language to the topic file; README "
                f"'Adding or changing a topic')"
            )
        for s in topic["sentences"]:
            where = "headline" if s["headline"] else f"sentence {s['index']}"
            lines.append(f"  [{where}] {s['text']}")
            for group, terms in s["matches"].items():
                lines.append(f"      {group}: {', '.join(dict.fromkeys(terms))}")
            for x in s["excluded_by"]:
                lines.append(f"      excluded by {x}: this sentence does not count")
            for x in s["exclusions_cancelled"]:
                lines.append(f"      exclusion {x} not applied (an 'unless' group is present)")
            if s["rules_met"]:
                met = ", ".join(f"{r['rule']} ({r['weight']:.2f})" for r in s["rules_met"])
                lines.append(f"      rules met: {met} -> sentence scores {s['score']:.2f} (the largest)")
        lines.append("  rules:")
        for r in topic["rules"]:
            met = ", ".join(map(str, r["met_in"])) if r["met_in"] else "not met"
            context = "".join(
                [
                    f"; item mentions {' + '.join(r['document'])}" if r["document"] else "",
                    f"; item never mentions {' / '.join(r['not_in_document'])}" if r["not_in_document"] else "",
                ]
            )
            needs = f"needs {' + '.join(r['needs'])} within {r['within']}{context}"
            lines.append(f"    {r['rule']} ({needs}, weight {r['weight']}): {met}")
        lines.append("  exclusions:")
        for x in topic["exclusions"]:
            fired = ", ".join(map(str, x["fired_in"])) if x["fired_in"] else "did not fire"
            cancelled = f"; cancelled in {', '.join(map(str, x['cancelled_in']))}" if x["cancelled_in"] else ""
            lines.append(f"    {x['exclusion']} ({x['scope']}): {fired}{cancelled}")
        a = topic["arithmetic"]
        lines.append(f"  score: {a['combined']}")
        for p in a["penalties"]:
            lines.append(f"    then x (1 - {p['removes']}) for {p['exclusion']}")
        lines.append(f"  = {a['score']:.4f} -> {topic['decision']}")
    return "\n".join(lines)
