"""`newswatch search` query syntax for PostgreSQL: the SQLite store's FTS5 syntax, as tsquery SQL.

Users write the same query on both backends: words (all must match), "quoted phrases", `OR`,
`NOT`, `AND`, parentheses and `prefix*`. A query that does not parse is searched as its plain
words, as the SQLite store does with FTS5's own syntax errors.

PostgreSQL's `simple` parser (and SQLite's unicode61) reads a run of Chinese or Japanese
characters as one word, so a search for one word inside a sentence would never match. Han and kana
characters are therefore indexed one by one, and a query word written in them becomes a phrase of
its characters. Korean is written in words, but particles and endings are glued to them (국방장관은,
통화했다), so a whole word is rarely the one searched for: Hangul syllables are indexed one by one
too, and 국방장관 is found as the phrase 국 방 장 관 inside 국방장관은. Both backends use these
functions, so they find the same items.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


def compiled_on_first_use(pattern: str):
    """`re.compile(pattern)`, done at the first call: the CJK classes here and in the SQLite store
    cost ~30 ms to compile, at the start of every command that opens the store, most of which never
    index or search CJK text (issue 23)."""
    return functools.cache(lambda: re.compile(pattern))


_HAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3"  # jamo, compatibility jamo, syllables
_CJK = _HAN + _HANGUL  # indexed character by character
_CJK_CHAR = compiled_on_first_use(f"([{_CJK}])")
# A space index_text put beside a Chinese character, next to another or to CJK punctuation, either
# perhaps inside the match marks of a snippet ([ ] for `newswatch search`, \x02 \x03 for the reading room).
_CJK_TEXT = _HAN + "\u3000-\u303f\uff00-\uffef"
_CJK_GAP = compiled_on_first_use(f"(?:(?<=[{_CJK_TEXT}])|(?<=[{_CJK_TEXT}][\\]\x03])) +(?=[\\[\x02]?[{_CJK_TEXT}])")
# Korean keeps its spaces between words: only the one space index_text put on each side of a
# syllable goes (inside the snippet's marks or outside them), so 국방장관은 통화했다 reads as written.
_HANGUL_BEFORE = compiled_on_first_use(f" (?=[\\[\x02]?[{_HANGUL}])")
_HANGUL_AFTER = compiled_on_first_use(f"(?:(?<=[{_HANGUL}])|(?<=[{_HANGUL}][\\]\x03])) ")
# Where one marked Chinese character or Korean syllable ends and the next begins.
_CJK_MARKS = compiled_on_first_use(f"(?<=[{_CJK}])(?:\\]\\[|\x03\x02)(?=[{_CJK}])")
_TOKEN = re.compile(r'\s*(?:(")([^"]*)"|([()])|([^\s"()]+))')

# ISO 639-1 codes of the languages PostgreSQL ships a stemmer for; the rest are searched as `simple`.
TS_CONFIGS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch",
    "en": "english", "et": "estonian", "fi": "finnish", "fr": "french", "de": "german", "el": "greek",
    "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "no": "norwegian", "nb": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish",
    "yi": "yiddish",
}


def ts_config(language: str | None, available: frozenset[str]) -> str:
    """The text search configuration for an item's language ("en-GB" -> english); `simple` if unknown."""
    code = (language or "").split("-")[0].split("_")[0].lower()
    name = TS_CONFIGS.get(code, "simple")
    return name if name in available else "simple"


def index_text(text: str) -> str:
    """Text as it goes into the index (to_tsvector, SQLite's articles_fts): Han, kana and Hangul
    characters made words of their own, with one space on each side."""
    return _CJK_CHAR().sub(r" \1 ", text)


def readable_snippet(snippet: str) -> str:
    """Undo index_text's spacing in a ts_headline snippet, on one line like the SQLite store's. A
    phrase of Chinese characters, marked character by character, becomes one marked run as there."""
    snippet = _HANGUL_AFTER().sub("", _HANGUL_BEFORE().sub("", snippet))
    return _CJK_MARKS().sub("", _CJK_GAP().sub("", " ".join(snippet.split())))


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Op:
    kind: str  # and, or, not
    left: Node
    right: Node


Node = Term | Op


class _SyntaxError(Exception):
    pass


def parse(query: str) -> Node | None:
    """The query as a tree; None when it has no words at all."""
    tokens = _tokens(query)
    try:
        parser = _Parser(tokens)
        node = parser.expression()
        if parser.pos != len(tokens):
            raise _SyntaxError
        return node
    except _SyntaxError:
        words = [Term(t[1]) for t in tokens if t[0] == "word" and t[1] not in ("AND", "OR", "NOT")]
        words += [Term(t[1]) for t in tokens if t[0] == "phrase"]
        node = None
        for word in words:
            node = word if node is None else Op("and", node, word)
        return node


def _tokens(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if not match:
            # an unclosed quote: the rest is one phrase
            rest = query[pos:].strip().lstrip('"')
            if rest:
                tokens.append(("phrase", rest))
            break
        pos = match.end()
        if match.group(1):
            tokens.append(("phrase", match.group(2)))
        elif match.group(3):
            tokens.append((match.group(3), match.group(3)))
        elif match.group(4):
            tokens.append(("word", match.group(4)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.pos = tokens, 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _operator(self, name: str) -> bool:
        token = self._peek()
        if token == ("word", name):
            self.pos += 1
            return True
        return False

    def expression(self) -> Node:
        node = self._and()
        while self._operator("OR"):
            node = Op("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while True:
            if self._operator("AND"):
                node = Op("and", node, self._not())
                continue
            token = self._peek()
            if token is None or token[0] == ")" or token == ("word", "OR"):
                return node
            node = Op("and", node, self._not())

    def _not(self) -> Node:
        node = self._primary()
        while self._operator("NOT"):
            node = Op("not", node, self._primary())
        return node

    def _primary(self) -> Node:
        token = self._peek()
        if token is None or token[0] == ")" or token in (("word", "AND"), ("word", "OR"), ("word", "NOT")):
            raise _SyntaxError
        self.pos += 1
        if token[0] == "(":
            node = self.expression()
            if self._peek() != (")", ")"):
                raise _SyntaxError
            self.pos += 1
            return node
        if token[0] == "phrase":
            return Term(token[1])
        word = token[1]
        if word.endswith("*") and len(word) > 1:
            return Term(word[:-1], prefix=True)
        return Term(word)


def to_tsquery_sql(node: Node, config: str) -> tuple[str, list[str]]:
    """SQL for a tsquery built from `node` under the configuration expression `config`, with its
    parameters: every word goes through the configuration, so it is stemmed as the text was."""
    if isinstance(node, Term):
        if node.prefix and not _CJK_CHAR().search(node.text):
            return f"to_tsquery({config}, %s)", ["'" + node.text.replace("'", "''").replace("\\", "") + "':*"]
        return f"phraseto_tsquery({config}, %s)", [index_text(node.text)]
    left, left_args = to_tsquery_sql(node.left, config)
    right, right_args = to_tsquery_sql(node.right, config)
    if node.kind == "not":
        return f"({left} && !!({right}))", left_args + right_args
    return f"({left} {'&&' if node.kind == 'and' else '||'} {right})", left_args + right_args
