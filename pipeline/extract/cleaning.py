"""Paragraph-level cleaning of an extractor's output: what generic extractors leave in.

Extractors decide by blocks of the page; inside the chosen block sit lines no reader counts as the
article: the headline again, "READ ALSO: …" teasers, photo credits, share and comment prompts,
newsletter promos, an author line. Each rule here looks at one paragraph at a time and is written
for any site, never for a particular one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .boilerplate import MIN_UNSPACED_CHARS as FINGERPRINT_CHARS
from .boilerplate import MIN_WORDS as FINGERPRINT_WORDS
from .boilerplate import fingerprint
from .dates import DEFAULT_CONTEXT, DateContext
from .metadata import find_date_in_text, parse_byline

_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")

# Lines that are boilerplate whatever follows them (teasers, prompts, credits, legal lines).
_BOILERPLATE_START = re.compile(
    r"""^\W{0,3}(?:
        (?:read|see|watch|listen)\s+(?:also|more|next|the\ full)\b
      | also\ read\b | also\s*:\s | filed\ under\s*:
      | related(?:\ (?:articles?|stories|news|posts?|content|coverage|reading))?\s*[:\-–—]
      | more\ (?:from|on|about)\ .{0,40}:
      | don'?t\ miss\b | recommended\ (?:for\ you|reading|stories)\b | you\ (?:may|might)\ (?:also\ )?like\b
      | trending\ now\b | most\ (?:read|popular|viewed)\b | popular\ (?:now|stories)\b
      | click\ (?:here\ )?to\b | tap\ here\b
      | leave\ a\ (?:reply|comment)\b | click\ to\ comment\b | (?:post\ a|add\ a|view|show)\ comments?\b
      | your\ email\ address\ will\ not\ be\ published\b | required\ fields\ are\ marked\b
      | recent\ (?:news|posts|stories|articles)\b | latest\ (?:news|stories|posts)\s*$
      | connect\ with\ us\b | follow\ us\b | share\ (?:this|on)\b
      | hi,?\ what\ are\ you\ looking\ for\b | search\ for\s*:?\s*$
      | sign\ up\ (?:for|to|here)\b | subscribe\ (?:to|now|for|here)\b | get\ (?:the|our)\ (?:latest|free)\b
      | (?:copyright|\(c\)|©) | all\ rights\ reserved\b
      | (?:reading\ time|read\ time|tempo\ de\ leitura|tiempo\ de\ lectura|temps\ de\ lecture|lesezeit)\b
      | \d+\s*(?:min|minutes?)\ read\s*$
      | advertisement\s*$ | sponsored\ content\b | story\ continues\ below\b
      | (?:photo|image|picture|video|illustration|source)s?\s*(?:from|by|credit|courtesy|:)\s*[^.!?]{0,60}$
      | (?:photo|image)s?\s*©
      | (?:have\ a\ )?(?:news\ )?tip\?\ | write\ to\ .{3,60}\ at\ \S+@
      | this\ (?:article|story)\ (?:was|has\ been)\ (?:sent|updated|corrected)\b
      | an\ error\ has\ occurred\b | thank\ you\ for\ (?:reading|subscribing|signing\ up)\b
      | [<‹«]\s*back\s*$ | back\ to\ top\s*$ | previous\ (?:article|post)\b | next\ (?:article|post)\b
      | (?:order\ reprints|print\ article|print\ this\ (?:page|article))\s*$
    )""",
    re.I | re.X,
)
# A line that is only a date (with an optional time) is page furniture: the date goes to metadata.
_DATE_LINE_WORDS = frozenset(
    [
        "updated",
        "published",
        "posted",
        "on",
        "at",
        "am",
        "pm",
        "a",
        "m",
        "p",
        "utc",
        "gmt",
        "et",
        "est",
        "edt",
        "pst",
        "pdt",
        "cet",
        "cest",
        "bst",
        "ist",
        "last",
        "modified",
        # "at", "on" and "o'clock" in the languages of the sources: "à 18:05", "um 18:05 Uhr"
        "à",
        "às",
        "um",
        "uhr",
        "alle",
        "las",
        "le",
        "de",
        "del",
        "el",
        "den",
        "h",
        "date",
        "time",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
_TEASER_TAG = re.compile(r"\[[A-Z][A-Z ]{2,15}\]\s*$")  # "… rules for drones [ANALYSIS]": a tagged teaser
# Promos mention the reader's inbox or the publisher's app wherever they start; article prose rarely
# does in a short paragraph.
_PROMO_ANYWHERE = re.compile(
    r"\b(?:newsletters?|sign\ up|subscribe|subscription|your\ inbox|our\ app|the\ app\ store|podcast\ feed"
    r"|listen\ (?:back|again)\b|watch\ (?:back|again)\b"
    r"|for\ your\ personal,?\ non-commercial\ use|if\ you\ enjoyed\ this\ (?:article|story)"
    r"|follow\ (?:us|\w+(?:\ \w+)?)\ on\ (?:twitter|facebook|instagram|x\b))",
    re.I,
)
# a line that is only an address: a link, a bare "site.com/handle" or an e-mail (contact furniture)
_URL_ONLY = re.compile(r"^\W*(?:https?://|www\.|[\w-]+\.(?:com|org|net)/)\S+$|^\W*[\w.+-]+@[\w-]+(?:\.[\w-]+)+\W*$")
MAX_PROMO_ANYWHERE_WORDS = 40
MIN_TEASER_LINK_WORDS = 3
MAX_TEASER_SHARE = 0.4
MAX_DATE_LABEL_WORDS = 2
_ZONE_NAME = re.compile(r"[A-Z]{2,5}")
MAX_KICKER_WORDS = 4  # "US-China", "World | Asia": the section label set above a headline
KICKER_SCAN = 4
MIN_OPENING_WORDS = 8
MAX_LABEL_CHARS = 12
_SENTENCE_ENDS = (".", "!", "?", "”", '"', "。", "！", "？")
_LINK_ROW_SEPARATOR = re.compile(r"\s*[,»›]\s*")
MAX_LINK_ROW_CHARS = 200
MAX_PROMO_WORDS = 25  # pattern rules only fire on short lines: a long paragraph is prose whatever it starts with


@dataclass
class CleaningResult:
    paragraphs: list[str]
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    dropped: int = 0
    words: int | None = None  # the article's word count, once someone has counted


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def count_words(line: str, folded: list[str] | None = None) -> int:
    """The line's words. Chinese and Japanese do not put spaces between words: their characters
    count at about two per word, so a CJK article passes the same length threshold as a European
    one. `folded` are the line's casefolded words when known: for ASCII the same count."""
    if folded is not None and line.isascii():
        return len(folded)
    return len(_WORD.findall(line)) + len(_CJK.findall(line)) // 2


def is_generic_boilerplate(line: str, words: int | None = None) -> bool:
    """A promo, teaser, prompt, credit or legal line; `words` is its word count when known."""
    if words is None:
        words = len(_words(line))
    if words <= MAX_PROMO_WORDS and (_BOILERPLATE_START.search(line) or _TEASER_TAG.search(line)):
        return True
    return bool(_URL_ONLY.match(line)) or (words <= MAX_PROMO_ANYWHERE_WORDS and bool(_PROMO_ANYWHERE.search(line)))


def link_key(line: str) -> str:
    """Key for comparing a paragraph with the page's link texts (one-word menu entries count too)."""
    return " ".join(_WORD.findall(line.casefold()))


def _is_list_teaser(line: str, link_texts: frozenset[str]) -> bool:
    """A list item opening with a link's text: "- Headline  One-line summary" in a related box."""
    if not line.startswith(("-", "•", "*")):
        return False
    words = link_key(line).split()
    return any(" ".join(words[:n]) in link_texts for n in range(MIN_TEASER_LINK_WORDS, len(words)))


def _is_link_row(line: str, link_texts: frozenset[str]) -> bool:
    """Two or more of the page's link texts and nothing else but commas or breadcrumb arrows: a
    post's categories or tags ("Travel, Food"), a breadcrumb ("Home » Travel"). Not "|": a row
    of links set apart by bars is as often the story's own (shop buttons, a venue and its photographer)."""
    if len(line) > MAX_LINK_ROW_CHARS or not _LINK_ROW_SEPARATOR.search(line):
        return False
    parts = [key for part in _LINK_ROW_SEPARATOR.split(line) if (key := link_key(part))]
    return len(parts) >= 2 and all(part in link_texts for part in parts)


def _is_label(line: str) -> bool:
    """A few words without a sentence's punctuation: a section label or breadcrumb, not prose."""
    return len(_words(line)) <= MAX_KICKER_WORDS and not line.rstrip().endswith(
        (".", "!", "?", "”", '"', "。", "！", "？")
    )


def _is_widget_label(line: str, following: str) -> bool:
    """One short word on its own line, not the start of a sentence broken over lines."""
    words = _words(line)
    return len(words) == 1 and len(words[0]) <= MAX_LABEL_CHARS and _is_label(line) and not following[:1].islower()


def _is_date_line(line: str, dates: DateContext) -> datetime | None:
    """The date of a line that is only a date and time, perhaps under a label of its own:
    "Updated 10:05 EST, Dec 1, 2023", "기사입력 : 2023-12-01 17:32", "Dec 1, 2023 - 11:28 AMT"."""
    if len(line) > 60:
        return None
    digit = _DIGIT.search(line)
    if digit is None:  # every date pattern has a number in it
        return None
    if " | " in line and any(
        _DIGIT.search(part) and find_date_in_text(part, dates) is None for part in line.split(" | ")
    ):
        return None  # a table row of a date and its figures ("1/1/2013 | +13.1%"), data, not a dateline
    first_digit = digit.start()
    label = [w for w in _words(line[:first_digit]) if w.lower() not in _DATE_LINE_WORDS]
    rest = [w for w in _words(line[first_digit:]) if not w.isdigit() and w.lower() not in _DATE_LINE_WORDS]
    # a label before the date in a language the word list does not know; after it, at most a
    # zone abbreviation: anything more is a sentence or a listing that mentions a date
    if len(label) > MAX_DATE_LABEL_WORDS or len(rest) > 1 or (rest and not _ZONE_NAME.fullmatch(rest[0])):
        return None
    return find_date_in_text(line, dates)


def clean_paragraphs(
    paragraphs: Iterable[str],
    *,
    titles: set[str] = frozenset(),  # type: ignore[assignment]
    link_texts: frozenset[str] = frozenset(),
    known_boilerplate: frozenset[str] = frozenset(),
    drop_text: tuple[re.Pattern[str], ...] = (),
    dates: DateContext = DEFAULT_CONTEXT,
    standfirst: str = "",
) -> CleaningResult:
    """Drop boilerplate paragraphs; lift author and date lines into metadata.

    `titles` are headline forms (the text restates them), `link_texts` the fingerprints of the
    page's link texts (a paragraph that is nothing but a link is a teaser, not prose),
    `known_boilerplate` a source's learned recurring lines, `drop_text` a source's own patterns.
    """
    title_keys = {link_key(t) for t in titles} - {""}
    standfirst_key = fingerprint(standfirst) if standfirst else ""
    lines = [line for raw in paragraphs if (line := raw.strip())]
    teasers = {i for i, line in enumerate(lines) if _is_list_teaser(line, link_texts)}
    # A list of linked items that makes up most of the text is the article (a link round-up), not a
    # related-stories box.
    if teasers and sum(len(_words(lines[i])) for i in teasers) > MAX_TEASER_SHARE * sum(
        len(_words(x)) for x in lines
    ):
        teasers = set()
    headline = next((i for i, line in enumerate(lines[:KICKER_SCAN]) if link_key(line) in title_keys), -1)
    # one-word lines before the first paragraph of prose are widget labels ("Caption", "Close")
    opening = next((i for i, line in enumerate(lines) if len(_words(line)) >= MIN_OPENING_WORDS), len(lines))
    result = CleaningResult(paragraphs=[])
    words = 0
    for i, line in enumerate(lines):
        # one tokenisation per line serves every key: `link_key`, and `fingerprint` (the list marks
        # it strips are not word characters)
        tokens = _WORD.findall(line.casefold())
        joined = " ".join(tokens)
        key = joined if len(tokens) >= FINGERPRINT_WORDS or len(joined) >= FINGERPRINT_CHARS else ""
        if (
            i in teasers
            or (i < headline and _is_label(line))
            or (i < opening and _is_widget_label(line, lines[i + 1] if i + 1 < len(lines) else ""))
            or joined in title_keys
            or (key and key == standfirst_key and len(result.paragraphs) < 2)
            or (key and key in known_boilerplate)
            or joined in link_texts
            or _is_link_row(line, link_texts)
            or is_generic_boilerplate(line, len(tokens))
            or any(p.search(line) for p in drop_text)
        ):
            result.dropped += 1
            continue
        byline = parse_byline(line, dates) if len(line) < 120 else None
        if byline:
            result.authors.extend(byline[0])
            result.published = result.published or byline[1]
            result.dropped += 1
            continue
        date = _is_date_line(line, dates)
        if date:
            result.published = result.published or date
            result.dropped += 1
            continue
        result.paragraphs.append(line)
        words += count_words(line, tokens)
    result.words = words  # counted here, where each line is tokenised already
    return result
