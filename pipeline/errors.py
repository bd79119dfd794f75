"""Errors that reach the user as one clear line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


class ConfigError(Exception):
    """A configuration problem, located as precisely as we can: file, line, key."""

    def __init__(self, file: str | Path, key: str, problem: str, line: int | None = None):
        self.file = str(file)
        self.key = key
        # One line, whatever the library that found the problem printed (soupsieve draws a caret
        # under the selector on lines of its own).
        self.problem = re.sub(r"\s*\n\s*", " ", problem.strip())
        self.line = line
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {key}: {self.problem}" if key else f"{where}: {self.problem}")

    @classmethod
    def from_toml(cls, file: str | Path, exc: Exception) -> ConfigError:
        """A TOML syntax error located at its line: tomllib puts the position only in its message."""
        message = str(exc)
        position = re.search(r"\s*\(at line (\d+), column (\d+)\)", message)
        if not position:
            return cls(file, "", f"invalid TOML: {message}")
        problem = f"invalid TOML: {message[:position.start()] + message[position.end():]} at column {position[2]}"
        return cls(file, "", problem, int(position[1]))


class ConfigErrors(ConfigError):
    """Every problem found in one file, so the user fixes them in one pass instead of one per run.

    It is the first of them for code that expects one ConfigError; `errors` holds them all, each
    still one line.
    """

    def __init__(self, errors: list[ConfigError]):
        first = errors[0]
        super().__init__(first.file, first.key, first.problem, first.line)
        self.errors = list(errors)


def all_errors(exc: ConfigError) -> list[ConfigError]:
    return list(getattr(exc, "errors", [exc]))


def find_key_line(text: str, dotted_key: str) -> int | None:
    """Best-effort line number of `dotted_key` (e.g. "digest.time" or "feeds.0.url") in TOML text.

    tomllib reports positions only for syntax errors, so for validation errors we look for the
    table header and then the key below it. An index into an array of tables ("feeds.1.url")
    leads to that table ("url" under the second [[feeds]]); other indices are skipped: the first
    match of the last name below the table is good enough to send the user to the right place.
    """
    lines = text.splitlines()
    top = dotted_key.split(".")
    if len(top) >= 2 and top[1].isdigit():
        header = re.compile(r"^\s*\[\[\s*" + re.escape(top[0]) + r"\s*\]\]")
        starts = [i for i, line in enumerate(lines) if header.match(line)]
        index = int(top[1])
        if index < len(starts):
            if len(top) == 2:
                return starts[index] + 1
            stop = starts[index + 1] if index + 1 < len(starts) else len(lines)
            below = re.compile(r"^\s*[\"']?" + re.escape(top[2]) + r"[\"']?\s*=")
            return next((i + 1 for i in range(starts[index], stop) if below.match(lines[i])), starts[index] + 1)
    parts = [p for p in dotted_key.split(".") if p and not p.isdigit()]
    if not parts:
        return None
    *tables, key = parts
    start = 0
    for depth in range(len(tables), 0, -1):
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(".".join(tables[:depth])) + r"\s*\]\]?\s*(#.*)?$")
        found = next((i for i, line in enumerate(lines) if header.match(line)), None)
        if found is not None:
            start = found
            break
    pattern = re.compile(r"^\s*(\[\[?\s*)?[\"']?" + re.escape(key) + r"[\"']?\s*(=|\]|\.)")
    for i in range(start, len(lines)):
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if start else None


@dataclass(frozen=True)
class UnitFailure:
    """An unexpected exception inside one unit of work — a feed, an entry, a digest — as recorded
    against that unit. Its kind is always "internal": a bug, or an input nothing foresaw, rather
    than a site's or a network's trouble, which have kinds of their own."""

    stage: str  # feed: fetch, parse, store; entry: fetch, extract, tag, store; digest: build, render, files, email
    error: str  # the exception's class
    message: str

    kind: ClassVar[str] = "internal"

    @classmethod
    def of(cls, stage: str, exc: BaseException) -> UnitFailure:
        """What `exc` escaping `stage` records; a StageError keeps the stage it was labelled with."""
        if isinstance(exc, StageError):
            return exc.failure
        message = " ".join(str(exc).split())  # one log line, whatever the exception put in its text
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        return cls(stage, type(exc).__name__, message or repr(exc))

    def __str__(self) -> str:
        return f"{self.stage}: {self.error}: {self.message}"


MAX_MESSAGE = 500


class StageError(Exception):
    """An exception labelled with the stage it escaped from, for a boundary further up to record.

    Built from plain strings, so it pickles back from a worker process whatever the original was.
    """

    def __init__(self, failure: UnitFailure):
        super().__init__(failure)
        self.failure = failure

    def __str__(self) -> str:
        return str(self.failure)
