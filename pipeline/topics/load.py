"""Reads topic files and turns every mistake in them into a located ConfigError at start-up."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, find_key_line
from pipeline.patterns import UnsafePattern, safe_compile

from .model import Exclusion, Group, Rule, Thresholds, Topic

# Language keys a group may list terms under. A fixed list, so a typo such as `tems` is reported
# instead of silently becoming a language nobody writes in.
LANGUAGES = frozenset(
    [
        "en",
        "zh",
        "ja",
        "ko",
        "ru",
        "uk",
        "be",
        "pl",
        "cs",
        "fr",
        "de",
        "nl",
        "es",
        "pt",
        "it",
        "ro",
        "sv",
        "no",
        "da",
        "fi",
        "tr",
        "ar",
        "fa",
        "he",
        "hi",
        "ur",
        "bn",
        "id",
        "ms",
        "vi",
        "th",
        "tl",
        "any",
    ]
)
_TOPIC_KEYS = {"id", "name", "description", "languages"}
_TOP_KEYS = {"topic", "thresholds", "scoring", "groups", "rules", "exclusions"}
_GROUP_KEYS = {"description", "implies", "patterns"}
_RULE_KEYS = {"id", "description", "all", "within", "weight", "document", "not_in_document"}
_EXCLUSION_KEYS = {"id", "description", "when", "unless", "scope", "penalty"}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def load_topics(files: list[Path]) -> list[Topic]:
    """Parse and validate each topic file; the first problem found raises ConfigError."""
    topics = [load_topic(Path(f)) for f in files]
    seen: dict[str, str] = {}
    for topic in topics:
        if topic.id in seen:
            raise ConfigError(
                topic.path, "topic.id", f"unique topic id expected; {topic.id!r} is also in {seen[topic.id]}"
            )
        seen[topic.id] = topic.path
    return topics


def load_topic(path: Path) -> Topic:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read topic file: {exc.strerror or exc}") from None
    return _parse_topic(path, text)


# Keyed on the text, not the file's mtime, so an edit is always seen. `digest` reads the topic files
# three times (the start-up check, parties, names) and parsing the TOML was most of that: issue 23.
# Topics are immutable, so every caller may share one.
@functools.lru_cache(maxsize=32)
def _parse_topic(path: Path, text: str) -> Topic:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigError(path, "", f"valid TOML expected: {exc}", line=line) from None
    return _Reader(path, text).topic(data)


def _line_from_message(message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else None


class _Reader:
    """Validates one parsed file; knows the source text so every error can carry a line."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    def fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(self.path, key, expected, line=self.line_of(key))

    def line_of(self, key: str) -> int | None:
        """Like find_key_line, but follows `rules.3.weight` to the fourth [[rules]] table."""
        parts = key.split(".")
        if len(parts) >= 2 and parts[1].isdigit():
            headers = [
                i
                for i, ln in enumerate(self.text.splitlines())
                if re.match(rf"^\s*\[\[\s*{re.escape(parts[0])}\s*\]\]", ln)
            ]
            index = int(parts[1])
            if index < len(headers):
                lines = self.text.splitlines()
                stop = headers[index + 1] if index + 1 < len(headers) else len(lines)
                if len(parts) == 2:
                    return headers[index] + 1
                pattern = re.compile(rf"^\s*{re.escape(parts[2])}\s*=")
                for i in range(headers[index], stop):
                    if pattern.match(lines[i]):
                        return i + 1
                return headers[index] + 1
        return find_key_line(self.text, key)

    # --- typed getters -------------------------------------------------------------------------

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "a table expected")
        return value

    def known_keys(self, table: dict[str, Any], allowed: set[str], key: str) -> None:
        for name in table:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                raise self.fail(where, f"unknown key; expected one of {', '.join(sorted(allowed))}")

    def string(self, table: dict[str, Any], name: str, key: str, default: str | None = None) -> str:
        value = table.get(name, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(f"{key}.{name}", "a non-empty string expected")
        return value

    def number(
        self, table: dict[str, Any], name: str, key: str, low: float, high: float, default: float | None = None
    ) -> float:
        value = table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{key}.{name}", f"a number between {low} and {high} expected")
        if not low <= value <= high:
            raise self.fail(f"{key}.{name}", f"a number between {low} and {high} expected, got {value}")
        return float(value)

    def strings(self, table: dict[str, Any], name: str, key: str, required: bool = False) -> tuple[str, ...]:
        value = table.get(name, [] if not required else None)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"{key}.{name}", "a list of non-empty strings expected")
        if required and not value:
            raise self.fail(f"{key}.{name}", "at least one entry expected")
        return tuple(v.strip() for v in value)

    # --- sections ------------------------------------------------------------------------------

    def topic(self, data: dict[str, Any]) -> Topic:
        self.known_keys(data, _TOP_KEYS, "")
        head = self.table(data.get("topic", {}), "topic")
        self.known_keys(head, _TOPIC_KEYS, "topic")
        topic_id = self.string(head, "id", "topic", default=self.path.stem)
        if not _NAME.match(topic_id):
            raise self.fail("topic.id", "letters, digits, '-' or '_' expected")
        thresholds = self.thresholds(self.table(data.get("thresholds"), "thresholds"))
        scoring = self.table(data.get("scoring", {}), "scoring")
        self.known_keys(scoring, {"title_weight"}, "scoring")
        title_weight = self.number(scoring, "title_weight", "scoring", 0.0, 5.0, default=1.5)
        groups = self.groups(self.table(data.get("groups"), "groups"))
        rules = tuple(self.rule(r, i, groups) for i, r in enumerate(self.array(data, "rules", required=True)))
        exclusions = tuple(self.exclusion(x, i, groups) for i, x in enumerate(self.array(data, "exclusions")))
        self.unique_ids([r.id for r in rules], "rules")
        self.unique_ids([x.id for x in exclusions], "exclusions")
        languages = self.strings(head, "languages", "topic")
        for language in languages:
            if language not in LANGUAGES or language == "any":
                raise self.fail("topic.languages", f"language codes among the group keys expected, got {language!r}")
        if not languages:  # not declared: every language some group lists terms under
            languages = tuple(sorted({lang for g in groups.values() for lang, _t in g.terms if lang != "any"}))
        return Topic(
            id=topic_id,
            name=self.string(head, "name", "topic", default=topic_id),
            description=self.string(head, "description", "topic", default=""),
            groups=groups,
            rules=rules,
            exclusions=exclusions,
            thresholds=thresholds,
            title_weight=title_weight,
            path=str(self.path),
            languages=languages,
        )

    def array(self, data: dict[str, Any], name: str, required: bool = False) -> list[dict[str, Any]]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(name, f"an array of tables expected ([[{name}]])")
        if required and not value:
            raise self.fail(name, f"at least one [[{name}]] table expected")
        return value

    def unique_ids(self, ids: list[str], section: str) -> None:
        for i, rid in enumerate(ids):
            if rid in ids[:i]:
                raise self.fail(f"{section}.{i}.id", f"a unique id expected; {rid!r} is used twice")

    def thresholds(self, table: dict[str, Any]) -> Thresholds:
        self.known_keys(table, {"mention", "strong"}, "thresholds")
        mention = self.number(table, "mention", "thresholds", 0.0, 1.0)
        strong = self.number(table, "strong", "thresholds", 0.0, 1.0)
        if mention <= 0 or strong < mention:
            raise self.fail("thresholds.strong", "0 < mention <= strong <= 1 expected")
        return Thresholds(mention=mention, strong=strong)

    def groups(self, table: dict[str, Any]) -> dict[str, Group]:
        groups: dict[str, Group] = {}
        for name, body in table.items():
            key = f"groups.{name}"
            body = self.table(body, key)
            if not _NAME.match(name):
                raise self.fail(key, "a group name of letters, digits, '-' or '_' expected")
            self.known_keys(body, _GROUP_KEYS | LANGUAGES, key)
            terms = tuple((lang, t) for lang in body if lang in LANGUAGES for t in self.strings(body, lang, key))
            patterns = self.strings(body, "patterns", key)
            for i, pattern in enumerate(patterns):
                self.check_regex(pattern, f"{key}.patterns", i)
            for lang, term in terms:
                self.check_term(term, f"{key}.{lang}")
            if not terms and not patterns:
                raise self.fail(key, "at least one term (e.g. en = [...]) or pattern expected")
            groups[name] = Group(
                name=name,
                terms=terms,
                patterns=patterns,
                implies=self.strings(body, "implies", key),
                description=self.string(body, "description", key, default=""),
            )
        for group in groups.values():
            self.references(group.implies, f"groups.{group.name}.implies", groups)
        return groups

    def check_regex(self, pattern: str, key: str, index: int) -> None:
        try:
            compiled = safe_compile(pattern, ignore_case=True)
        except UnsafePattern as exc:
            raise self.fail(key, f"entry {index + 1}: {exc}") from None
        if compiled.match(""):
            raise self.fail(key, f"a pattern that cannot match empty text expected; entry {index + 1} {pattern!r}")

    def check_term(self, term: str, key: str) -> None:
        if not term.strip("* -"):
            raise self.fail(key, f"a term with letters expected, got {term!r}")
        for word in re.split(r"[\s-]+", term.strip()):
            if "*" in word.strip("*"):
                raise self.fail(key, f"'*' only at the start or end of a word expected, got {term!r}")

    def references(self, names: tuple[str, ...], key: str, groups: dict[str, Group]) -> None:
        for name in names:
            if name not in groups:
                raise self.fail(key, f"a defined group expected; no [groups.{name}] in this file")

    def rule(self, body: dict[str, Any], index: int, groups: dict[str, Group]) -> Rule:
        key = f"rules.{index}"
        self.known_keys(body, _RULE_KEYS, key)
        required = self.strings(body, "all", key, required=True)
        document = self.strings(body, "document", key)
        absent = self.strings(body, "not_in_document", key)
        self.references(required, f"{key}.all", groups)
        self.references(document, f"{key}.document", groups)
        self.references(absent, f"{key}.not_in_document", groups)
        within = body.get("within", 0)
        if isinstance(within, bool) or not isinstance(within, int) or not 0 <= within <= 10:
            raise self.fail(f"{key}.within", "a whole number of sentences from 0 to 10 expected")
        return Rule(
            id=self.string(body, "id", key),
            all=required,
            weight=self.number(body, "weight", key, 0.0, 1.0),
            within=within,
            document=document,
            not_in_document=absent,
            description=self.string(body, "description", key, default=""),
        )

    def exclusion(self, body: dict[str, Any], index: int, groups: dict[str, Group]) -> Exclusion:
        key = f"exclusions.{index}"
        self.known_keys(body, _EXCLUSION_KEYS, key)
        when = self.strings(body, "when", key, required=True)
        unless = self.strings(body, "unless", key)
        self.references(when, f"{key}.when", groups)
        self.references(unless, f"{key}.unless", groups)
        scope = self.string(body, "scope", key, default="sentence")
        if scope not in ("sentence", "document"):
            raise self.fail(f"{key}.scope", '"sentence" or "document" expected')
        return Exclusion(
            id=self.string(body, "id", key),
            when=when,
            unless=unless,
            scope=scope,
            penalty=self.number(body, "penalty", key, 0.0, 1.0, default=1.0),
            description=self.string(body, "description", key, default=""),
        )
