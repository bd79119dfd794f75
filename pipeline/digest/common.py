"""Wording every digest format shares, so the header and footer read the same everywhere."""

from __future__ import annotations

from datetime import datetime

from .build import Digest


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def local_time(moment: datetime | None) -> str:
    """Moments are already in the digest's time zone; the abbreviation says which."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y %H:%M %Z}".strip()


def counts_line(digest: Digest) -> str:
    parts = [f"{plural(len(digest.stories), 'story', 'stories')} "
             f"and {plural(len(digest.mentions), 'mention')} from {plural(digest.outlets, 'outlet')}",
             f"{plural(digest.items, 'tagged item')}"]
    if digest.capped:
        parts.append(f"{digest.capped} more left out by the per-source cap")
    parts.append(f"times in {digest.timezone}")
    return " · ".join(parts)


def failing_line(digest: Digest) -> list[str]:
    """The footer's warning, so a feed that died silently is noticed; empty when all were well."""
    if not digest.failing:
        return []
    lines = ["Sources failing during the period:"]
    for f in digest.failing:
        error = f.error if len(f.error) <= 160 else f.error[:160] + "…"
        lines.append(f"{f.source} ({f.health}): {f.url}" + (f" — {error}" if error else ""))
    return lines
