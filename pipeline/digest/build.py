"""The digest model, and how a day's tagged items become it: selection, clustering, ranking.

A digest covers whole calendar days in the configured time zone, and holds what was *published*
on them (each item's one publication time, `TaggedItem.published`). An item published on day D but
processed only after D's digest was due goes, once, into the next digest still to come, under
"Reported earlier" with its date (`days.digest_day`); so every item is in exactly one daily digest,
however late its outlet's feed or its page. Backlog (`TaggedItem.is_backlog`: a new source's old
items, items first seen more than `max_age_days` after publication) is in none.
Renderers and deliverers only see the typed model below, never the store.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.models import FUTURE_SLACK
from pipeline.store import Store, TaggedItem, utcnow
from pipeline.topics import load_topics
from pipeline.topics.match import Matcher, matcher_for
from pipeline.topics.model import Topic

from .days import digest_day, due_at, window

SO_FAR = "sofar"  # the kind of a day's digest sent by hand before the day is over (`digest --send`)
MAX_SENTENCES = 3
MAX_SENTENCE_CHARS = 400
# A story carried by several outlets matters more than its best single score says. Scores pile up
# near 1 (one headline hit is 0.9), so the bonus must be able to lift a story past them: each
# further outlet that reports it in strong sentences adds STRONG_OUTLET_BONUS (four such outlets
# outrank a single strong sentence), an outlet that only mentions it OUTLET_BONUS. Mentions are
# ranked apart from strong stories, so a weak mention syndicated everywhere never outranks one.
OUTLET_BONUS, STRONG_OUTLET_BONUS, OUTLET_BONUS_CAP = 0.05, 0.1, 0.3


# -- the model ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    text: str
    highlight: bool = False  # a matched topic term: marked only in the "why" view
    name: bool = False  # one of the two parties' names: the only words lists and digests emphasise


@dataclass(frozen=True)
class Sentence:
    spans: tuple[Span, ...]
    evidence: bool = False  # the sentence that put the item in the digest
    lead: bool = True  # part of the article's opening; evidence from further down is shown apart

    @property
    def plain(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class Outlet:
    source: str
    title: str
    url: str | None  # None when the feed's link is not http(s): never render a javascript: link
    published: datetime | None  # in the digest's time zone
    entry_id: int


@dataclass(frozen=True)
class DigestEntry:
    """One story: every item of a cluster, under the headline of its best-scoring item."""

    key: str  # stable across rebuilds: the lowest entry id in the story
    headline: str
    level: str  # strong or mention
    score: float  # the best tag score in the story
    rank: float  # score plus a small bonus per extra outlet
    outlets: tuple[Outlet, ...]  # every item, earliest first
    published: datetime | None  # the earliest, in the digest's time zone
    first_seen: datetime  # UTC, when we first saw any of its items
    sentences: tuple[Sentence, ...]
    terms: tuple[str, ...]
    room: str | None = None  # the reading room's page for the story ("why tagged"), with [web] base_url

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.source for o in self.outlets))

    @property
    def lead(self) -> tuple[Sentence, ...]:
        return tuple(s for s in self.sentences if s.lead)

    @property
    def evidence(self) -> tuple[Sentence, ...]:
        """Evidence sentences that are not part of the lead, which renderers show on their own."""
        return tuple(s for s in self.sentences if not s.lead)

    @property
    def link(self) -> str | None:
        return next((o.url for o in self.outlets if o.url), None)


@dataclass(frozen=True)
class FailingSource:
    source: str
    url: str
    health: str  # failing, gone
    error: str


@dataclass(frozen=True)
class Digest:
    topic: str
    kind: str  # daily, weekly
    start: date  # the first day covered
    days: int
    timezone: str
    generated_at: datetime  # in the digest's time zone
    stories: tuple[DigestEntry, ...]  # strong tags, ranked
    mentions: tuple[DigestEntry, ...]  # ranked, shown compactly
    failing: tuple[FailingSource, ...]
    items: int  # tagged items before clustering and the cap
    capped: int  # stories left out by the per-source cap
    name: str = ""  # the topic's name from its file ("US–China military communication")
    # Published before the period but first processed after the digest of their own day was due:
    # "Reported earlier", each with its date, here and in no other digest.
    earlier: tuple[DigestEntry, ...] = ()
    # Items published in the period that are not in this digest: reported late, so in a later
    # digest's "Reported earlier", or backlog. Said, so that an empty past day is not a mystery.
    published_elsewhere: int = 0

    @property
    def end(self) -> date:
        """The last day covered (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def empty(self) -> bool:
        return not self.stories and not self.mentions and not self.earlier

    @property
    def covers_today(self) -> bool:
        """Whether the period includes the day it was generated on: only then may it say "today"."""
        return self.start <= self.generated_at.date() <= self.end

    @property
    def outlets(self) -> int:
        return len({s for e in (*self.stories, *self.mentions, *self.earlier) for s in e.sources})

    @property
    def period(self) -> str:
        if self.kind == "weekly":
            return f"week of {_long(self.start)} to {_long(self.end)}"
        if self.days > 1:
            return f"{_long(self.start)} to {_long(self.end)}"
        return f"{self.start:%A} {_long(self.start)}"

    @property
    def title(self) -> str:
        if self.kind != "weekly" and self.days > 1:
            # The rolling feed: one address a feed reader keeps, so it is named after its topic
            # (it was named after the first day of its window, which changes every day).
            return self.name or self.topic
        so_far = f" (so far, at {self.generated_at:%H:%M})" if self.kind == SO_FAR else ""
        return (f"{self.name or self.topic} — {'weekly digest' if self.kind == 'weekly' else 'digest'} "
                f"for {self.period}{so_far}")


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"  # not %-d: that is glibc-only


# -- building -----------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]?\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-ÞА-ЯЁЇІЄҐ])")


# Titles and abbreviations that end in a full stop without ending the sentence ("Maj. Gen. Li").
_ABBREVIATIONS = frozenset({
    "adm", "brig", "capt", "cmdr", "col", "cpl", "dr", "gen", "gov", "jr", "lt", "maj", "mr", "mrs", "ms", "no",
    "prof", "rep", "rev", "sen", "sgt", "sr", "st", "vs",
})


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        pieces = [p.strip() for p in _SENTENCE_END.split(" ".join(paragraph.split())) if p.strip()]
        merged: list[str] = []
        for piece in pieces:
            last_word = merged[-1].rsplit(" ", 1)[-1].rstrip(".").casefold() if merged else ""
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                merged[-1] = f"{merged[-1]} {piece}"  # "Maj. Li" or an initial: "John F. Smith"
            else:
                merged.append(piece)
        out += merged
    return out


def highlight(sentence: str, terms: Sequence[str], names: Sequence[tuple[int, int]] = ()) -> tuple[Span, ...]:
    """Split a sentence into plain and highlighted spans, matching terms case-insensitively; `names`
    are (start, end) offsets of the parties' names, flagged apart from the terms."""
    found: list[tuple[int, int]] = []
    lowered = sentence.casefold()
    for term in terms:
        needle = term.casefold().strip()
        # casefold can change lengths (ß -> ss); only highlight where offsets still line up.
        if not needle or len(lowered) != len(sentence):
            continue
        # Whole words only ("US" is not in "thus"), but Chinese and Japanese terms sit inside text.
        before = r"(?<!\w)" if _worded(needle[0]) else ""
        after = r"(?!\w)" if _worded(needle[-1]) else ""
        found += [m.span() for m in re.finditer(before + re.escape(needle) + after, lowered)]
    named = [(a, min(b, len(sentence))) for a, b in names]
    # Spans change only where a mark starts or ends: cut there, not character by character (a cold
    # day page splits a few hundred sentences; bench/web.py).
    cuts = sorted({0, len(sentence), *(p for span in (*found, *named) for p in span if 0 <= p <= len(sentence))})
    spans: list[Span] = []
    for a, b in itertools.pairwise(cuts):
        flags = (any(s <= a and b <= e for s, e in found), any(s <= a and b <= e for s, e in named))
        if spans and (spans[-1].highlight, spans[-1].name) == flags:
            spans[-1] = Span(spans[-1].text + sentence[a:b], *flags)  # overlapping terms: one span
        else:
            spans.append(Span(sentence[a:b], *flags))
    return tuple(spans)


@dataclass(frozen=True)
class Parties:
    """The two sides a topic is about, to emphasise their names and nothing else in lists and digests.

    Topics name them as a pair group (`us_china_pair`, implying exactly `us` and `china`); a topic
    without one has no parties and nothing is emphasised.
    """

    groups: tuple[str, ...]
    matcher: Matcher | None

    def names(self, sentence: str, terms: Sequence[str]) -> list[tuple[int, int]]:
        """Offsets of at most one name per party: the first term that earned the score and names it."""
        if self.matcher is None:
            return []
        earned = {t.casefold() for t in terms}
        # A term as the tagger kept it may run on past the name ("China's"): a prefix counts.
        hits = [h for h in self.matcher.find(sentence)
                if any(t.startswith(sentence[h.start:h.end].casefold()) for t in earned)]
        sides = set(self.groups)
        # One name per side ("Pentagon", "China's"); when a side is named only together with the
        # other ("US and Chinese", a joint mechanism), that one name says both.
        alone = [next((h for h in hits if sides & set(h.groups) == {party}), None) for party in self.groups]
        both = next((h for h in hits if sides <= set(h.groups)), None)
        if None in alone and both is not None:
            return [(both.start, both.end)]
        return [(h.start, h.end) for h in alone if h is not None]


NO_PARTIES = Parties((), None)


def topic_parties(topic: Topic) -> Parties:
    used = {g for rule in topic.rules for g in rule.all}
    for group in topic.groups.values():
        if len(group.implies) == 2 and set(group.implies) <= used:
            return Parties(tuple(group.implies), matcher_for(topic))
    return NO_PARTIES


@lru_cache(maxsize=16)
def _parties(files: tuple[Path, ...], topic: str) -> Parties:
    found = next((t for t in load_topics(list(files)) if t.id == topic), None)
    return topic_parties(found) if found is not None else NO_PARTIES


def parties(config: Config | None, topic: str) -> Parties:
    """The topic's parties, from its file; none when no configured file defines it."""
    if config is None:
        return NO_PARTIES
    try:
        return _parties(tuple(config.topic_files), topic)
    except ConfigError:
        return NO_PARTIES  # validated at start-up; a file edited since must not stop a digest


def _worded(char: str) -> bool:
    """A letter of a script that separates words with spaces (below the CJK blocks)."""
    return char.isalnum() and ord(char) < 0x2E80


def _clip(sentence: str) -> str:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return sentence
    return sentence[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"


def _same(sentence: str) -> str:
    """A sentence as the evidence and the text may each punctuate it."""
    return " ".join(sentence.split()).rstrip(".!?…\"'”’ ").casefold()


def _sentences(item: TaggedItem, sides: Parties = NO_PARTIES) -> tuple[Sentence, ...]:
    """The evidence and the article's opening for context: two or three sentences, in text order."""
    # Evidence that is just the headline adds nothing under that headline; the text says more.
    found = [e for e in item.evidence if _same(e.get("sentence") or "") not in ("", _same(item.title))][:2]
    room = (2 if len(found) <= 1 else MAX_SENTENCES) - len(found)
    text = split_sentences(item.text)
    picked: list[tuple[int, Sentence]] = []
    for e in found:
        sentence = _drop_headline(" ".join(e["sentence"].split()), item.title)
        key = _same(sentence)
        # Where the evidence sits in the text orders it among the context; not found: it goes first.
        where = next((i for i, s in enumerate(text) if key in _same(s) or _same(s) in key), -1)
        clipped, terms = _clip(sentence), e.get("terms", [])
        picked.append((where, Sentence(highlight(clipped, terms, sides.names(clipped, terms)), evidence=True)))
    taken = {where for where, _ in picked}
    context = [i for i in range(min(len(text), 3)) if i not in taken][:room]
    picked += [(i, Sentence(highlight(_clip(text[i]), []))) for i in context]
    picked.sort(key=lambda p: p[0])
    # The lead is the run of sentences from the top of the text; evidence from further down (or
    # not found in the text at all) is shown after it as what earned the tag.
    out, expected = [], 0
    for where, sentence in picked:
        lead = where == expected
        expected += lead
        out.append(Sentence(sentence.spans, sentence.evidence, lead=lead))
    return tuple(out)


def evidence_sentence(item: TaggedItem) -> str:
    """The one sentence that says why the item was tagged, as the digest shows it (an alert's quote):
    evidence that only repeats the headline gives way to the text's opening."""
    sentences = _sentences(item)
    best = next((s for s in sentences if s.evidence), sentences[0] if sentences else None)
    return best.plain if best else ""


def _drop_headline(sentence: str, title: str) -> str:
    """Taggers read the headline and the text together; a sentence glued to the headline repeats it."""
    title = " ".join(title.split())
    if title and len(sentence) > len(title) and sentence.casefold().startswith(title.casefold()):
        return sentence[len(title):].lstrip(" .:—-")
    return sentence


def safe_url(url: str | None) -> str | None:
    """Only http(s) links reach a digest; feeds can carry javascript:, data: or worse."""
    if not url:
        return None
    url = url.strip()
    if urlsplit(url).scheme.lower() not in ("http", "https") or any(c in url for c in "\"<> \n\r\t"):
        return None
    return url


def _entry(items: list[TaggedItem], tz: ZoneInfo, config: Config | None = None,
           sides: Parties = NO_PARTIES) -> DigestEntry:
    best = min(items, key=lambda i: (-i.score, i.level != "strong", i.entry_id))
    ordered = sorted(items, key=lambda i: (i.published or i.discovered_at, i.entry_id))
    outlets = tuple(
        Outlet(source=i.source, title=i.title, url=safe_url(i.url),
               published=i.published.astimezone(tz) if i.published else None, entry_id=i.entry_id)
        for i in ordered
    )
    sources = len({i.source for i in items})
    strong_sources = len({i.source for i in items if i.level == "strong"})
    bonus = STRONG_OUTLET_BONUS * max(0, strong_sources - 1) + OUTLET_BONUS * (sources - max(1, strong_sources))
    published = [o.published for o in outlets if o.published]
    terms = Counter(t for i in items for e in i.evidence for t in e.get("terms", []))
    return DigestEntry(
        key=f"entry-{min(i.entry_id for i in items)}",
        headline=" ".join((best.title or next((i.title for i in items if i.title), "") or "(no headline)").split()),
        level="strong" if any(i.level == "strong" for i in items) else "mention",
        score=best.score,
        rank=best.score + min(OUTLET_BONUS_CAP, bonus),
        outlets=outlets,
        published=min(published) if published else None,
        first_seen=min(i.discovered_at for i in items),
        sentences=_sentences(best, sides),
        terms=tuple(t for t, _ in terms.most_common()),
        room=config.item_url(best.entry_id) if config is not None else None,
    )


def _rank(entries: list[DigestEntry]) -> list[DigestEntry]:
    return sorted(entries, key=lambda e: (e.level != "strong", -e.rank, -len(e.sources), e.first_seen, e.key))


def _cap(entries: list[DigestEntry], cap: int) -> tuple[list[DigestEntry], int]:
    """Keep at most `cap` stories per source, best first, so one prolific feed cannot fill the digest.

    A story stays while any of its outlets has room: a story several outlets carry is not lost
    because one of them was busy that day.
    """
    used: Counter[str] = Counter()
    kept = []
    for entry in entries:
        if any(used[s] < cap for s in entry.sources):
            kept.append(entry)
            used.update(entry.sources)
    return kept, len(entries) - len(kept)


def cluster_items(items: Sequence[TaggedItem], threshold: float) -> list[list[TaggedItem]]:
    # Imported here: clustering needs numpy, which `health` and `status` (due days, windows) do not.
    from .cluster import cluster_texts, story_text

    groups = cluster_texts([story_text(i.title, i.text) for i in items], threshold)
    return [[items[i] for i in group] for group in groups]


@lru_cache(maxsize=16)
def _topic_names(files: tuple[Path, ...]) -> dict[str, str]:
    return {t.id: t.name for t in load_topics(list(files))}


def topic_name(config: Config, topic: str) -> str:
    """The topic's name from its file, for titles; its id when no configured file defines it."""
    try:
        return _topic_names(tuple(config.topic_files)).get(topic, topic)
    except ConfigError:
        return topic  # validated at start-up; a file edited since must not stop a digest


def digest_items(store: Store, config: Config, topic: str, start: date, days: int = 1) -> list[TaggedItem]:
    """The items of the digest for `days` days from `start`: not backlog, and `digest_day` in them."""
    begin, _ = window(start, days, config.tz)
    last = start + timedelta(days=days - 1)
    # An item is processed after it was published, give or take the clock slack publication_time
    # allows, and before its digest is due: those bound what the store must look at.
    candidates = store.tagged_items(topic, begin - FUTURE_SLACK, due_at(last, config.digest))
    return [i for i in candidates if not i.is_backlog and start <= digest_day(i, config.digest) <= last]


def build_digest(store: Store, config: Config, topic: str, start: date, *, days: int = 1,
                 kind: str = "daily", now: datetime | None = None) -> Digest:
    items = digest_items(store, config, topic, start, days)
    digest = _assemble(store, config, topic, start, days, kind, now, items)
    begin, end = window(start, days, config.tz)
    ours = {i.entry_id for i in items}
    elsewhere = sum(i.entry_id not in ours for i in store.tagged_items(topic, begin, end, by="published"))
    return replace(digest, published_elsewhere=elsewhere)


def build_published(store: Store, config: Config, topic: str, start: date, *, days: int = 1,
                    now: datetime | None = None) -> Digest:
    """What was published on these days, as a digest would show it, backlog and late reports
    included: the reading room's day pages (an archive, not a delivery)."""
    begin, end = window(start, days, config.tz)
    items = store.tagged_items(topic, begin, end, by="published")
    return _assemble(store, config, topic, start, days, "daily", now, items)


def _assemble(store: Store, config: Config, topic: str, start: date, days: int, kind: str,
              now: datetime | None, items: list[TaggedItem]) -> Digest:
    tz = config.tz
    begin, _ = window(start, days, tz)
    sides = parties(config, topic)
    groups = cluster_items(items, config.digest.cluster_threshold)
    entries = _rank([_entry(group, tz, config, sides) for group in groups])
    # A story is news of the period if any of its outlets published it then; otherwise it is a late
    # report of an older one.
    earlier = [e for e in entries if all(o.published is not None and o.published.date() < start
                                         for o in e.outlets)]
    entries = [e for e in entries if e not in earlier]
    kept, capped = _cap(entries, config.digest.per_source_cap)
    failing = tuple(
        FailingSource(source=r["source"], url=r["url"], health=r["health"] or "failing",
                      error=" ".join((r["last_error"] or "").split()))
        for r in store.failing_sources(begin)
    )
    return Digest(
        topic=topic, name=topic_name(config, topic), kind=kind, start=start, days=days,
        timezone=config.digest.timezone,
        generated_at=(now or utcnow()).astimezone(tz),
        stories=tuple(e for e in kept if e.level == "strong"),
        mentions=tuple(e for e in kept if e.level != "strong"),
        failing=failing, items=len(items), capped=capped, earlier=tuple(earlier),
    )
