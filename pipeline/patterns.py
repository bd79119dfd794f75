"""Regular expressions that come from users (topic files, sources' `[extract] drop_text`), compiled
with RE2, whose matching time is linear in the text whatever the pattern.

Python's `re` backtracks: one pattern like `(a+)+b` and one article with 36 "a" held a worker at
full CPU for ever and stopped every cycle. RE2 cannot be made to do that. What it gives up is
what needs backtracking (backreferences like `\\1`, lookahead and lookbehind): a pattern that uses
them is refused at start-up, with what to write instead, rather than accepted and run unsafely.
Differences to know: in RE2 `\\w`, `\\d` and `\\b` are ASCII-only; `\\p{L}` is any letter.
Patterns we write ourselves (fixed, reviewed, some with lookbehind) stay on `re`.
"""

from __future__ import annotations

import functools

import re2

__all__ = ["UnsafePattern", "safe_compile"]


class UnsafePattern(ValueError):
    """A pattern RE2 cannot run: its message is one line saying why."""


@functools.lru_cache(maxsize=4096)  # extraction compiles a source's patterns for every page
def safe_compile(pattern: str, *, ignore_case: bool = False) -> re2._Regexp:
    """The pattern compiled by RE2, or UnsafePattern with RE2's reason and what to do instead."""
    options = re2.Options()
    options.log_errors = False  # the reason goes into our one-line error, not onto stderr
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = ""
        if any(mark in pattern for mark in ("(?=", "(?!", "(?<=", "(?<!")) or "invalid perl operator" in reason:
            hint = "; lookahead and lookbehind need backtracking, which is not allowed (match the text itself instead)"
        elif "escape" in reason:
            hint = "; backreferences like \\1 need backtracking, which is not allowed"
        raise UnsafePattern(f"a pattern RE2 can run in linear time expected, got {pattern!r}: {reason}{hint}") from None
