"""Typed records passed between pipeline stages.

Data flows one way: sources -> fetch -> feeds -> extract -> topics -> store -> digest -> deliver.
Each stage takes and returns these dataclasses, so a stage can be rewritten without touching the
others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class FeedConfig:
    url: str
    interval: int | None = None  # seconds; None means the global poll interval


@dataclass(frozen=True)
class ExtractionRules:
    """Per-source hints for the extractor (all optional)."""

    body: tuple[str, ...] = ()  # CSS selectors for the article body
    drop: tuple[str, ...] = ()  # CSS selectors for elements to remove
    drop_text: tuple[str, ...] = ()  # regular expressions; matching paragraphs are removed
    date_order: str = "MDY"  # how to read ambiguous numeric dates: "MDY", "DMY" or "YMD"
    timezone: str | None = None  # IANA zone of the source's times that give none ("Asia/Shanghai")


@dataclass(frozen=True)
class Source:
    name: str
    homepage: str
    language: str
    feeds: tuple[FeedConfig, ...]
    rules: ExtractionRules = field(default_factory=ExtractionRules)
    min_delay: float | None = None  # seconds between requests to this source's hosts
    path: str = ""  # the TOML file it came from
    category: str = ""  # a folder to group sources by (an OPML import keeps the reader's folders)
    critical: bool = False  # `health` is red as soon as this source's feeds have all failed for long
    max_age_days: int | None = None  # overrides [digest] max_age_days for this source
    only_new: bool = False  # a new feed's first poll is all backlog (`sources add --only-new`)


@dataclass(frozen=True)
class FetchResult:
    """What the HTTP client returns: a body, a 304, or an error, never an exception."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int  # HTTP status; 0 when no response arrived
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    error: str | None = None  # one clear line when the fetch failed
    error_kind: str | None = None  # timeout, connect, http, too_large, blocked, redirects, ...
    permanent_redirect: bool = False  # a 301/308 was followed on the way
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class FeedItem:
    """One item read from a feed, before its page is fetched.

    An item whose link is missing or unusable keeps its place: `url` is empty, `link_problem` says
    why, `canonical_url` is an identity made from its GUID or its text, and the feed's title and
    summary are all there is of it.
    """

    url: str
    canonical_url: str
    guid: str | None
    title: str
    summary: str
    published: datetime | None
    author: str | None = None
    link_problem: str | None = None


@dataclass
class Article:
    """Clean article text and metadata extracted from a page."""

    title: str = ""
    text: str = ""  # paragraphs separated by blank lines
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None  # timezone-aware
    language: str | None = None  # ISO 639-1
    canonical_url: str | None = None
    image: str | None = None
    reason: str | None = None  # why text is empty, when it is

    @property
    def empty(self) -> bool:
        return not self.text.strip()


@dataclass(frozen=True)
class Evidence:
    sentence: str
    terms: tuple[str, ...]  # the matched terms, as they appear in the sentence


@dataclass(frozen=True)
class Tag:
    topic: str
    score: float  # 0..1
    level: str  # "strong" or "mention"
    evidence: tuple[Evidence, ...] = ()


# -- publication time (issue 18) -----------------------------------------------------------------

# Before this no outlet we follow had a web page to date: an earlier date is a parsing accident
# (a Unix epoch, a two-digit year), and is passed over for the next candidate.
EARLIEST_PLAUSIBLE = datetime(1994, 1, 1, tzinfo=UTC)
# Clocks and feeds drift a little; beyond this a date "from the future" is a mistake, not skew.
FUTURE_SLACK = timedelta(minutes=10)
BACKLOG_FIRST_POLL = "first poll"  # the source was added with --only-new: its first poll is backlog
BACKLOG_TOO_OLD = "too old"  # first seen more than max_age_days after it was published


def publication_time(page: datetime | None, feed: datetime | None, first_seen: datetime
                     ) -> tuple[datetime, str]:
    """The one publication time of an item, in UTC, and where it came from.

    The page's own metadata is the publisher's word on the article; the feed's date is often when
    the feed was regenerated; when neither is usable, the first time we saw it. A date in the future
    is clamped to when we first saw the item (it cannot have been published after we read it), and
    the provenance says so; one before EARLIEST_PLAUSIBLE is ignored.
    """
    seen = first_seen if first_seen.tzinfo else first_seen.replace(tzinfo=UTC)
    for moment, name in ((page, "page"), (feed, "feed")):
        if moment is None:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment < EARLIEST_PLAUSIBLE:
            continue
        if moment > seen + FUTURE_SLACK:
            return seen.astimezone(UTC), f"{name}, clamped from the future"
        return moment.astimezone(UTC), name
    return seen.astimezone(UTC), "first seen"


def backlog_reason(published: datetime, first_seen: datetime, max_age: timedelta | None,
                   marked: str | None = None) -> str | None:
    """Why an item is backlog (stored, tagged, searchable, never in a digest or an alert), or None.

    `marked` is a reason given when the item arrived (BACKLOG_FIRST_POLL) and stays; otherwise an
    item first seen more than `max_age` after its publication is too old to be news (None: no limit).
    """
    if marked == BACKLOG_FIRST_POLL:
        return marked
    if max_age is not None and first_seen - published > max_age:
        return BACKLOG_TOO_OLD
    return None
