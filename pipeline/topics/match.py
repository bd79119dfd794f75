"""Finds a topic's terms in text with Aho–Corasick automata built once per topic.

Term syntax (documented for users in topics/us-china-milcomm.toml):
  * a space or hyphen matches a space, hyphen or dash ("mil-to-mil" == "mil to mil");
  * words match whole; a plural or possessive ending (-s, -es, 's) is accepted automatically;
  * `*` at the end stands for any further letters ("talk*" = talk, talks, talked, talking); it
    may also end (or start) an inner word ("министр* обороны"), but such terms are run as a
    regex, which costs a scan of the text each, so listing the forms is faster;
  * a term written in capitals (US, U.S., PLA) is matched case-sensitively, others are not
    (a capital term containing a space or hyphen is matched ignoring case);
  * Chinese, Japanese and Thai terms match anywhere (those scripts do not separate words);
    Chinese terms are stored in simplified and in traditional characters, so a topic file may
    use either script. Korean terms match at the start of an eojeol (particles and endings
    follow); with a leading `*` also inside one; a one-syllable Korean term only as a whole one;
  * what else may be glued to a term depends on the language it is listed under (morph.py:
    Slavic case endings, Arabic clitics, Indonesian affixes, Vietnamese without diacritics...).
Raw regular expressions (`patterns`) run as one extra alternation, ignoring case.

Why Aho–Corasick (pyahocorasick): one pass in C finds all ~1,000 terms at once. A regex
alternation of the same terms cost 40 ms per 5 KB text, and even rendered as a trie 0.7 ms, more
than the whole 0.5 ms budget of 2,000 items/s; the automaton scan takes ~0.1 ms.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

import ahocorasick

from pipeline.patterns import safe_compile

from .model import Topic
from .morph import ARABIC_FOLD, DEFAULT, Morphology, for_language
from .text import fold, fold_separators, normalise, script_variants

# Scripts written without spaces between words (Thai) or matched inside words (CJK, Hangul).
_CJK = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_HANGUL_FIRST, _HANGUL_LAST = "\uac00", "\ud7a3"
# Combining marks count as part of a word (Devanagari vowel signs, Arabic harakat, Latin accents
# in decomposed text): isalnum() says no to them, and a term must not end before one.
_MARKS = "\u0300-\u036f\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
_JOINERS = frozenset(
    ["_"] + [chr(c) for a, b in re.findall(r"(.)(?:-(.))?", _MARKS) for c in range(ord(a), ord(b or a) + 1)]
)
_SEPARATORS = re.compile(r"[\s-]+")
_WORD_REST = re.compile(rf"[\w{_MARKS}]*")
_WORD, _WILDCARD = 0, 1
# Runs of Thai or CJK/Hangul text (everything from U+3000 up, punctuation included, so a Chinese
# paragraph is one run; single spaces inside, for Korean and Thai terms of several words). A
# negated range is several times faster to scan for than a list of blocks.
_CJK_RUN = re.compile(r"[^\x00-\u0dff\u0e80-\u2fff]+(?: [^\x00-\u0dff\u0e80-\u2fff]+)*")


RawHit = tuple[int, int, tuple[str, ...], str]  # a Hit as a plain tuple, in the hot loop


class Hit(NamedTuple):
    start: int
    end: int
    groups: tuple[str, ...]  # the group the term belongs to, then every group it implies
    term: str  # as written in the topic file (or the pattern)


@dataclass
class _Entry:
    """Everything the checks after the scan need to know about one key."""

    term: str
    groups: tuple[str, ...]
    cjk: bool
    wildcard: bool  # any word ending allowed
    capitals: str | None  # the exact form to compare with the text, for terms written in capitals
    prefixes: frozenset[str] = frozenset()  # what may be glued before it (morph.py)
    suffixes: frozenset[str] = DEFAULT.suffixes  # what may be glued after it
    inside: bool = False  # a Korean term that may sit inside an eojeol ("*국방장관")


def canonical(text: str) -> str:
    """Lower case, simplified Chinese, one space for any run of spaces and hyphens."""
    return _SEPARATORS.sub(" ", normalise(text).lower().translate(ARABIC_FOLD)).strip()


def wildcard_regex(term: str) -> str:
    """A regex for a term with `*` at the start or end of inner words (see the module docstring)."""
    words = []
    for word in re.split(r"[\s\-\u2010-\u2015]+", normalise(term.strip())):
        body = re.escape(word.strip("*")).replace("'", "['’]")
        words.append((r"\w*" if word.startswith("*") else "") + body + (r"\w*" if word.endswith("*") else ""))
    regex = r"[\s\-\u2010-\u2015]+".join(words)
    if _CJK.search(term):
        return regex
    ending = "" if term.strip().endswith("*") else r"(?:['’]s|s|es)?"
    return rf"(?<!\w){regex}{ending}(?!\w)"


@functools.lru_cache(maxsize=32)
def matcher_for(topic: Topic) -> Matcher:
    """The topic's Matcher, compiled once per process (topics are immutable): `digest` builds the
    Tagger at start-up and then highlights with the same topic, and compiling took 75 ms a time."""
    return Matcher(topic)


def is_capitals(core: str) -> bool:
    letters = [c for c in core if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


class Matcher:
    """All of one topic's terms (and patterns) compiled once; `find` returns non-overlapping hits."""

    def __init__(self, topic: Topic):
        self.topic = topic
        entries: dict[str, _Entry] = {}
        wildcards: list[str] = []  # ours, with lookbehind: Python's re
        patterns: list[str] = []  # the topic file's: RE2, linear whatever they say
        self._patterns: list[tuple[object, str, tuple[str, ...]]] = []  # re or RE2 patterns
        for group in topic.groups.values():
            groups = _closure(topic, group.name)
            for lang, term in group.terms:
                morph = for_language(lang)
                if term.startswith("*") and _CJK.search(term) and "*" not in term[1:].rstrip("*"):
                    for variant in morph.variants(term[1:]):
                        self._add(entries, variant, groups, morph, inside=True)
                    continue
                if "*" in term.strip().rstrip("*"):
                    # A wildcard inside a multi-word term ("министр* обороны") cannot be a key
                    # of the automaton, so it becomes a regex: correct, but each one costs a scan.
                    regex = wildcard_regex(term)
                    wildcards.append(regex)
                    self._patterns.append((re.compile(regex, re.IGNORECASE), term, groups))
                    continue
                for variant in morph.variants(term):
                    self._add(entries, variant, groups, morph)
            for pattern in group.patterns:
                patterns.append(f"(?:{pattern})")
                self._patterns.append((safe_compile(pattern, ignore_case=True), pattern, groups))
        # Two automata: a root with hundreds of CJK first characters slowed every step of the scan
        # of Latin text by half, so CJK terms are only looked for inside runs of CJK text.
        words = {key: e for key, e in entries.items() if not e.cjk}
        values = {
            key: (len(key), _WILDCARD if e.wildcard else _WORD, e.capitals, e.groups, e.term, e.prefixes, e.suffixes)
            for key, e in words.items()
        }
        # The automaton reports only the longest key at a position; when that one is not a whole
        # word there ("australia" in "australiano"), a shorter key it starts with may still be
        # ("australi*"). Those shorter keys, longest first, ride along with the longer one.
        self._words = _automaton(
            (key, (*value, tuple(values[key[:n]] for n in range(len(key) - 1, 0, -1) if key[:n] in values)))
            for key, value in values.items()
        )
        self._cjk = _automaton(
            (variant, (len(variant), e.groups, e.term, _hangul_check(variant, e.inside)))
            for key, e in entries.items()
            if e.cjk
            for variant in script_variants(key)
        )
        self._pattern_regexes = [
            *([re.compile("|".join(wildcards), re.IGNORECASE)] if wildcards else []),
            *([safe_compile("|".join(patterns), ignore_case=True)] if patterns else []),
        ]

    @staticmethod
    def _add(
        entries: dict[str, _Entry],
        term: str,
        groups: tuple[str, ...],
        morph: Morphology = DEFAULT,
        inside: bool = False,
    ) -> None:
        core = normalise(term.strip()).rstrip("*").strip()
        key = canonical(core)
        # Compared with the raw text, so capital terms are kept to letters and full stops.
        capitals = core if is_capitals(core) and fold_separators(core) == core else None
        entry = _Entry(
            term, groups, bool(_CJK.search(core)), term.strip().endswith("*"), capitals,
            morph.prefixes, morph.suffixes, inside,
        )  # fmt: skip
        if "-" in core.strip("-") and not entry.cjk:
            # "Mỹ-Trung" is also written "Mỹ - Trung"; folded text keeps all three characters.
            spaced = canonical(re.sub(r"\s*-\s*", "\x00", core)).replace("\x00", "   ")
            if spaced != key and spaced not in entries:
                entries[spaced] = replace(entry)
        old = entries.get(key)
        if old is not None:
            # The same words in two groups ("两军") or two languages count for both; the most
            # permissive form wins.
            old.groups = old.groups + tuple(g for g in groups if g not in old.groups)
            old.wildcard = old.wildcard or entry.wildcard
            old.capitals = old.capitals if entry.capitals is not None else None
            old.prefixes = old.prefixes | entry.prefixes
            old.suffixes = old.suffixes | entry.suffixes
            old.inside = old.inside or entry.inside
            return
        entries[key] = entry

    def find(self, text: str) -> list[Hit]:
        """Non-overlapping hits, leftmost-longest, in order of position."""
        found = self.scan(text, [0]).get(0)
        return sorted(Hit(*h) for h in found[0]) if found else []

    def scan(self, text: str, starts: list[int]) -> dict[int, tuple[list[RawHit], set[str]]]:
        """Hits grouped by sentence: {sentence index: (hits, every group they belong to)}.

        `starts` are the sentence start offsets. Grouping happens in the same loop as matching
        because on hit-dense text the per-hit Python work is most of the cost of tagging.
        """
        by_sentence: dict[int, tuple[list[RawHit], set[str]]] = {}
        folded = fold(text)
        if self._words is not None:
            size, count = len(folded), len(starts)
            word_rest = _WORD_REST.match
            joiners = _JOINERS
            # Hits arrive in text order, so the sentence is tracked by walking `starts` forward.
            index, following = -1, starts[0]
            hits: list[RawHit] = []
            groups_seen: set[str] = set()
            for last, (length, kind, capitals, groups, term, prefixes, suffixes, shorter) in self._words.iter_long(
                folded
            ):
                start, end = last - length + 1, last + 1
                whole = True
                if capitals is not None and text[start:end] != capitals:
                    whole = False
                elif start:
                    before = folded[start - 1]
                    # Most terms follow a space: one comparison settles them.
                    if before != " " and (before.isalnum() or before in joiners):
                        head = _word_start(folded, start) if prefixes else start
                        if head == start or folded[head:start] not in prefixes:
                            whole = False
                        start = head
                if whole and end < size:
                    after = folded[end]
                    if after != " " and (after.isalnum() or after in joiners):
                        rest = word_rest(folded, end).end()
                        if kind != _WILDCARD and (capitals is not None or folded[end:rest] not in suffixes):
                            whole = False
                        end = rest
                if not whole:
                    if not shorter:
                        continue
                    found = _shorter_hit(text, folded, last - length + 1, shorter)
                    if found is None:
                        continue
                    start, end, groups, term = found
                if start >= following:
                    while start >= following:
                        index += 1
                        following = starts[index + 1] if index + 1 < count else size + 1
                    hits, groups_seen = [], set()
                    by_sentence[index] = (hits, groups_seen)
                hits.append((start, end, groups, term))
                groups_seen.update(groups)
        if self._cjk is not None and not folded.isascii() and _CJK_RUN.search(folded):
            for run in _CJK_RUN.finditer(folded):
                offset = run.start()
                for last, (length, groups, term, hangul) in self._cjk.iter_long(run.group()):
                    start = offset + last - length + 1
                    if hangul and not _hangul_ok(folded, start, offset + last + 1, hangul):
                        continue
                    i = bisect_right(starts, start) - 1
                    slot = by_sentence.get(i)
                    if slot is None:
                        slot = by_sentence[i] = ([], set())
                    slot[0].append((start, start + length, groups, term))
                    slot[1].update(groups)
        if self._pattern_regexes:
            for start, end, groups, term in self._pattern_hits(text):
                slot = by_sentence.setdefault(bisect_right(starts, start) - 1, ([], set()))
                slot[0].append((start, end, groups, term))
                slot[1].update(groups)
        return by_sentence

    def _pattern_hits(self, text: str) -> list[RawHit]:
        out: list[RawHit] = []
        for regex in self._pattern_regexes:
            for m in regex.finditer(text):
                if m.end() > m.start():
                    for rx, label, groups in self._patterns:
                        if rx.fullmatch(m.group()):
                            out.append((m.start(), m.end(), groups, label))
                            break
        return out


def _shorter_hit(text: str, folded: str, start: int, shorter: tuple) -> tuple | None:
    """The longest of `shorter` (keys the rejected one starts with) that is a whole word at
    `start`, as (start, end, groups, term); None when there is none. Only reached when the
    longest key was rejected, so it costs nothing on the common path."""
    size = len(folded)
    for length, kind, capitals, groups, term, prefixes, suffixes in shorter:
        begin, end = start, start + length
        if capitals is not None and text[begin:end] != capitals:
            continue
        if begin:
            before = folded[begin - 1]
            if before != " " and (before.isalnum() or before in _JOINERS):
                head = _word_start(folded, begin)
                if not prefixes or folded[head:begin] not in prefixes:
                    continue
                begin = head
        if end < size:
            after = folded[end]
            if after != " " and (after.isalnum() or after in _JOINERS):
                rest = _WORD_REST.match(folded, end).end()
                if kind != _WILDCARD and (capitals is not None or folded[end:rest] not in suffixes):
                    continue
                end = rest
        return begin, end, groups, term
    return None


_EOJEOL_START, _WHOLE_EOJEOL = 1, 2


def _hangul_check(key: str, inside: bool) -> int:
    """Which word-edge check a Korean key needs: none (inside), the eojeol start, or both ends."""
    if inside or not _HANGUL_FIRST <= key[0] <= _HANGUL_LAST:
        return 0
    return _WHOLE_EOJEOL if len(key) == 1 else _EOJEOL_START


def _hangul_ok(folded: str, start: int, end: int, check: int) -> bool:
    if start and _HANGUL_FIRST <= folded[start - 1] <= _HANGUL_LAST:
        return False
    return check != _WHOLE_EOJEOL or end >= len(folded) or not _HANGUL_FIRST <= folded[end] <= _HANGUL_LAST


def _word_start(folded: str, start: int, longest: int = 7) -> int:
    """Where the word containing `start` begins (looking back at most `longest` characters)."""
    head = start
    while head and start - head < longest and (folded[head - 1].isalnum() or folded[head - 1] in _JOINERS):
        head -= 1
    return head


def _automaton(items: Iterable[tuple[str, tuple]]) -> ahocorasick.Automaton | None:
    automaton = ahocorasick.Automaton()
    for key, value in items:
        automaton.add_word(key, value)
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def _closure(topic: Topic, name: str) -> tuple[str, ...]:
    """The group itself followed by everything it implies, transitively."""
    order = [name]
    for current in order:
        for implied in topic.groups[current].implies:
            if implied not in order:
                order.append(implied)
    return tuple(order)
