"""Feed text with our marks in it, as HTML that is safe by construction.

Every piece of feed text is escaped as it is written, only our own <mark> and <strong> tags are
added around it, and the result still goes through the digest's nh3 policy before the template
sees it as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

from pipeline.digest.html import sanitize


def _fold(text: str) -> str:
    return " ".join(text.split())


def _spans(text: str, ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping [start, end) ranges."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _terms_html(text: str, terms: Sequence[str]) -> str:
    """`text` escaped, with the terms in <strong>."""
    ranges = []
    lowered = text.casefold()
    if len(lowered) == len(text):  # casefold can change lengths (ß -> ss): then offsets would lie
        for term in terms:
            needle = term.casefold().strip()
            if needle:
                ranges += [(m.start(), m.end()) for m in re.finditer(re.escape(needle), lowered)]
    out, at = [], 0
    for start, end in _spans(text, ranges):
        out += [str(escape(text[at:start])), f"<strong>{escape(text[start:end])}</strong>"]
        at = end
    out.append(str(escape(text[at:])))
    return "".join(out)


def marked_paragraphs(text: str, evidence: Sequence[dict]) -> list[Markup]:
    """The article's paragraphs, with each evidence sentence in <mark> and its terms in <strong>."""
    sentences = [(_fold(e.get("sentence") or ""), tuple(e.get("terms") or ())) for e in evidence]
    out = []
    for paragraph in re.split(r"\n\s*\n", text or ""):
        paragraph = _fold(paragraph)
        if not paragraph:
            continue
        found: list[tuple[int, int, tuple[str, ...]]] = []
        for sentence, terms in sentences:
            if sentence:
                found += [(m.start(), m.end(), terms) for m in re.finditer(re.escape(sentence), paragraph)]
        html, at = [], 0
        for start, end, terms in sorted(found):
            if start < at:
                continue  # overlapping evidence: the first one marked wins
            html += [str(escape(paragraph[at:start])), f"<mark>{_terms_html(paragraph[start:end], terms)}</mark>"]
            at = end
        html.append(str(escape(paragraph[at:])))
        out.append(Markup(sanitize("".join(html))))
    return out


def snippet_html(snippet: str | None) -> Markup:
    """An FTS snippet, whose matches the store puts between \\x02 and \\x03, with the matches in <mark>."""
    parts = re.split("\x02([^\x02\x03]*)\x03", snippet or "")
    html = "".join(f"<mark>{escape(p)}</mark>" if i % 2 else str(escape(p)) for i, p in enumerate(parts))
    return Markup(sanitize(html))
