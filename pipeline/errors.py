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
        self.problem = problem
        self.line = line
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


def find_key_line(text: str, dotted_key: str) -> int | None:
    """Best-effort line number of `dotted_key` (e.g. "digest.time" or "feeds.0.url") in TOML text.

    tomllib reports positions only for syntax errors, so for validation errors we look for the
    table header and then the key below it. Array indices are skipped: the first match of the
    last name below the table is good enough to send the user to the right place.
    """
    parts = [p for p in dotted_key.split(".") if p and not p.isdigit()]
    if not parts:
        return None
    lines = text.splitlines()
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
