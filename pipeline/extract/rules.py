"""A source's own extraction rules: validation of its `[extract]` table and their application.

Rules use CSS selectors, which people can read off a page with the browser's inspector, and are
applied with BeautifulSoup (soupsieve). That is slower than lxml, so it only runs for sources that
have rules; everything else stays on the lxml fast path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ConfigError
from pipeline.models import ExtractionRules
from pipeline.patterns import UnsafePattern, safe_compile

DATE_ORDERS = ("MDY", "DMY", "YMD")
_KEYS = ("body", "drop", "drop_text", "date_order")

# Selectors made only of tags, classes, ids, plain attribute tests and combinators: a strict
# subset of what soupsieve accepts, checked without importing it. Importing soupsieve compiles
# its grammar's regular expressions, 0.1 s that every command loading the sources paid
# (issue 23); anything else (pseudo-classes, escapes, namespaces) still goes to soupsieve.
_WS = r"[ \t\n\r\f]"
_IDENT = r"-?[A-Za-z_][A-Za-z0-9_-]*"
_ATTRIBUTE = (rf"\[{_WS}*{_IDENT}{_WS}*(?:[~|^$*]?={_WS}*(?:{_IDENT}|\"[^\"\\\n\r\f]*\"|'[^'\\\n\r\f]*'){_WS}*)?\]")
_SIMPLE = rf"(?:\.{_IDENT}|#{_IDENT}|{_ATTRIBUTE})"
_COMPOUND = rf"(?:(?:{_IDENT}|\*){_SIMPLE}*|{_SIMPLE}+)"
_COMPLEX = rf"{_COMPOUND}(?:{_WS}*[>+~]{_WS}*{_COMPOUND}|{_WS}+{_COMPOUND})*"
PLAIN_SELECTOR = re.compile(rf"{_WS}*{_COMPLEX}(?:{_WS}*,{_WS}*{_COMPLEX})*{_WS}*")


def _check_selector(selector: str) -> None:
    """Raises what soupsieve raises for a selector it cannot compile."""
    if PLAIN_SELECTOR.fullmatch(selector):
        return
    import soupsieve

    soupsieve.compile(selector)


def _string_list(value: Any, file: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(file, f"extract.{key}", "expected a string or a list of non-empty strings")
    return tuple(v.strip() for v in value)


def parse_rules(table: dict[str, Any] | None, file: str) -> ExtractionRules:
    """Validate a source file's optional `[extract]` table into ExtractionRules.

    Keys: body, drop (CSS selectors), drop_text (regular expressions), date_order (MDY|DMY|YMD).
    Raises ConfigError(file, "extract.KEY", problem) on an unknown key, a bad selector or regex.
    """
    if table is None:
        return ExtractionRules()
    if not isinstance(table, dict):
        raise ConfigError(file, "extract", "expected a table with keys " + ", ".join(_KEYS))
    for key in table:
        if key not in _KEYS:
            raise ConfigError(file, f"extract.{key}", "unknown key; expected one of " + ", ".join(_KEYS))
    selectors: dict[str, tuple[str, ...]] = {}
    for key in ("body", "drop"):
        selectors[key] = _string_list(table.get(key, []), file, key)
        for selector in selectors[key]:
            try:
                _check_selector(selector)
            except Exception as err:  # soupsieve raises its own SelectorSyntaxError and others
                # its message goes on to draw the selector and a caret on lines of their own
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise ConfigError(file, f"extract.{key}",
                                  f"expected a CSS selector, got {selector!r}: {reason}") from err
    drop_text = _string_list(table.get("drop_text", []), file, "drop_text")
    for pattern in drop_text:
        try:
            safe_compile(pattern)
        except UnsafePattern as err:
            raise ConfigError(file, "extract.drop_text", str(err)) from None
    date_order = table.get("date_order", "MDY")
    if not isinstance(date_order, str) or date_order.upper() not in DATE_ORDERS:
        raise ConfigError(file, "extract.date_order", "expected one of " + ", ".join(DATE_ORDERS))
    return ExtractionRules(
        body=selectors["body"], drop=selectors["drop"], drop_text=drop_text, date_order=date_order.upper()
    )


def has_tree_rules(rules: ExtractionRules | None) -> bool:
    return bool(rules and (rules.body or rules.drop))


@dataclass
class RuledPage:
    html: str  # the page after `drop`, for the generic extractor
    body_html: str | None  # the elements `body` selected, when it matched anything


def apply_tree_rules(html: str, rules: ExtractionRules) -> RuledPage:
    from bs4 import BeautifulSoup  # only sources with rules need it; see PLAIN_SELECTOR

    soup = BeautifulSoup(html, "lxml")
    for selector in rules.drop:
        for element in soup.select(selector):
            element.decompose()
    selected = []
    for selector in rules.body:
        for element in soup.select(selector):
            # a selector list can pick an element and its ancestor: keep the outermost only once
            if not any(element in s.descendants or element is s for s in selected):
                selected.append(element)
    body_html = "".join(str(element) for element in selected) if selected else None
    return RuledPage(html=str(soup), body_html=body_html)


def compile_drop_text(rules: ExtractionRules | None) -> tuple[re.Pattern[str], ...]:
    return tuple(safe_compile(p) for p in rules.drop_text) if rules else ()
