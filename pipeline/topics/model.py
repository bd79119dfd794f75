"""Typed, immutable description of a topic as read from its TOML file.

The loader (topic_load) builds these; the matcher and scorer only read them, so a topic file is the
single place where what a topic means is decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Group:
    """A concept: terms in any language that all mean the same thing for this topic."""

    name: str
    terms: tuple[tuple[str, str], ...]  # (language, term) as written in the file
    patterns: tuple[str, ...] = ()  # raw regular expressions, for what terms cannot say
    implies: tuple[str, ...] = ()  # other groups a match of this one also counts as
    description: str = ""


@dataclass(frozen=True)
class Rule:
    """Groups that must all be present around one sentence for that sentence to score."""

    id: str
    all: tuple[str, ...]  # the first group must be in the scoring sentence itself
    weight: float
    within: int = 0  # how many sentences before/after may supply the other groups
    document: tuple[str, ...] = ()  # groups that must appear somewhere in the item
    not_in_document: tuple[str, ...] = ()  # groups that must appear nowhere in the item
    description: str = ""


@dataclass(frozen=True)
class Exclusion:
    """Stops sentences (or the whole item) counting when a known look-alike is present."""

    id: str
    when: tuple[str, ...]  # any of these groups triggers it
    unless: tuple[str, ...] = ()  # ...unless any of these is present in the same scope
    scope: str = "sentence"  # "sentence": the sentence cannot score; "document": score is cut
    penalty: float = 1.0  # document scope only: fraction of the score removed
    description: str = ""


@dataclass(frozen=True)
class Thresholds:
    mention: float
    strong: float


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    groups: dict[str, Group] = field(hash=False)
    rules: tuple[Rule, ...]
    exclusions: tuple[Exclusion, ...]
    thresholds: Thresholds
    title_weight: float = 1.5  # a rule met in the headline counts this many times its weight
    description: str = ""
    path: str = ""
    languages: tuple[str, ...] = ()  # languages it has words for (an item in another is counted)


def primary_language(code: str | None) -> str | None:
    """The language part of a tag as stored: 'en-US' -> 'en', 'zh_Hant' -> 'zh'; '' -> None."""
    if not code or not code.strip():
        return None
    return code.strip().replace("_", "-").split("-")[0].lower()


def languages_without_rules(by_language: dict[str, int], topics: list[Topic]) -> dict[str, dict[str, int]]:
    """{topic id: {language: items}} for the stored items in languages a topic has no words for."""
    counts: dict[str, int] = {}
    for language, n in by_language.items():
        code = primary_language(language)
        if code:
            counts[code] = counts.get(code, 0) + n
    return {
        topic.id: {code: n for code, n in sorted(counts.items()) if code not in topic.languages}
        for topic in topics
    }
