"""Feed text with our marks in it, as HTML that is safe by construction.

Every piece of feed text is escaped as it is written, only our own <mark> tags are
added around it, and the result still goes through the digest's nh3 policy before the template
sees it as markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

from pipeline.digest.html import sanitize


def _fold(text: str) -> str:
    return " ".join(text.split())


def marked_paragraphs(text: str, evidence: Sequence[dict]) -> list[Markup]:
    """The article's paragraphs, with each evidence sentence in one quiet <mark> (issue 20: marking
    term by term drowned the sentence; the terms are listed in the item's "Why tagged")."""
    sentences = [_fold(e.get("sentence") or "") for e in evidence]
    out = []
    for paragraph in re.split(r"\n\s*\n", text or ""):
        paragraph = _fold(paragraph)
        if not paragraph:
            continue
        found: list[tuple[int, int]] = []
        for sentence in sentences:
            if sentence:
                found += [(m.start(), m.end()) for m in re.finditer(re.escape(sentence), paragraph)]
        html, at = [], 0
        for start, end in sorted(found):
            if start < at:
                continue  # overlapping evidence: the first one marked wins
            html += [str(escape(paragraph[at:start])), f"<mark>{escape(paragraph[start:end])}</mark>"]
            at = end
        html.append(str(escape(paragraph[at:])))
        out.append(Markup(sanitize("".join(html))))
    return out


def snippet_html(snippet: str | None) -> Markup:
    """An FTS snippet, whose matches the store puts between \\x02 and \\x03, with the matches in <mark>."""
    parts = re.split("\x02([^\x02\x03]*)\x03", snippet or "")
    html = "".join(f"<mark>{escape(p)}</mark>" if i % 2 else str(escape(p)) for i, p in enumerate(parts))
    return Markup(sanitize(html))
