"""The reading room's routes: each page asks the stage that knows, and renders a template.

Endpoints are plain functions, so Starlette runs them in its thread pool; each thread keeps its
own store (SQLite connections are not for sharing across threads; PostgreSQL stores share one
connection pool), and the service can write meanwhile. Built digests are kept for CACHE_SECONDS
(earlier days, which only feedback, retag and reprocess change, for PAST_CACHE_SECONDS):
clustering a busy day costs more than the rest of a page, and a page a few seconds old is fine,
except right after the reader gave feedback, which empties the cache.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time as clock
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.context import Context
from pipeline.digest.build import Digest, build_digest, build_published, cluster_items, digest_items, safe_url
from pipeline.digest.common import counts_line, local_time
from pipeline.digest.days import day_of_digest, window
from pipeline.digest.deliver import ROLLING_FEED_DAYS
from pipeline.digest.render import render
from pipeline.models import FUTURE_SLACK
from pipeline.service import collect_status
from pipeline.store import StoreProtocol, TaggedItem, open_store, parse_iso

from .marks import marked_paragraphs, snippet_html
from .security import CSRF_FIELD, WILDCARDS, Doors, SecurityMiddleware, is_loopback, secure_headers

log = logging.getLogger("newswatch.web")
HERE = Path(__file__).parent
CACHE_SECONDS = 30.0
# Earlier days change only through feedback (which empties the cache) or a retag or reprocess.
PAST_CACHE_SECONDS = 300.0
MAX_CACHED = 1000  # digests and story groups, each a day's worth of items
PAGE_SIZE = 20
HEALTH_ORDER = {"gone": 0, "failing": 1, "new": 2, "ok": 3}
T = TypeVar("T")
VERDICTS = {"not_relevant": "not relevant", "relevant": "relevant (missed)"}
MAX_ENTRY_ID = 2**63 - 1  # both backends' integer keys; a larger id is no id at all
# Days whose window (and the next day's) exists in Python's calendar and in both databases.
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)
MAX_PAGE = 10_000
SEARCH_COUNT_CAP = 1000  # counting every match of a common word costs more than the page
MAX_STORY_IDS = 100
MAX_SAVED_NAME = 80


@dataclass(frozen=True)
class TopicInfo:
    id: str
    name: str


class ReadingRoom:
    """The state behind the routes: the context, one store per thread, the cache of built digests,
    story groups and day lists."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.config = ctx.config
        names = {t.id: t.name for t in ctx.tagger.topics}
        self.topics = [TopicInfo(t, names.get(t, t)) for t in ctx.config.digest.topics]
        self._local = threading.local()
        self._cache: dict[tuple, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.feeds = RollingFeeds()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="room-writer")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined,
        )
        self.env.filters.update(when=lambda m: local_time(m.astimezone(self.config.tz)) if m else "",
                                safe_url=safe_url, snippet=snippet_html)
        self.env.globals.update(topics=self.topics, topic_names=names, csrf_field=CSRF_FIELD,
                                counts_line=counts_line, verdicts=VERDICTS)

    @property
    def store(self) -> StoreProtocol:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = open_store(self.config)
        return store

    def today(self) -> date:
        return datetime.now(self.config.tz).date()

    def _cached(self, key: tuple, last_day: date, build: Callable[[], T]) -> T:
        with self._lock:
            hit = self._cache.get(key)
        ttl = PAST_CACHE_SECONDS if last_day < self.today() else CACHE_SECONDS
        if hit and clock.monotonic() - hit[0] < ttl:
            return hit[1]
        value = build()
        with self._lock:
            if len(self._cache) >= MAX_CACHED:  # a reader paging through years: start again
                self._cache.clear()
            self._cache[key] = (clock.monotonic(), value)
        return value

    def digest(self, topic: str, day: date, days: int = 1, *, delivered: bool = False) -> Digest:
        """The items published on these days (the day pages), or, `delivered`, what the digests of
        these days hold (the Atom feed: a feed reader follows the digests)."""
        build = build_digest if delivered else build_published
        return self._cached(("digest", topic, day, days, delivered), day + timedelta(days=days - 1),
                            lambda: build(self.store, self.config, topic, day, days=days))

    def versions(self, topic: str, day: date, entry_id: int, *, delivered: bool = True) -> list[TaggedItem]:
        """The other items of `entry_id`'s story in the digest of `day` (backlog, in no digest: among
        the items published that day), grouped as the digest groups them (its clustering alone: the
        item page needs no ranking, lead or highlights)."""
        def stories() -> list[list[TaggedItem]]:
            if delivered:
                items = digest_items(self.store, self.config, topic, day)
            else:
                items = self.store.tagged_items(topic, *window(day, 1, self.config.tz), by="published")
            return cluster_items(items, self.config.digest.cluster_threshold)

        for story in self._cached(("stories", topic, day, delivered), day, stories):
            if any(i.entry_id == entry_id for i in story):
                return sorted((i for i in story if i.entry_id != entry_id),
                              key=lambda i: (i.published or i.discovered_at, i.entry_id))
        return []

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def later(self, write: Callable[[StoreProtocol], object]) -> None:
        """A write a page's GET implies (a visit, an item read): done by one worker thread after the
        page, so that no page waits while the service holds the write lock."""
        def run() -> None:
            try:
                write(self.store)
            except Exception:
                log.warning("a reading-room write failed", exc_info=True)

        self._writer.submit(run)

    def saved(self) -> list[dict]:
        """The saved searches, for the navigation of every page."""
        try:
            return self.store.saved_searches()
        except Exception:  # an error page must render even when the store cannot be read
            log.debug("saved searches unavailable", exc_info=True)
            return []

    def reader_state(self, entries: list) -> dict:
        """What the reader did to these digest entries: read entry ids, starred (entry, topic) pairs."""
        ids = {o.entry_id for e in entries for o in e.outlets}
        return {"read": self.store.read_entries(ids),
                "starred": {(f["id"], f["topic"]) for f in self.store.starred_items()}}

    def days(self, topic: str) -> list[tuple[str, int]]:
        """(day, tagged items) newest first; cached like today's digest, since it counts a whole year."""
        offset = datetime.now(self.config.tz).utcoffset() or timedelta(0)
        return self._cached(("days", topic), self.today(),
                            lambda: self.store.tagged_days(topic, int(offset.total_seconds() // 60)))

    def page(self, request: Request, template: str, http_status: int = 200, **values: object) -> HTMLResponse:
        values.setdefault("lang", "en")
        html = self.env.get_template(template).render(request=request, csrf=getattr(request.state, "csrf_token", ""),
                                                      saved=self.saved(), **values)
        return HTMLResponse(html, status_code=http_status)


def _room(request: Request) -> ReadingRoom:
    return request.app.state.room


# -- pages -----------------------------------------------------------------------------------------

def home(request: Request) -> Response:
    room = _room(request)
    return _day_page(request, room, room.today(), home=True)


def day_page(request: Request) -> Response:
    room = _room(request)
    try:
        day = date.fromisoformat(request.path_params["day"])
    except ValueError:
        raise HTTPException(400, "no such day: expected /days/YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise HTTPException(400, f"no such day: expected a day from {FIRST_DAY} to {LAST_DAY}")
    return _day_page(request, room, day, home=False)


def _day_page(request: Request, room: ReadingRoom, day: date, *, home: bool) -> Response:
    sections = []
    for topic in room.topics:
        # Home is today's digest so far (late reports of earlier days included); a day page is
        # what was published that day.
        digest = room.digest(topic.id, day, delivered=home)
        days = [date.fromisoformat(d) for d, _ in room.days(topic.id)]
        sections.append({
            "topic": topic, "digest": digest,
            "previous": next((d for d in days if d < day), None),
            "next": next((d for d in reversed(days) if d > day), None),
            "latest": days[0] if days else None,
        })
    entries = [e for s in sections for e in (*s["digest"].stories, *s["digest"].mentions, *s["digest"].earlier)]
    state = room.reader_state(entries)
    last_visit = None
    if home:
        last_visit = room.store.visit(record=False)
        room.later(lambda store: store.visit())
    new = {e.key for e in entries if last_visit and e.first_seen > last_visit
           and not any(o.entry_id in state["read"] for o in e.outlets)}
    return room.page(request, "day.html", day=day, home=home, sections=sections, state=state, new=new,
                     last_visit=last_visit, here=request.url.path)


def days_index(request: Request) -> Response:
    room = _room(request)
    return room.page(request, "days.html", listing=[(t, room.days(t.id)) for t in room.topics])


def _date_arg(value: str | None, field: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{field}: expected a date like 2026-01-31, got {value!r}")
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        problems.append(f"{field}: expected a day from {FIRST_DAY} to {LAST_DAY}, got {value!r}")
        return None
    return day


def search(request: Request) -> Response:
    room = _room(request)
    args = request.query_params
    query = args.get("q", "").strip()
    topic = args.get("topic") or None
    level = args.get("level") or None
    source = args.get("source") or None
    order = "relevance" if args.get("sort") == "relevance" else "newest"
    problems: list[str] = []
    if topic and topic not in {t.id for t in room.topics}:
        problems.append(f"topic: no topic {topic!r}")
        topic = None
    if level not in (None, "strong", "mention"):
        problems.append("level: expected strong or mention")
        level = None
    first = _date_arg(args.get("from"), "from", problems)
    last = _date_arg(args.get("to"), "to", problems)
    try:
        page = int(args.get("page", "1"))
    except ValueError:
        page = 0
    if not 1 <= page <= MAX_PAGE:
        problems.append(f"page: expected a number from 1 to {MAX_PAGE}")
        page = 1
    if query and not any(c.isalnum() for c in query):
        # Only quotes and operators: nothing any search could match.
        problems.append("q: expected words to search for")
        query = ""
    if first and last and first > last:
        problems.append(f"from: {first} is after to: {last}; nothing is published in between")
    if source and source not in room.store.source_names():
        problems.append(f"source: no source {source!r}")
    if args.get("sort") not in (None, "", "newest", "relevance"):
        problems.append("sort: expected newest or relevance")
    start = window(first, 1, room.config.tz)[0] if first else None
    end = window(last, 1, room.config.tz)[1] if last else None
    rows: list[dict] = []
    count = None
    filters = dict(topic=topic, level=level, source=source, start=start, end=end)
    if query or topic or level or source or first or last:
        rows = room.store.search_items(query, **filters, order=order, limit=PAGE_SIZE + 1,
                                       offset=(page - 1) * PAGE_SIZE)
        count = room.store.search_count(query, **filters, cap=SEARCH_COUNT_CAP)
    for row in rows:
        row["processed"] = parse_iso(row["processed_at"])
        published = parse_iso(row["published_at"])
        row["published"] = published.astimezone(room.config.tz) if published else None
    params = {k: v for k, v in (("q", query), ("topic", topic), ("level", level), ("source", source),
                                ("from", args.get("from")), ("to", args.get("to")),
                                ("sort", "relevance" if order == "relevance" else None)) if v}
    return room.page(
        request, "search.html", http_status=400 if problems else 200, query=query, topic=topic, level=level,
        source=source, order=order, count=count, count_cap=SEARCH_COUNT_CAP, params=urlencode(params),
        first=args.get("from", ""), last=args.get("to", ""), problems=problems, rows=rows[:PAGE_SIZE],
        page=page, sources=room.store.source_names(),
        previous_url=f"/search?{urlencode({**params, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/search?{urlencode({**params, 'page': page + 1})}" if len(rows) > PAGE_SIZE else None,
    )


def item_page(request: Request) -> Response:
    room = _room(request)
    entry_id = _entry_id(request)
    row = room.store.find_entry(str(entry_id))
    if row is None:
        raise HTTPException(404, f"no item {entry_id}")
    tags = room.store.item_tags(entry_id)
    title = row["article_title"] or row["title"] or "(no headline)"
    text = row["text"] or row["summary"] or ""
    evidence = [e for t in tags for e in t["evidence"]]
    processed = parse_iso(row["processed_at"])
    published = parse_iso(row["published_at"])
    day = published.astimezone(room.config.tz).date() if published else None
    # The digest it is in (none for backlog), and the other outlets' versions of its story there.
    in_digest = day_of_digest(published, processed, room.config.digest) if processed and published \
        and not row["backlog"] else None
    versions: list[TaggedItem] = []
    if processed and day:
        for tag in tags:
            if tag["topic"] in {t.id for t in room.topics}:
                versions = versions or room.versions(tag["topic"], in_digest or day, entry_id,
                                                     delivered=in_digest is not None)
    explanation = room.ctx.tagger.explain(title, text, row["language"])
    feedback = {f["topic"]: f for f in room.store.feedback(entry_id)}
    room.later(lambda store: store.set_read([entry_id]))  # opened: read
    read = True
    # A byline that only repeats the outlet's name says nothing ("Harbor Wire · Harbor Wire").
    authors = [a for a in json.loads(row["authors"] or "[]") if a.strip().casefold() != row["source"].casefold()]
    return room.page(
        request, "item.html", item=row, title=title, authors=authors, tags=tags, read=read,
        lang=row["language"] or "en", here=request.url.path,
        paragraphs=marked_paragraphs(text, evidence),
        link=safe_url(row["url"]), published=published and published.astimezone(room.config.tz),
        published_from=row["published_from"], backlog=row["backlog"],
        processed=processed, explanation=explanation, versions=versions, feedback=feedback, day=day,
        in_digest=in_digest,
    )


FEEDBACK_ACTIONS: dict[str, dict] = {
    "not_relevant": {"verdict": "not_relevant"}, "relevant": {"verdict": "relevant"},
    "clear": {"verdict": None}, "star": {"starred": True}, "unstar": {"starred": False},
}
READ_ACTIONS = {"read": True, "unread": False}


def _next_url(value: object, fallback: str) -> str:
    """Where a form sends the reader back: a path of ours, never another site."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else fallback


async def feedback(request: Request) -> Response:
    """A verdict, a star, or read/unread, on an item or (`story`: its items' ids) a whole story."""
    room = _room(request)
    entry_id = _entry_id(request)
    form = await request.form()
    if not request.state.csrf_check(form.get(CSRF_FIELD)):
        raise HTTPException(403, "the form's token did not match: reload the page and try again")
    topic, action = form.get("topic"), str(form.get("action"))
    if action not in FEEDBACK_ACTIONS and action not in READ_ACTIONS:
        raise HTTPException(400, "unknown action")
    if action in FEEDBACK_ACTIONS and topic not in {t.id for t in room.topics}:
        raise HTTPException(400, "unknown topic")
    ids = [entry_id]
    for part in str(form.get("story") or "").split(","):
        if part.strip().isdigit() and 0 < int(part) <= MAX_ENTRY_ID and int(part) not in ids:
            ids.append(int(part))
    if len(ids) > MAX_STORY_IDS:
        raise HTTPException(400, f"a story of more than {MAX_STORY_IDS} items")
    # A star is for the item the reader chose; verdicts and read state go to every version of the story.
    targets = ids[:1] if action in ("star", "unstar") else ids

    def write() -> bool:
        known = [i for i in targets if room.store.find_entry(str(i)) is not None]
        if entry_id not in known:
            return False
        if action in READ_ACTIONS:
            room.store.set_read(known, READ_ACTIONS[action])
        else:
            for i in known:
                room.store.set_feedback(i, str(topic), **FEEDBACK_ACTIONS[action])
        return True

    if not await run_in_threadpool(write):
        raise HTTPException(404, f"no item {entry_id}")
    if action in FEEDBACK_ACTIONS:
        room.forget()
    log.info("feedback on item %s (%s): %s", entry_id, topic or "-", action)
    return RedirectResponse(_next_url(form.get("next"), f"/items/{entry_id}"), status_code=303)


def starred_page(request: Request) -> Response:
    room = _room(request)
    rows = room.store.starred_items()
    for row in rows:
        published = parse_iso(row["published_at"])
        row["published"] = published.astimezone(room.config.tz) if published else None
    return room.page(request, "starred.html", rows=rows, here=request.url.path)


# -- saved searches ------------------------------------------------------------------------------

SEARCH_KEYS = ("q", "topic", "level", "source", "from", "to", "sort")


def _search_params(params: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return {k: v for k, v in parse_qsl(params) if k in SEARCH_KEYS and v}


async def save_search(request: Request) -> Response:
    room = _room(request)
    form = await request.form()
    if not request.state.csrf_check(form.get(CSRF_FIELD)):
        raise HTTPException(403, "the form's token did not match: reload the page and try again")
    name = " ".join(str(form.get("name") or "").split())
    params = urlencode(_search_params(str(form.get("params") or "")))
    if not name or len(name) > MAX_SAVED_NAME:
        raise HTTPException(400, f"name: expected a name of 1 to {MAX_SAVED_NAME} characters")
    if not params:
        raise HTTPException(400, "params: nothing to search for")
    if str(form.get("action")) == "delete":
        await run_in_threadpool(room.store.delete_search, name)
        return RedirectResponse("/searches", status_code=303)
    await run_in_threadpool(room.store.save_search, name, params)
    return RedirectResponse("/searches", status_code=303)


def searches_page(request: Request) -> Response:
    room = _room(request)
    return room.page(request, "searches.html",
                     searches=[{**s, "args": _search_params(s["params"])} for s in room.store.saved_searches()])


def search_feed(request: Request) -> Response:
    """A saved search as an Atom feed: its newest 50 matches."""
    room = _room(request)
    name = request.path_params["name"]
    found = next((s for s in room.store.saved_searches() if s["name"] == name), None)
    if found is None:
        raise HTTPException(404, f"no saved search {name!r}")
    args = _search_params(found["params"])
    problems: list[str] = []
    first, last = _date_arg(args.get("from"), "from", problems), _date_arg(args.get("to"), "to", problems)
    rows = room.store.search_items(
        args.get("q", ""), topic=args.get("topic"), level=args.get("level"), source=args.get("source"),
        start=window(first, 1, room.config.tz)[0] if first else None,
        end=window(last, 1, room.config.tz)[1] if last else None, order="newest", limit=50)
    base = str(request.base_url).rstrip("/")
    return Response(search_atom(name, found["params"], rows, base), media_type="application/atom+xml")


def search_atom(name: str, params: str, rows: list[dict], base: str) -> bytes:
    from xml.sax.saxutils import escape, quoteattr

    updated = max((r["processed_at"] or "" for r in rows), default="") or datetime.now(UTC).isoformat()
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<title>{escape('newswatch search: ' + name)}</title>",
             f"<id>{escape(base)}/searches/{escape(name)}</id>",
             f"<link rel=\"alternate\" href={quoteattr(base + '/search?' + params)}/>",
             f"<updated>{escape(updated)}</updated>"]
    for r in rows:
        snippet = (r["snippet"] or "").replace("\x02", "").replace("\x03", "")
        parts.append(
            f"<entry><title>{escape(r['title'] or '(no headline)')}</title><id>{escape(base)}/items/{r['id']}</id>"
            f"<link href={quoteattr(base + '/items/' + str(r['id']))}/>"
            f"<updated>{escape(r['processed_at'] or updated)}</updated>"
            + (f"<published>{escape(r['published_at'])}</published>" if r["published_at"] else "")
            + f"<author><name>{escape(r['source'])}</name></author><summary>{escape(snippet)}</summary></entry>")
    parts.append("</feed>\n")
    return "\n".join(parts).encode("utf-8")


def sources_page(request: Request) -> Response:
    room = _room(request)
    status = collect_status(room.store, channels=[c.name for c in room.ctx.config.channels],
                            topic_objects=room.ctx.tagger.topics)
    for c in status["channels"]:
        for key in ("last_delivered_at", "last_failed_at"):
            c[key] = parse_iso(c[key])
    stats = room.store.source_stats()
    paused = room.store.paused_sources()
    feeds = sorted(status["feeds"], key=lambda f: (HEALTH_ORDER.get(f["health"], 9), f["source"], f["url"]))
    for f in feeds:
        for key in ("last_success_at", "last_attempt_at", "next_poll_at"):
            f[key] = parse_iso(f[key])
        f["link"] = safe_url(f["current_url"])
        source = room.ctx.sources.get(f["source"])
        f["category"] = source.category if source else ""
        items, tagged, latest = stats.get(f["source"], (0, 0, None))
        f.update(items=items, tagged=tagged, latest=latest, paused=paused.get(f["source"]))
    return room.page(request, "sources.html", feeds=feeds, status=status)


async def pause_source(request: Request) -> Response:
    """Pause or resume polling a source, from the sources page."""
    room = _room(request)
    form = await request.form()
    if not request.state.csrf_check(form.get(CSRF_FIELD)):
        raise HTTPException(403, "the form's token did not match: reload the page and try again")
    action = str(form.get("action"))
    if action not in ("pause", "resume"):
        raise HTTPException(400, "unknown action: expected pause or resume")
    name = str(form.get("source") or "")
    if not await run_in_threadpool(room.store.pause_source, name, action == "pause"):
        raise HTTPException(404, f"no source {name!r}")
    log.info("source %s: %s from the reading room", name, "paused" if action == "pause" else "resumed")
    return RedirectResponse("/sources", status_code=303)


def topic_feed(request: Request) -> Response:
    room = _room(request)
    topic = request.path_params["topic"]
    if topic not in {t.id for t in room.topics}:
        raise HTTPException(404, f"no topic {topic}")
    return Response(room.feeds.get(room, topic), media_type="application/atom+xml")


END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)


class RollingFeeds:
    """Each topic's rolling Atom feed, built once per change of its items and kept until the next.

    Building one means clustering a week of items (20 s at 10,000 items a day), so a time-based
    cache rebuilt it every 30 s, and once per request while a build ran. Here a request asks the
    store for the items' revision (one indexed query) and serves the stored feed when it matches.
    Otherwise one request builds it (single flight): the others wait for that build when there is
    no feed for this week yet, or get the previous one at once while the newer one is being built.
    """

    def __init__(self) -> None:
        self._built: dict[str, tuple[tuple, bytes]] = {}  # topic -> (revision, feed)
        self._building: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, room: ReadingRoom, topic: str) -> bytes:
        first = room.today() - timedelta(days=ROLLING_FEED_DAYS - 1)
        # The feed follows the digests (build_digest): their items were processed from shortly before
        # the week began, and a report of the week processed later still counts as "reported
        # elsewhere"; so every item processed since the week began can change it.
        start = window(first, ROLLING_FEED_DAYS, room.config.tz)[0] - FUTURE_SLACK
        revision = (first, room.store.tagged_revision(topic, start, END_OF_TIME))
        hit = self._built.get(topic)
        if hit and hit[0] == revision:
            return hit[1]
        with self._lock:
            building = self._building.setdefault(topic, threading.Lock())
        if hit and hit[0][0] == first:  # the same week, older items
            if not building.acquire(blocking=False):
                return hit[1]  # being rebuilt already: the feed as it was until then, at once
        else:
            building.acquire()
        try:
            hit = self._built.get(topic)  # built by the request this one waited for
            if hit and hit[0] == revision:
                return hit[1]
            rolling = build_digest(room.store, room.config, topic, first, days=ROLLING_FEED_DAYS)
            feed = render(rolling, "atom").encode("utf-8")
            self._built[topic] = (revision, feed)
            return feed
        finally:
            building.release()


def _entry_id(request: Request) -> int:
    entry_id = request.path_params["id"]
    if entry_id > MAX_ENTRY_ID:
        raise HTTPException(400, f"no such item: ids go up to {MAX_ENTRY_ID}")
    return entry_id


def _error(request: Request, exc: Exception) -> Response:
    # Starlette's server-error middleware logs a 500's traceback itself, after this page is sent;
    # its page goes out beneath the security middleware, so it gets the headers here.
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    response = _room(request).page(request, "error.html", http_status=status, status_code=status, detail=detail)
    secure_headers(response.headers)
    return response


# -- the application ---------------------------------------------------------------------------------

def create_app(ctx: Context, password: str = "", host: str | None = None) -> Starlette:
    """The ASGI application; `password` turns on HTTP basic auth (user `[web] username`); `host` is
    the address it is served on (default `[web] host`), whose names the Host header may carry."""
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/days/", days_index),
            Route("/days/{day}", day_page),
            Route("/search", search),
            Route("/items/{id:int}", item_page),
            Route("/items/{id:int}/feedback", feedback, methods=["POST"]),
            Route("/sources", sources_page),
            Route("/sources/pause", pause_source, methods=["POST"]),
            Route("/starred", starred_page),
            Route("/searches", searches_page),
            Route("/searches", save_search, methods=["POST"]),
            Route("/searches/{name}/feed.xml", search_feed),
            Route("/topics/{topic}/feed.xml", topic_feed),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={HTTPException: _error, 500: _error},
    )
    app.state.room = ReadingRoom(ctx)
    web = ctx.config.web
    doors = Doors.for_bind(host or web.host, web.base_url, web.allowed_hosts, web.trusted_proxies)
    app.add_middleware(SecurityMiddleware, username=web.username, password=password, doors=doors)
    return app


def password_for(ctx: Context, host: str) -> str:
    """The password from `[web] password_env`'s variable; required for any bind but loopback."""
    web = ctx.config.web
    password = os.environ.get(web.password_env, "") if web.password_env else ""
    if web.password_env and not password:
        # Named but empty would mean no password at all, which behind a proxy is a room open to anyone.
        raise ctx.config.error("web.password_env", f"the environment variable {web.password_env} is "
                                                   f"{'empty' if web.password_env in os.environ else 'not set'}")
    if not password and not is_loopback(host):
        raise ctx.config.error("web.password_env",
                               f"serving on {host} needs a password: name an environment variable here and set it")
    if host.strip("[]") in WILDCARDS and not (web.base_url or web.allowed_hosts):
        raise ctx.config.error("web.allowed_hosts", f"serving on {host} needs the host names readers use: set "
                                                    "[web] base_url or allowed_hosts")
    return password


def serve(ctx: Context, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    host = host or ctx.config.web.host
    port = port or ctx.config.web.port
    from .server import GuardedH11Protocol, server_options

    app = create_app(ctx, password_for(ctx, host), host)
    log.info("reading room on http://%s:%d/", host, port)
    uvicorn.run(app, host=host, port=port, http=GuardedH11Protocol, **server_options())
