"""The SQLite store: the only module that knows the schema.

The entries table doubles as the durable work queue. An entry seen in a feed is written as
`pending` before its page is fetched, and only a finished extraction moves it to `done`, in one
transaction with its article and tags; so a crash at any point loses nothing, and processing an
entry twice writes the same rows again.
"""

from __future__ import annotations

import importlib
import itertools
import json
import re
import sqlite3
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from pipeline.models import (
    BACKLOG_FIRST_POLL,
    Article,
    FeedItem,
    Source,
    Tag,
    backlog_reason,
    publication_time,
)

from . import fts


def _import_sqlite_utils():
    """sqlite-utils imports numpy and pandas whenever they are installed, only to map their scalar
    types to column types. The store never hands it either, and numpy alone cost 0.1-0.2 s of the
    start of every command (issue 23), so they are hidden while it loads: it then knows neither,
    whatever was imported first."""
    hidden = {name: sys.modules.get(name) for name in ("numpy", "pandas")}
    sys.modules.update(dict.fromkeys(hidden))  # None in sys.modules: `import numpy` raises ImportError
    try:
        return importlib.import_module("sqlite_utils")
    finally:
        for name, module in hidden.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module


sqlite_utils = _import_sqlite_utils()

# Every processed page ends in these two statements. Plain SQL: sqlite-utils' upsert and insert
# read sqlite_master and the table's schema again on each call (a dozen statements per article).
_ARTICLE_COLUMNS = ("entry_id", "title", "text", "authors", "published", "language", "canonical_url", "image",
                    "reason", "html", "content_type", "extracted_at")
_UPSERT_ARTICLE = (f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}) "
                   f"VALUES ({', '.join('?' for _ in _ARTICLE_COLUMNS)}) ON CONFLICT(entry_id) DO UPDATE SET "
                   + ", ".join(f"{c} = excluded.{c}" for c in _ARTICLE_COLUMNS[1:]))

BUSY_TIMEOUT_MS = 30_000
RELEVANCE_WINDOW = 2_000  # search_items ranks by BM25 among this many newest matches


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """Timestamps are stored as UTC ISO strings so that text order is time order."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# Every planned time the store keeps, as (table, key columns, column): what a clock step moves.
SCHEDULED_TIMES = (("feeds", ("id",), "next_poll_at"), ("entries", ("id",), "next_attempt_at"),
                   ("digests", ("topic", "day", "channel", "kind"), "next_attempt_at"),
                   ("deliveries", ("channel", "kind", "key"), "next_attempt_at"))


# Each migration moves the schema one version up; never edit one that has shipped, add another.
def _v1(db: sqlite_utils.Database) -> None:
    db["sources"].create(
        {"name": str, "homepage": str, "language": str, "path": str, "active": int}, pk="name"
    )
    db["feeds"].create(
        {
            "id": int,
            "source": str,
            "url": str,  # as configured: the stable key
            "current_url": str,  # where we fetch it now, after permanent redirects
            "active": int,
            "interval_seconds": int,  # configured interval, None = global default
            "next_poll_at": str,
            "last_attempt_at": str,
            "last_success_at": str,
            "health": str,  # new, ok, failing, gone
            "http_status": int,
            "failures": int,  # consecutive
            "last_error": str,
            "last_error_kind": str,
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "redirect_target": str,
            "redirect_streak": int,
            "items_seen": int,
        },
        pk="id",
        not_null={"source", "url"},
        defaults={"active": 1, "health": "new", "failures": 0, "redirect_streak": 0, "items_seen": 0},
    )
    db["feeds"].create_index(["url"], unique=True)
    db["entries"].create(
        {
            "id": int,
            "canonical_url": str,
            "url": str,
            "guid": str,
            "feed_id": int,
            "source": str,
            "title": str,
            "summary": str,
            "author": str,
            "feed_published": str,
            "discovered_at": str,
            "state": str,  # pending, done, failed
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "processed_at": str,
        },
        pk="id",
        not_null={"canonical_url", "state"},
        defaults={"state": "pending", "attempts": 0},
    )
    db["entries"].create_index(["canonical_url"], unique=True)
    db["entries"].create_index(["feed_id", "guid"])
    db["entries"].create_index(["state", "next_attempt_at"])
    db["entries"].create_index(["discovered_at"])
    db["articles"].create(
        {
            "entry_id": int,
            "title": str,
            "text": str,
            "authors": str,  # JSON list
            "published": str,
            "language": str,
            "canonical_url": str,
            "image": str,
            "reason": str,
            "html": bytes,  # raw page, kept for reprocessing until retention drops it
            "content_type": str,
            "extracted_at": str,
        },
        pk="entry_id",
        foreign_keys=[("entry_id", "entries", "id")],
    )
    db["articles"].enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")
    db["tags"].create(
        {"entry_id": int, "topic": str, "score": float, "level": str, "evidence": str, "tagged_at": str},
        pk=("entry_id", "topic"),
        foreign_keys=[("entry_id", "entries", "id")],
    )
    db["tags"].create_index(["topic", "level"])
    db["digests"].create(
        {
            "topic": str,
            "day": str,  # YYYY-MM-DD in the digest's time zone (weekly: the week's first day)
            "channel": str,  # files, email
            "kind": str,  # daily, weekly
            "status": str,  # sending, sent, failed
            "message_id": str,
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "location": str,
            "items": int,
            "created_at": str,
            "delivered_at": str,
        },
        pk=("topic", "day", "channel", "kind"),
        defaults={"attempts": 0},
    )
    db["events"].create(
        {"id": int, "at": str, "kind": str, "source": str, "feed_id": int, "entry_id": int, "message": str},
        pk="id",
    )
    db["events"].create_index(["at"])


def _v2(db: sqlite_utils.Database) -> None:
    # Lines learned to recur across a source's pages. Kept, not recomputed: once they are dropped
    # from stored texts, the texts alone no longer show them.
    db["boilerplate"].create({"source": str, "fingerprint": str, "learned_at": str}, pk=("source", "fingerprint"))
    # The publisher's minimum interval (RSS <ttl>), remembered because a 304 carries no body.
    db["feeds"].add_column("ttl_seconds", int)


def _v3(db: sqlite_utils.Database) -> None:
    # The reader's word on an item (issue 13). Its own table, keyed by entry and topic, so that
    # retag and reprocess, which replace tags and articles, never touch it.
    db["feedback"].create(
        {
            "entry_id": int,
            "topic": str,
            "verdict": str,  # not_relevant, relevant (a miss: the rules should have tagged it), or NULL
            "starred": int,
            "score": float,  # the tag as it stood when the reader judged it: 0 and NULL when untagged
            "level": str,
            "updated_at": str,
        },
        pk=("entry_id", "topic"),
        foreign_keys=[("entry_id", "entries", "id")],
        defaults={"starred": 0},
    )
    # The reading room's day pages and the digest select by processing time.
    db["entries"].create_index(["processed_at"])


def _v4(db: sqlite_utils.Database) -> None:
    # Entries without a usable link are stored from the feed's text; this says why they have no page.
    db["entries"].add_column("link_problem", str)
    db.execute("CREATE INDEX idx_entries_link_problem ON entries (feed_id, link_problem) "
               "WHERE link_problem IS NOT NULL")
    # Entries of the feed's last body that gave nothing to store, as JSON {reason: count}.
    db["feeds"].add_column("skipped", str)


def _v5(db: sqlite_utils.Database) -> None:
    # What a unit of work failed with: the error's kind ("internal" for an unexpected exception, or
    # a page's http, timeout, ...) and the stage it failed in, beside the message kept before.
    db["feeds"].add_column("last_error_stage", str)
    db["entries"].add_column("last_error_kind", str)
    db["entries"].add_column("last_error_stage", str)
    db["entries"].add_column("last_attempt_at", str)  # any attempt, done or failed: the queue's pulse
    db["digests"].add_column("last_error_kind", str)
    db["digests"].add_column("last_error_stage", str)
    # One row per service cycle, so health can tell a service that runs from one whose cycles fail.
    db["cycles"].create(
        {"id": int, "started_at": str, "finished_at": str, "outcome": str,  # ok, failed, stopped
         "error": str, "feeds": int, "entries": int, "unit_failures": int},
        pk="id",
    )


def _v6_feed_latest(db: sqlite_utils.Database) -> None:
    # A feed's latest entries (the GUIDs handed to its parser each poll) in index order: without it,
    # a feed with 10,000 entries sorted all of them on every poll (12 ms; 0.1 ms with it).
    db.execute("CREATE INDEX IF NOT EXISTS idx_entries_feed_latest ON entries (feed_id, id, guid)")


def _v7_digest_recipients(db: sqlite_utils.Database) -> None:
    # Issue 24: each recipient's delivery of an emailed digest, so a recipient the server turned away
    # for now (450 at RCPT) is retried alone, and `status` can show each recipient's last delivery.
    db["digest_recipients"].create(
        {
            "topic": str, "day": str, "kind": str, "recipient": str,
            "status": str,  # sent, failed (retried with the digest), refused (permanently, 5xx)
            "attempts": int, "last_error": str, "updated_at": str, "delivered_at": str,
        },
        pk=("topic", "day", "kind", "recipient"),
        defaults={"attempts": 0},
    )


def _v8_store_identity(db: sqlite_utils.Database) -> None:
    # Which store this is (issue 24): a service notices when the database under it is replaced by
    # another, even one restored at the same path, instead of carrying on in it.
    db["store_identity"].create({"id": str, "created": str}, pk="id")
    db["store_identity"].insert({"id": uuid.uuid4().hex, "created": iso(utcnow())})


def _v9_publication(db: sqlite_utils.Database) -> None:
    # Issue 18: one publication time per entry (UTC) with where it came from, and whether the entry
    # is backlog (never in a digest or an alert). Existing rows are backfilled by the same rule new
    # ones follow; their backlog stays unknown (NULL): they were all news when they arrived.
    db["entries"].add_column("published_at", str)
    db["entries"].add_column("published_from", str)  # page, feed, first seen (", clamped from the future")
    db["entries"].add_column("backlog", str)  # NULL, or why: "first poll", "too old"
    db["feeds"].add_column("only_new", int)
    rows = db.execute(
        "SELECT e.id, a.published, e.feed_published, e.discovered_at FROM entries e "
        "LEFT JOIN articles a ON a.entry_id = e.id"
    ).fetchall()
    updates = []
    for entry_id, page, feed, seen in rows:
        moment, provenance = _published(parse_iso(page), parse_iso(feed), parse_iso(seen) or utcnow())
        updates.append((iso(moment), provenance, entry_id))
    db.conn.executemany("UPDATE entries SET published_at = ?, published_from = ? WHERE id = ?", updates)
    db["entries"].create_index(["published_at"])


def _iso_pair(pair: tuple[datetime, str]) -> tuple[str | None, str]:
    return iso(pair[0]), pair[1]


def _published(page: datetime | None, feed: datetime | None, seen: datetime) -> tuple[datetime, str]:
    """The page's date counts only where it is the page's own: the processor puts the feed's
    date in the article when the page gives none."""
    return publication_time(page if iso(page) != iso(feed) else None, feed, seen)


def _v10_deliveries(db: sqlite_utils.Database) -> None:
    # Issue 19: each (channel, alert or digest) delivery through Apprise, claimed before and recorded
    # after sending, as the digests table does for email; the message is kept so a retry sends it as
    # it was first composed.
    db.execute(DELIVERIES_TABLE)
    db.execute("CREATE INDEX idx_deliveries_due ON deliveries (status, next_attempt_at)")
    db.execute("CREATE INDEX idx_deliveries_entry ON deliveries (entry_id)")


# The same columns on both backends (postgres.py runs this statement too).
DELIVERIES_TABLE = """
    CREATE TABLE deliveries (
        channel text NOT NULL, kind text NOT NULL, key text NOT NULL,
        topic text, entry_id integer, status text NOT NULL, title text, body text,
        attempts integer DEFAULT 0, last_error text, next_attempt_at text, created_at text,
        updated_at text, delivered_at text, note text, summary text,
        PRIMARY KEY (channel, kind, key))
"""


def _v11_reading_room(db: sqlite_utils.Database) -> None:
    # Issue 20. Search: FTS5's unicode61 reads a run of Han or kana characters as one token, so a
    # Chinese word inside a sentence matched nothing. The index now holds the text as PostgreSQL's
    # does (fts.index_text: those characters one by one), in a table with its own content so that
    # snippets are cut from the same tokens; `nw_index_text` is registered on every connection.
    db["articles"].disable_fts()
    db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, tokenize='unicode61')")
    db.execute("INSERT INTO articles_fts (rowid, title, text) "
               "SELECT rowid, nw_index_text(title), nw_index_text(text) FROM articles")
    db.executescript("""
        CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
          INSERT INTO articles_fts (rowid, title, text)
          VALUES (new.rowid, nw_index_text(new.title), nw_index_text(new.text));
        END;
        CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
          DELETE FROM articles_fts WHERE rowid = old.rowid;
        END;
        CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, text ON articles BEGIN
          DELETE FROM articles_fts WHERE rowid = old.rowid;
          INSERT INTO articles_fts (rowid, title, text)
          VALUES (new.rowid, nw_index_text(new.title), nw_index_text(new.text));
        END;
    """)
    # Read state: an entry is unread until the reader opens or marks it (one reader per store).
    db["reads"].create({"entry_id": int, "read_at": str}, pk="entry_id")
    # The reader's visits, for "new since your last visit": one row, the visit before this one.
    db["visits"].create({"id": int, "previous_at": str, "last_at": str}, pk="id")
    # Saved searches: a name and the search's query string (q=...&topic=...), each with an Atom feed.
    db["saved_searches"].create({"name": str, "params": str, "created_at": str}, pk="name")
    # A source the reader paused from the sources page: its feeds are not polled until resumed.
    db["sources"].add_column("paused_at", str)


def _v12_korean_search(db: sqlite_utils.Database) -> None:
    # Issue 20: Hangul syllables are indexed one by one as Han characters are (fts.index_text), so
    # a Korean word is found with its particles glued on. Only articles with Hangul change.
    has_hangul = f"GLOB '*[{fts._HANGUL}]*'"
    rows = db.execute(f"SELECT rowid, title, text FROM articles WHERE title {has_hangul} OR text {has_hangul}")
    for rowid, title, text in rows.fetchall():
        db.execute("DELETE FROM articles_fts WHERE rowid = ?", [rowid])
        db.execute("INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
                   [rowid, fts.index_text(title) if title else title, fts.index_text(text) if text else text])


MIGRATIONS = [_v1, _v2, _v3, _v4, _v5, _v6_feed_latest, _v7_digest_recipients, _v8_store_identity,
              _v9_publication, _v10_deliveries, _v11_reading_room, _v12_korean_search]
# A reader back within this long is still on the same visit: "new" keeps meaning new since the last one.
VISIT_GAP = timedelta(minutes=30)
KNOWN_GUIDS = 200  # a feed's latest GUIDs handed to its parser: more than most feeds hold at once
KEEP_CYCLES = 1000  # about 17 hours of one-minute ticks: enough for health and for a person to look back
SCHEMA_VERSION = len(MIGRATIONS)


def _stamped(fields: Mapping[str, object]) -> dict:
    """Delivery times keep their fraction of a second: a channel that failed and delivered within
    one second must still say which came last. Text order stays time order ("…:15+00:00", the whole
    second, sorts before "…:15.2+00:00")."""
    return {k: _precise(v) if isinstance(v, datetime) else v for k, v in fields.items()}


def _precise(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _delivery_filters(channel: str | None, kind: str | None, statuses: Iterable[str] | None,
                      mark: str) -> tuple[str, list]:
    clauses, args = [], []
    if channel is not None:
        clauses.append(f"channel = {mark}")
        args.append(channel)
    if kind is not None:
        clauses.append(f"kind = {mark}")
        args.append(kind)
    if statuses is not None:
        statuses = list(statuses)
        clauses.append(f"status IN ({', '.join([mark] * len(statuses))})")
        args += statuses
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


# Both backends; the one placeholder-free statement shape they share. "Waiting" is what a sender
# will still try; "given up" failed for a day and waits for a person.
CHANNEL_REPORT = """
    SELECT channel,
           max(delivered_at) AS last_delivered_at,
           max(CASE WHEN last_error IS NOT NULL AND status <> 'sent' THEN updated_at END) AS last_failed_at,
           (SELECT d2.last_error FROM deliveries d2 WHERE d2.channel = d.channel AND d2.last_error IS NOT NULL
              AND d2.status <> 'sent' ORDER BY d2.updated_at DESC LIMIT 1) AS last_error,
           sum(CASE WHEN status IN ('pending', 'held', 'sending', 'resending')
                      OR (status = 'failed' AND next_attempt_at IS NOT NULL) THEN 1 ELSE 0 END) AS waiting,
           sum(CASE WHEN status = 'failed' AND next_attempt_at IS NULL THEN 1 ELSE 0 END) AS given_up
    FROM deliveries d WHERE kind <> 'channel' GROUP BY channel ORDER BY channel
"""


def tagged_item(r: dict) -> TaggedItem:
    """A `tagged_items` row, in the columns both backends select, as the digest's record."""
    return TaggedItem(entry_id=r["id"], source=r["source"], url=r["url"], title=r["title"] or "",
                      text=r["text"] or "", published=parse_iso(r["published"]),
                      discovered_at=parse_iso(r["discovered_at"]), topic=r["topic"], score=r["score"],
                      level=r["level"], evidence=json.loads(r["evidence"] or "[]"),
                      published_from=r["published_from"], processed_at=parse_iso(r["processed_at"]),
                      backlog=r["backlog"])


# The reader's verdicts as they change a tag: "not relevant" takes the item out of its topic, and
# "relevant (missed)" puts an untagged item in it as a strong tag of score 1 (the reader's word).
MISSED_SCORE, MISSED_LEVEL = 1.0, "strong"


def item_filters(mark: str, *, topic: str | None, level: str | None, source: str | None,
                 start: datetime | None, end: datetime | None, entry: str = "e.id") -> tuple[list[str], list]:
    """`search_items`' filters as WHERE terms and their values, with either backend's placeholder.
    Each applies on its own; the tag filters (topic, level) count the reader's verdicts."""
    where: list[str] = []
    args: list = []
    if topic or level:
        tagged = [f"t.entry_id = {entry}"]
        missed = [f"f.entry_id = {entry}", "f.verdict = 'relevant'"]
        if topic:
            tagged.append(f"t.topic = {mark}")
            missed.append(f"f.topic = {mark}")
        if level:
            tagged.append(f"t.level = {mark}")
        where.append(
            f"(EXISTS (SELECT 1 FROM tags t WHERE {' AND '.join(tagged)} AND NOT EXISTS (SELECT 1 FROM feedback n "
            "WHERE n.entry_id = t.entry_id AND n.topic = t.topic AND n.verdict = 'not_relevant'))"
            + ("" if level not in (None, MISSED_LEVEL) else
               f" OR EXISTS (SELECT 1 FROM feedback f WHERE {' AND '.join(missed)} AND NOT EXISTS "
               "(SELECT 1 FROM tags m WHERE m.entry_id = f.entry_id AND m.topic = f.topic))") + ")")
        args += [topic] if topic else []
        args += [level] if level else []
        args += [topic] if topic and level in (None, MISSED_LEVEL) else []
    if source:
        where.append(f"e.source = {mark}")
        args.append(source)
    if start:
        where.append(f"e.published_at >= {mark}")
        args.append(iso(start))
    if end:
        where.append(f"e.published_at < {mark}")
        args.append(iso(end))
    return where, args


def attach_tags(rows: list[dict], tags: Iterable[dict], verdicts: Iterable[dict], topic: str | None) -> list[dict]:
    """Give each search row its tag: the `topic`'s, or else its best, after the reader's verdicts
    (`topic`, `score`, `level`; None when it has none). `tags` and `verdicts` are the rows' tag and
    feedback rows (entry_id, topic, score, level / verdict)."""
    judged = {(v["entry_id"], v["topic"]): v["verdict"] for v in verdicts}
    best: dict[int, dict] = {}
    for t in tags:
        if judged.get((t["entry_id"], t["topic"])) == "not_relevant" or (topic and t["topic"] != topic):
            continue
        if t["entry_id"] not in best or t["score"] > best[t["entry_id"]]["score"]:
            best[t["entry_id"]] = t
    for (entry_id, judged_topic), verdict in judged.items():
        if verdict == "relevant" and entry_id not in best and (not topic or judged_topic == topic):
            best[entry_id] = {"topic": judged_topic, "score": MISSED_SCORE, "level": MISSED_LEVEL}
    for row in rows:
        t = best.get(row["id"])
        row.update(topic=t and t["topic"], score=t and t["score"], level=t and t["level"])
    return rows


def _previous_visit(row: tuple | None, now: datetime) -> datetime | None:
    """The visit before the one at `now`, from the stored (previous_at, last_at)."""
    previous, last = (parse_iso(row[0]), parse_iso(row[1])) if row else (None, None)
    return last if last is None or now - last > VISIT_GAP else previous


def fts5_query(query: str) -> str:
    """A `newswatch search` query for the index of fts.index_text: a word of Han or kana characters
    becomes the phrase of its characters, as on PostgreSQL."""
    parts = []
    for match in _QUOTED_OR_NOT.finditer(query):
        part = match.group()
        if part.startswith('"'):
            parts.append(fts.index_text(part))
        else:
            parts.append(_CJK_RUN().sub(lambda run: ' "' + " ".join(run.group()) + '" ', part))
    return "".join(parts)


_QUOTED_OR_NOT = re.compile(r'"[^"]*"?|[^"]+')
_CJK_RUN = fts.compiled_on_first_use(f"[{fts._CJK}]+")


@dataclass(frozen=True)
class StoreIdentity:
    """The id a store is given when its schema is created, and when."""

    id: str
    created: str


@dataclass(frozen=True)
class FeedState:
    id: int
    source: str
    url: str
    current_url: str
    interval_seconds: int | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    failures: int
    redirect_target: str | None
    redirect_streak: int
    health: str
    ttl_seconds: int | None = None  # the publisher's <ttl> last seen: a 304 carries none


@dataclass(frozen=True)
class PendingEntry:
    id: int
    url: str
    canonical_url: str
    source: str
    title: str
    summary: str
    feed_published: datetime | None
    attempts: int
    link_problem: str | None = None  # set when the feed gave no usable link: there is no page to fetch


@dataclass(frozen=True)
class EntryProblems:
    """One feed's entries that could not be taken as they came, by reason."""

    without_link: dict[str, int]  # stored from the feed's text: the link was missing or unusable
    skipped: dict[str, int]  # in the feed's last body, giving nothing to store (no link and no text)


@dataclass(frozen=True)
class QueueActivity:
    """Whether the queue is being worked: due entries, since when the oldest is due, the last attempt."""

    due: int
    oldest_due_at: datetime | None
    last_attempt_at: datetime | None


@dataclass(frozen=True)
class TaggedItem:
    """An extracted, tagged entry as the digest sees it."""

    entry_id: int
    source: str
    url: str
    title: str
    text: str
    published: datetime | None
    discovered_at: datetime
    topic: str
    score: float
    level: str
    evidence: list[dict]
    published_from: str | None = None  # page, feed, first seen: where `published` came from
    processed_at: datetime | None = None  # first completion: decides the digest a late item goes in
    backlog: str | None = None  # why it is backlog, or None; see `is_backlog`

    @property
    def is_backlog(self) -> bool:
        """Backlog is stored, tagged and searchable, but never goes in a digest or an alert."""
        return self.backlog is not None


class Store:
    backend = "sqlite"

    def __init__(self, path: str | Path, *, create: bool = True):
        """`create=False` opens only a database that exists (sqlite3.OperationalError otherwise): a
        running service must never start an empty one where its database was."""
        self.path = Path(path)
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        else:
            conn = sqlite3.connect(f"file:{quote(str(self.path.absolute()))}?mode=rw", uri=True,
                                   timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        # The full-text index's triggers call it (see _v11_reading_room).
        conn.create_function("nw_index_text", 1, lambda text: fts.index_text(text) if text else text,
                             deterministic=True)
        self.db = sqlite_utils.Database(conn)
        self._savepoints = itertools.count()
        with self.db.ensure_autocommit_on():
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = NORMAL")
        self._migrate()

    def _enable_wal(self) -> None:
        # Switching the journal mode needs an exclusive lock, and SQLite answers "locked" at once,
        # without the busy timeout, when another process is creating the same new database.
        for attempt in range(50):
            try:
                self.db.enable_wal()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction, all or nothing; nested ones become savepoints.

        BEGIN IMMEDIATE takes the write lock up front, waiting up to the busy timeout. A deferred
        BEGIN that reads and then writes fails at once with "database is locked" when another
        process (the service, a CLI command) writes at the same time.
        """
        conn = self.db.conn
        if conn.in_transaction:
            # A savepoint by hand: sqlite-utils' atomic() costs as much again, and a poll opens
            # three per changed feed.
            name = f"nw_{next(self._savepoints)}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path}: schema version {version} is newer than this newswatch ({SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            # Read again under the write lock: another process may have migrated meanwhile.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                MIGRATIONS[number](self.db)
                self.db.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -- sources and feeds -------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[Source]) -> None:
        """Make the sources and feeds tables match the source files; history of removed feeds stays."""
        now = iso(utcnow())
        with self.transaction():
            self.db.execute("UPDATE sources SET active = 0")
            self.db.execute("UPDATE feeds SET active = 0")
            for source in sources:
                self.db["sources"].upsert(
                    {"name": source.name, "homepage": source.homepage, "language": source.language,
                     "path": source.path, "active": 1},
                    pk="name",
                )
                for feed in source.feeds:
                    row = self.db.execute("SELECT id FROM feeds WHERE url = ?", [feed.url]).fetchone()
                    if row:
                        self.db["feeds"].update(
                            row[0], {"source": source.name, "active": 1, "interval_seconds": feed.interval,
                                     "only_new": int(source.only_new)}
                        )
                    else:
                        self.db["feeds"].insert(
                            {"source": source.name, "url": feed.url, "current_url": feed.url, "active": 1,
                             "interval_seconds": feed.interval, "next_poll_at": now,
                             "only_new": int(source.only_new)}
                        )

    def due_feeds(self, now: datetime | None = None) -> list[FeedState]:
        rows = self.db.query(
            "SELECT * FROM feeds WHERE active = 1 AND (next_poll_at IS NULL OR next_poll_at <= ?) "
            "AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.name = feeds.source AND s.paused_at IS NOT NULL) "
            "ORDER BY next_poll_at",
            [iso(now or utcnow())],
        )
        return [self._feed_state(r) for r in rows]

    def feed(self, feed_id: int) -> FeedState:
        row = self.db.execute("SELECT * FROM feeds WHERE id = ?", [feed_id])
        found = row.fetchone()
        if found is None:
            raise KeyError(feed_id)
        return self._feed_state(dict(zip([c[0] for c in row.description], found, strict=True)))

    @staticmethod
    def _feed_state(r: dict) -> FeedState:
        return FeedState(
            id=r["id"], source=r["source"], url=r["url"], current_url=r["current_url"] or r["url"],
            interval_seconds=r["interval_seconds"], etag=r["etag"], last_modified=r["last_modified"],
            body_hash=r["body_hash"], failures=r["failures"] or 0, redirect_target=r["redirect_target"],
            redirect_streak=r["redirect_streak"] or 0, health=r["health"], ttl_seconds=r["ttl_seconds"],
        )

    def update_feed(self, feed_id: int, **fields: object) -> None:
        # Plain SQL: sqlite-utils' Table.update reads the table's schema twice and the row once per
        # call, and every polled feed ends here (a 304 included).
        if not fields:
            return
        columns = ", ".join(f'"{name}" = ?' for name in fields)
        values = [iso(v) if isinstance(v, datetime) else v for v in fields.values()]
        self.db.execute(f"UPDATE feeds SET {columns} WHERE id = ?", [*values, feed_id])

    def known_guids(self, feed_id: int, limit: int = KNOWN_GUIDS) -> frozenset[str]:
        """The GUIDs of this feed's latest `limit` entries: the parser drops their entries before any
        URL work, since the store would find them known anyway."""
        return frozenset(r[0] for r in self.db.execute(
            "SELECT guid FROM entries WHERE feed_id = ? AND guid IS NOT NULL ORDER BY id DESC LIMIT ?",
            [feed_id, limit]))

    # -- entries: the work queue -----------------------------------------------------------

    def add_items(self, feed_id: int, source: str, items: Iterable[FeedItem],
                  skipped: Iterable[str] | None = None) -> int:
        """Store new feed items as pending entries; returns how many were new.

        An item is already known when its canonical URL is, or when this feed already gave its
        GUID (feeds that move articles to new URLs keep the GUID). Plain SQL: a first poll of 2,000
        feeds brings 40,000 items, and sqlite-utils' per-row insert costs ten times the lookups.
        `skipped` (one reason per entry of the same body that gave nothing to store) replaces what
        the feed's previous body skipped.
        """
        moment = utcnow()
        now = iso(moment)
        rows: list[tuple] = []
        urls: set[str] = set()
        guids: set[str] = set()
        items = list(items)
        with self.transaction():
            known_urls, known_guids = self._known(feed_id, items)
            # A feed of a source added with --only-new that never gave a body yet: its first poll.
            first = self.db.execute(
                "SELECT 1 FROM feeds WHERE id = ? AND only_new = 1 AND last_success_at IS NULL", [feed_id]
            ).fetchone()
            backlog = BACKLOG_FIRST_POLL if first else None
            for item in items:
                if item.canonical_url in urls or (item.guid and item.guid in guids):
                    continue
                if item.canonical_url in known_urls or (item.guid and item.guid in known_guids):
                    continue
                urls.add(item.canonical_url)
                if item.guid:
                    guids.add(item.guid)
                published, provenance = publication_time(None, item.published, moment)
                rows.append((item.canonical_url, item.url, item.guid, feed_id, source, item.title, item.summary,
                             item.author, iso(item.published), now, now, item.link_problem, iso(published),
                             provenance, backlog))
            if rows:
                self.db.conn.executemany(
                    "INSERT INTO entries (canonical_url, url, guid, feed_id, source, title, summary, author, "
                    "feed_published, discovered_at, state, attempts, next_attempt_at, link_problem, "
                    "published_at, published_from, backlog) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)",
                    rows,
                )
                self.db.execute("UPDATE feeds SET items_seen = items_seen + ? WHERE id = ?", [len(rows), feed_id])
            if skipped is not None:
                reasons = Counter(skipped)
                self.db.execute("UPDATE feeds SET skipped = ? WHERE id = ?",
                                [json.dumps(reasons, ensure_ascii=False) if reasons else None, feed_id])
        return len(rows)

    def _known(self, feed_id: int, items: list[FeedItem]) -> tuple[set[str], set[str]]:
        """Which of `items`' canonical URLs are stored, and which of their GUIDs this feed gave: one
        query per chunk of items rather than two per item."""
        urls: set[str] = set()
        guids: set[str] = set()
        for start in range(0, len(items), 400):  # well under SQLite's limit on parameters
            chunk = items[start:start + 400]
            chunk_urls = [i.canonical_url for i in chunk]
            chunk_guids = [i.guid for i in chunk if i.guid]
            for url, guid, feed in self.db.execute(
                f"SELECT canonical_url, guid, feed_id FROM entries WHERE canonical_url IN "
                f"({', '.join('?' * len(chunk_urls))}) OR (feed_id = ? AND guid IN "
                f"({', '.join('?' * len(chunk_guids))}))",
                [*chunk_urls, feed_id, *chunk_guids],
            ):
                urls.add(url)
                if feed == feed_id and guid:
                    guids.add(guid)
        return urls, guids

    def pending_entries(self, limit: int, now: datetime | None = None) -> list[PendingEntry]:
        rows = self.db.query(
            "SELECT * FROM entries WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            [iso(now or utcnow()), limit],
        )
        return [
            PendingEntry(id=r["id"], url=r["url"], canonical_url=r["canonical_url"], source=r["source"],
                         title=r["title"] or "", summary=r["summary"] or "",
                         feed_published=parse_iso(r["feed_published"]), attempts=r["attempts"],
                         link_problem=r["link_problem"])
            for r in rows
        ]

    def queue_depth(self) -> int:
        return self.db.execute("SELECT count(*) FROM entries WHERE state = 'pending'").fetchone()[0]

    def complete_entry(
        self, entry_id: int, article: Article, tags: Iterable[Tag], html: bytes | None = None,
        content_type: str | None = None, *, max_age: timedelta | None = None,
    ) -> None:
        """Record an entry's article and tags and mark it done, all or nothing.

        The page's date now joins the feed's in the entry's publication time, and the entry is
        backlog when it was first seen more than `max_age` after it (None: no limit).
        """
        now = iso(utcnow())
        with self.transaction():
            row = self.db.execute("SELECT feed_published, discovered_at, backlog FROM entries WHERE id = ?",
                                  [entry_id]).fetchone()
            if row:
                seen = parse_iso(row[1]) or utcnow()
                published, provenance = _published(article.published, parse_iso(row[0]), seen)
                self.db.execute(
                    "UPDATE entries SET published_at = ?, published_from = ?, backlog = ? WHERE id = ?",
                    [iso(published), provenance, backlog_reason(published, seen, max_age, row[2]), entry_id])
            self.db.execute(_UPSERT_ARTICLE, [
                entry_id, article.title, article.text, json.dumps(article.authors, ensure_ascii=False),
                iso(article.published), article.language, article.canonical_url, article.image, article.reason,
                html, content_type, now])
            self._replace_tags(entry_id, tags, now)
            # processed_at keeps the first completion: it decides which day's digest the entry is in,
            # and reprocessing must not move it into another one.
            self.db.execute(
                "UPDATE entries SET state = 'done', processed_at = coalesce(processed_at, ?), last_error = NULL, "
                "last_error_kind = NULL, last_error_stage = NULL, next_attempt_at = NULL, last_attempt_at = ? "
                "WHERE id = ?",
                [now, now, entry_id],
            )

    def _replace_tags(self, entry_id: int, tags: Iterable[Tag], now: str | None) -> None:
        self.db.execute("DELETE FROM tags WHERE entry_id = ?", [entry_id])
        self.db.conn.executemany(
            "INSERT INTO tags (entry_id, topic, score, level, evidence, tagged_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(entry_id, tag.topic, round(tag.score, 4), tag.level,
              json.dumps([{"sentence": e.sentence, "terms": list(e.terms)} for e in tag.evidence], ensure_ascii=False),
              now) for tag in tags])

    def replace_tags(self, entry_id: int, tags: Iterable[Tag]) -> None:
        with self.transaction():
            self._replace_tags(entry_id, tags, iso(utcnow()))

    def fail_entry(self, entry_id: int, error: str, retry_at: datetime | None, *, kind: str | None = None,
                   stage: str | None = None) -> None:
        """Count a failed attempt; with no retry time the entry is given up as failed.

        `kind` and `stage` say what failed where (e.g. "internal" in "extract"), for status.
        """
        with self.transaction():
            self.db.execute(
                "UPDATE entries SET attempts = attempts + 1, last_error = ?, last_error_kind = ?, "
                "last_error_stage = ?, next_attempt_at = ?, last_attempt_at = ?, state = ? WHERE id = ?",
                [error, kind, stage, iso(retry_at), iso(utcnow()), "pending" if retry_at else "failed", entry_id],
            )

    def failed_entries(self, limit: int = 50) -> list[dict]:
        """Entries whose last attempt failed (waiting for a retry, or given up), newest attempt first."""
        return list(self.db.query(
            "SELECT id, source, url, state, attempts, last_error_kind, last_error_stage, last_error, "
            "last_attempt_at, next_attempt_at FROM entries WHERE last_error IS NOT NULL "
            "ORDER BY last_attempt_at DESC, id DESC LIMIT ?",
            [limit],
        ))

    def queue_activity(self, now: datetime | None = None) -> QueueActivity:
        due, oldest = self.db.execute(
            "SELECT count(*), min(next_attempt_at) FROM entries WHERE state = 'pending' AND next_attempt_at <= ?",
            [iso(now or utcnow())],
        ).fetchone()
        last = self.db.execute("SELECT max(last_attempt_at) FROM entries").fetchone()[0]
        return QueueActivity(due=due, oldest_due_at=parse_iso(oldest), last_attempt_at=parse_iso(last))

    def articles(self, source: str | None = None) -> Iterator[dict]:
        """Stored articles with their entry, for re-tagging and reprocessing."""
        sql = (
            "SELECT e.id, e.source, e.url, e.title AS feed_title, e.summary, a.title, a.text, a.language, a.html, "
            "a.content_type FROM entries e JOIN articles a ON a.entry_id = e.id"
        )
        args: list = []
        if source:
            sql += " WHERE e.source = ?"
            args.append(source)
        yield from self.db.query(sql + " ORDER BY e.id", args)

    def recent_texts(self, source: str, limit: int = 30) -> list[str]:
        rows = self.db.execute(
            "SELECT a.text FROM articles a JOIN entries e ON e.id = a.entry_id "
            "WHERE e.source = ? AND a.text != '' ORDER BY e.id DESC LIMIT ?",
            [source, limit],
        ).fetchall()
        return [r[0] for r in rows]

    def boilerplate(self, source: str) -> frozenset[str]:
        rows = self.db.execute("SELECT fingerprint FROM boilerplate WHERE source = ?", [source]).fetchall()
        return frozenset(r[0] for r in rows)

    def add_boilerplate(self, source: str, fingerprints: Iterable[str]) -> None:
        now = iso(utcnow())
        with self.transaction():
            self.db["boilerplate"].insert_all(
                ({"source": source, "fingerprint": f, "learned_at": now} for f in fingerprints), ignore=True
            )

    def find_entry(self, key: str) -> dict | None:
        """An entry with its article by id, URL or canonical URL."""
        sql = (
            "SELECT e.*, a.title AS article_title, a.text, a.language, a.authors, a.published "
            "FROM entries e LEFT JOIN articles a ON a.entry_id = e.id WHERE "
        )
        if key.isdigit():
            rows = list(self.db.query(sql + "e.id = ?", [int(key)]))
        else:
            rows = list(self.db.query(sql + "e.url = ? OR e.canonical_url = ?", [key, key]))
        return rows[0] if rows else None

    # -- digest queries ------------------------------------------------------------------------

    def tagged_items(self, topic: str, start: datetime, end: datetime, *, by: str = "processed"
                     ) -> list[TaggedItem]:
        """Tagged entries first processed in [start, end), backlog included (`TaggedItem.is_backlog`).

        The digest picks its day's items among them by publication time and by when they were
        processed (digest/build.py), so that a late item is in exactly one digest.
        """
        column = "e.published_at" if by == "published" else "e.processed_at"
        rows = self.db.query(
            "SELECT e.id, e.source, e.url, coalesce(nullif(a.title, ''), e.title) AS title, a.text, "
            "e.published_at AS published, e.published_from, e.processed_at, e.backlog, e.discovered_at, "
            "t.topic, t.score, t.level, t.evidence "
            "FROM tags t JOIN entries e ON e.id = t.entry_id JOIN articles a ON a.entry_id = e.id "
            # `+t.topic`: the planner would walk every tag of the topic through the (topic, level)
            # index; the day's entries through the processed_at index are far fewer on a big store.
            f"WHERE +t.topic = ? AND {column} >= ? AND {column} < ? "
            # The reader said "not relevant": the item leaves every digest, whatever the rules say.
            "AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.entry_id = e.id AND f.topic = t.topic "
            "AND f.verdict = 'not_relevant') "
            # The reader said "relevant (missed)" of an untagged item: it joins as a strong tag.
            "UNION ALL SELECT e.id, e.source, e.url, coalesce(nullif(a.title, ''), e.title) AS title, a.text, "
            "e.published_at AS published, e.published_from, e.processed_at, e.backlog, e.discovered_at, "
            f"f.topic, {MISSED_SCORE}, '{MISSED_LEVEL}', '[]' "
            "FROM feedback f JOIN entries e ON e.id = f.entry_id JOIN articles a ON a.entry_id = e.id "
            f"WHERE f.topic = ? AND f.verdict = 'relevant' AND {column} >= ? AND {column} < ? "
            "AND NOT EXISTS (SELECT 1 FROM tags m WHERE m.entry_id = f.entry_id AND m.topic = f.topic) "
            "ORDER BY score DESC, id",
            [topic, iso(start), iso(end)] * 2,
        )
        return [tagged_item(r) for r in rows]

    def digest_record(self, topic: str, day: str, channel: str, kind: str = "daily") -> dict | None:
        rows = list(self.db.query(
            "SELECT * FROM digests WHERE topic = ? AND day = ? AND channel = ? AND kind = ?",
            [topic, day, channel, kind],
        ))
        return rows[0] if rows else None

    def save_digest_record(self, topic: str, day: str, channel: str, kind: str = "daily", **fields: object) -> None:
        record = {"topic": topic, "day": day, "channel": channel, "kind": kind}
        record.update({k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()})
        with self.transaction():
            self.db["digests"].upsert(record, pk=("topic", "day", "channel", "kind"))

    def digest_records(self, status: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM digests", []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        return list(self.db.query(sql + " ORDER BY day DESC, topic, channel", args))

    def save_digest_recipients(self, topic: str, day: str, kind: str,
                               outcomes: Mapping[str, Mapping[str, object]]) -> None:
        """Each recipient's outcome of one send, all or none: {recipient: {status, last_error, ...}}."""
        with self.transaction():
            for recipient, fields in outcomes.items():
                record = {"topic": topic, "day": day, "kind": kind, "recipient": recipient}
                record.update({k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()})
                self.db["digest_recipients"].upsert(record, pk=("topic", "day", "kind", "recipient"))

    def digest_recipients(self, topic: str | None = None, day: str | None = None,
                          kind: str | None = None) -> list[dict]:
        clauses = [(c, v) for c, v in (("topic", topic), ("day", day), ("kind", kind)) if v is not None]
        where = " WHERE " + " AND ".join(f"{c} = ?" for c, _ in clauses) if clauses else ""
        return list(self.db.query(f"SELECT * FROM digest_recipients{where} ORDER BY day DESC, topic, kind, recipient",
                                  [v for _, v in clauses]))

    def tagged_revision(self, topic: str, start: datetime, end: datetime) -> str:
        """Changes whenever what `tagged_items(topic, start, end)` returns may have: a tag added,
        replaced or removed, an entry processed again, a reader's verdict."""
        tags = self.db.execute(
            "SELECT count(*), max(t.tagged_at), max(e.processed_at) FROM tags t JOIN entries e ON e.id = t.entry_id "
            "WHERE +t.topic = ? AND e.processed_at >= ? AND e.processed_at < ?",
            [topic, iso(start), iso(end)],
        ).fetchone()
        feedback = self.db.execute("SELECT count(*), max(updated_at) FROM feedback WHERE topic = ?",
                                   [topic]).fetchone()
        return repr((*tags, *feedback))

    # -- events, status, search ------------------------------------------------------------------

    def log_event(self, kind: str, message: str, *, source: str | None = None,
                  feed_id: int | None = None, entry_id: int | None = None) -> None:
        with self.transaction():
            self.db["events"].insert(
                {"at": iso(utcnow()), "kind": kind, "source": source, "feed_id": feed_id,
                 "entry_id": entry_id, "message": message}
            )

    def record_cycle(self, started_at: datetime, outcome: str, *, error: str | None = None, feeds: int = 0,
                     entries: int = 0, unit_failures: int = 0) -> None:
        """One service cycle's outcome (ok, failed, stopped); only the latest KEEP_CYCLES are kept."""
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO cycles (started_at, finished_at, outcome, error, feeds, entries, unit_failures) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [iso(started_at), iso(utcnow()), outcome, error, feeds, entries, unit_failures],
            )
            self.db.execute("DELETE FROM cycles WHERE id <= ?", [cursor.lastrowid - KEEP_CYCLES])

    def recent_cycles(self, limit: int = 10) -> list[dict]:
        """The latest cycles, newest first."""
        return list(self.db.query("SELECT * FROM cycles ORDER BY id DESC LIMIT ?", [limit]))

    def identity(self) -> StoreIdentity:
        row = self.db.execute("SELECT id, created FROM store_identity ORDER BY created LIMIT 1").fetchone()
        return StoreIdentity(id=row[0], created=row[1])

    def write_problem(self) -> str | None:
        """Why nothing can be written to the store (read-only file or file system), or None. A write
        that changes nothing, rolled back: only a real write finds out."""
        conn = self.db.conn
        if conn.in_transaction:
            return None  # writing already
        # No waiting for the write lock (status and the reading room call this while the service
        # writes): SQLite refuses a read-only file before it asks for the lock, so "locked" means
        # writable, by someone else just now.
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN")
            try:
                conn.execute("UPDATE store_identity SET id = id")
            finally:
                conn.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            name = getattr(exc, "sqlite_errorname", "") or ""
            if name.startswith("SQLITE_READONLY") or "readonly" in str(exc):
                return f"read-only: {exc}"
            if not (name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)):
                raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return None

    @staticmethod
    def is_storage_failure(exc: BaseException) -> bool:
        """Whether `exc` is the database itself failing (full, I/O, locked, corrupt) rather than one
        unit's data: every other unit would fail the same way, so no unit boundary may swallow it."""
        return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError

    def events_since(self, since: datetime, kinds: Iterable[str] | None = None) -> list[dict]:
        sql, args = "SELECT * FROM events WHERE at >= ?", [iso(since)]
        kinds = list(kinds or [])
        if kinds:
            sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
            args += kinds
        return list(self.db.query(sql + " ORDER BY id", args))

    def failing_sources(self, since: datetime) -> list[dict]:
        """Sources with a failed feed poll since `since`, with the latest error: for digest footers."""
        return list(self.db.query(
            "SELECT f.source, f.url, f.health, f.last_error, f.failures FROM feeds f "
            "WHERE f.active = 1 AND f.health IN ('failing', 'gone') AND f.last_attempt_at >= ? "
            "ORDER BY f.source, f.url",
            [iso(since)],
        ))

    def feeds(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM feeds WHERE active = 1 ORDER BY source, url"))

    def entry_problems(self) -> dict[int, EntryProblems]:
        """Per feed id, the entries stored without their link and those skipped, by reason; feeds
        with neither are left out."""
        without: dict[int, dict[str, int]] = {}
        for feed_id, problem, count in self.db.execute(
            "SELECT feed_id, link_problem, count(*) FROM entries WHERE link_problem IS NOT NULL "
            "GROUP BY feed_id, link_problem ORDER BY feed_id, count(*) DESC, link_problem"
        ).fetchall():
            without.setdefault(feed_id, {})[problem] = count
        skipped = {feed_id: json.loads(text) for feed_id, text in
                   self.db.execute("SELECT id, skipped FROM feeds WHERE skipped IS NOT NULL").fetchall()}
        return {feed_id: EntryProblems(without_link=without.get(feed_id, {}), skipped=skipped.get(feed_id, {}))
                for feed_id in sorted(without.keys() | skipped.keys())}

    def counts(self) -> dict[str, int]:
        states = dict(self.db.execute("SELECT state, count(*) FROM entries GROUP BY state").fetchall())
        return {
            "entries": sum(states.values()),
            "pending": states.get("pending", 0),
            "done": states.get("done", 0),
            "failed": states.get("failed", 0),
            "tagged": self.db.execute("SELECT count(DISTINCT entry_id) FROM tags").fetchone()[0],
        }

    def articles_by_language(self) -> dict[str, int]:
        """Extracted items per language as stored ("" when none was declared or detected)."""
        rows = self.db.execute("SELECT coalesce(language, ''), count(*) FROM articles GROUP BY 1").fetchall()
        return {language: n for language, n in rows}

    def search(self, query: str, limit: int = 20) -> list[dict]:
        sql = (
            "SELECT e.id, e.source, e.url, a.title, snippet(articles_fts, 1, '[', ']', '…', 12) AS snippet "
            "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "JOIN entries e ON e.id = a.entry_id WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?"
        )
        try:
            rows = list(self.db.query(sql, [fts5_query(query), limit]))
        except sqlite3.OperationalError:
            # A query that is not valid FTS5 syntax is searched as plain words.
            rows = list(self.db.query(sql, [fts5_query(self.db.quote_fts(query)), limit]))
        for row in rows:
            row["snippet"] = fts.readable_snippet(row["snippet"] or "")
        return rows

    def vacuum(self) -> None:
        with self.db.ensure_autocommit_on():
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.vacuum()
            # VACUUM writes the whole database through the WAL: fold it back, or the files grow.
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def prune_html(self, older_than: timedelta) -> int:
        cutoff = iso(utcnow() - older_than)
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE articles SET html = NULL WHERE html IS NOT NULL AND extracted_at < ?", [cutoff]
            )
        return cursor.rowcount

    def shift_schedule(self, after: datetime, by: timedelta) -> int:
        """Move every planned time later than `after` by `by`: what the service does when the wall
        clock stepped back, so that no feed, entry or digest waits out the step. Returns the rows moved."""
        moved = 0
        with self.transaction():
            for table, keys, column in SCHEDULED_TIMES:
                rows = self.db.execute(f"SELECT {', '.join(keys)}, {column} FROM {table} WHERE {column} > ?",
                                       [iso(after)]).fetchall()
                where = " AND ".join(f"{k} = ?" for k in keys)
                for *ids, value in rows:
                    self.db.execute(f"UPDATE {table} SET {column} = ? WHERE {where}",
                                    [iso(parse_iso(value) + by), *ids])
                moved += len(rows)
        return moved

    # -- fetching (issue 5): queries the fetcher and scheduler need go below --------------------

    def feed_item_times(self, feed_id: int, since: datetime, limit: int = 50) -> list[datetime]:
        """When this feed's recent entries were published (or first seen), newest first: its pace."""
        rows = self.db.execute(
            "SELECT coalesce(feed_published, discovered_at) AS t FROM entries "
            "WHERE feed_id = ? AND coalesce(feed_published, discovered_at) >= ? ORDER BY t DESC LIMIT ?",
            [feed_id, iso(since), limit],
        ).fetchall()
        return [parse_iso(r[0]) for r in rows]

    def feed_ttl(self, feed_id: int) -> int | None:
        """The publisher's minimum poll interval (RSS <ttl>) last seen: a 304 carries no body, so
        the TTL is remembered from the last full response."""
        row = self.db.execute("SELECT ttl_seconds FROM feeds WHERE id = ?", [feed_id]).fetchone()
        return row[0] if row else None

    # -- digests (issue 6): queries the digest and delivery need go below -----------------------

    def first_discovered_at(self) -> datetime | None:
        """When the first entry was seen: days before it were not watched, so there is nothing to catch up."""
        row = self.db.execute("SELECT min(discovered_at) FROM entries").fetchone()
        return parse_iso(row[0]) if row else None

    def claim_digest(self, topic: str, day: str, channel: str, kind: str, expect: dict | None,
                     **fields: object) -> bool:
        """Compare-and-set a digest record: write `fields` only if the record is still as `expect` saw it.

        One statement each way, so two deliverers (the service's jobs, a `newswatch digest` run) can
        never both claim the same send; the loser gets False and leaves the delivery to the winner.
        """
        values = {k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        with self.transaction():
            if expect is None:
                record = {"topic": topic, "day": day, "channel": channel, "kind": kind, **values}
                columns = ", ".join(record)
                cursor = self.db.execute(
                    f"INSERT OR IGNORE INTO digests ({columns}) VALUES ({', '.join('?' * len(record))})",
                    list(record.values()),
                )
            else:
                assignments = ", ".join(f"{k} = ?" for k in values)
                cursor = self.db.execute(
                    f"UPDATE digests SET {assignments} WHERE topic = ? AND day = ? AND channel = ? AND kind = ? "
                    "AND status IS ? AND coalesce(attempts, 0) = ?",
                    [*values.values(), topic, day, channel, kind, expect.get("status"), expect.get("attempts") or 0],
                )
        return cursor.rowcount == 1

    # -- channel deliveries (issue 19): alerts and digests through Apprise -------------------------

    def add_delivery(self, channel: str, kind: str, key: str, **fields: object) -> bool:
        """A new delivery record; False (and nothing written) when (channel, kind, key) has one."""
        record = {"channel": channel, "kind": kind, "key": key, **_stamped(fields)}
        with self.transaction():
            cursor = self.db.execute(
                f"INSERT OR IGNORE INTO deliveries ({', '.join(record)}) VALUES ({', '.join('?' * len(record))})",
                list(record.values()))
        return cursor.rowcount == 1

    def delivery(self, channel: str, kind: str, key: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM deliveries WHERE channel = ? AND kind = ? AND key = ?",
                                  [channel, kind, key]))
        return rows[0] if rows else None

    def deliveries(self, channel: str | None = None, *, kind: str | None = None,
                   statuses: Iterable[str] | None = None, limit: int = 1000) -> list[dict]:
        clauses, args = _delivery_filters(channel, kind, statuses, "?")
        return list(self.db.query(f"SELECT * FROM deliveries{clauses} ORDER BY created_at, key LIMIT ?",
                                  [*args, limit]))

    def claim_delivery(self, channel: str, kind: str, key: str, expect: Mapping[str, object],
                       **fields: object) -> bool:
        """Compare-and-set: write `fields` only if the record's status and attempts are still as
        `expect` saw them, so of two senders exactly one sends."""
        values = _stamped(fields)
        with self.transaction():
            cursor = self.db.execute(
                f"UPDATE deliveries SET {', '.join(f'{k} = ?' for k in values)} "
                "WHERE channel = ? AND kind = ? AND key = ? AND status = ? AND coalesce(attempts, 0) = ?",
                [*values.values(), channel, kind, key, expect.get("status"), expect.get("attempts") or 0])
        return cursor.rowcount == 1

    def fold_deliveries(self, channel: str, keys: Iterable[tuple[str, str]], summary_key: str,
                        **summary: object) -> bool:
        """Held alerts become one summary, all at once: the summary record is added and each held
        record marked with it in one transaction; False when another sender made it first."""
        with self.transaction():
            if not self.add_delivery(channel, "summary", summary_key, **summary):
                return False
            for kind, key in keys:
                self.db.execute("UPDATE deliveries SET status = 'summarized', summary = ?, updated_at = ? "
                                "WHERE channel = ? AND kind = ? AND key = ? AND status = 'held'",
                                [summary_key, iso(utcnow()), channel, kind, key])
        return True

    def delivered_count(self, channel: str, kinds: Iterable[str], since: datetime) -> int:
        kinds = list(kinds)
        return self.db.execute(
            f"SELECT count(*) FROM deliveries WHERE channel = ? AND kind IN ({', '.join('?' * len(kinds))}) "
            "AND delivered_at >= ?", [channel, *kinds, iso(since)]).fetchone()[0]

    def alerted_entries(self, channel: str, topic: str, entry_ids: Iterable[int]) -> set[int]:
        """Which of these entries already have an alert record on the channel for the topic."""
        ids = list(entry_ids)
        if not ids:
            return set()
        rows = self.db.execute(
            f"SELECT entry_id FROM deliveries WHERE channel = ? AND kind = 'alert' AND topic = ? "
            f"AND entry_id IN ({', '.join('?' * len(ids))})", [channel, topic, *ids]).fetchall()
        return {r[0] for r in rows}

    def channel_report(self) -> list[dict]:
        """Per channel: the last delivery, the last failure and its error, and how many records are
        waiting (pending, held, failed with a retry time) or given up."""
        return list(self.db.query(CHANNEL_REPORT.replace("%s", "?")))

    # -- the reading room (issue 13): queries `pipeline.web` and `newswatch feedback` need ----------

    def item_tags(self, entry_id: int) -> list[dict]:
        """An entry's tags, evidence decoded, best first."""
        rows = self.db.query("SELECT * FROM tags WHERE entry_id = ? ORDER BY score DESC, topic", [entry_id])
        return [{**r, "evidence": json.loads(r["evidence"] or "[]")} for r in rows]

    def tagged_days(self, topic: str, utc_offset_minutes: int = 0, limit: int = 400) -> list[tuple[str, int]]:
        """(YYYY-MM-DD, tagged items) for the days with items on `topic`, newest first.

        Days are local days at one UTC offset (the time zone's offset now): SQLite knows no time
        zones, so items within an hour of midnight on the far side of a DST change can count for
        the neighbouring day here, though the day's page itself uses the exact window.
        """
        shift = f"{utc_offset_minutes:+d} minutes"
        rows = self.db.execute(
            "SELECT date(e.published_at, ?) AS day, count(*) FROM tags t JOIN entries e ON e.id = t.entry_id "
            "WHERE t.topic = ? AND e.processed_at IS NOT NULL GROUP BY day ORDER BY day DESC LIMIT ?",
            [shift, topic, limit],
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def search_items(self, query: str, *, topic: str | None = None, level: str | None = None,
                     source: str | None = None, start: datetime | None = None, end: datetime | None = None,
                     order: str = "relevance", limit: int = 20, offset: int = 0) -> list[dict]:
        """Full-text matches, narrowed by tag, source and publication time [start, end).

        `order` "newest" walks the index from the newest entry and stops at `limit`: under a
        millisecond whatever the word. "relevance" ranks by BM25 the RELEVANCE_WINDOW newest
        matches that pass the filters: BM25 scores every candidate before it can sort, and a
        word in a third of 200,000 articles took 0.4 s; for rarer words the ranking is exact.

        Each row has id, source, url, title, snippet (matches between \\x02 and \\x03), processed_at,
        and its tag (`topic`'s, or else its best): topic, score, level. An empty query lists the
        newest items that pass the filters.
        """
        where, args = item_filters("?", topic=topic, level=level, source=source, start=start, end=end)
        if not query.strip():
            sql = (
                "SELECT e.id, e.source, e.url, coalesce(nullif(a.title, ''), e.title) AS title, "
                "substr(a.text, 1, 200) AS snippet, e.processed_at, e.published_at, e.published_from "
                "FROM entries e JOIN articles a ON a.entry_id = e.id "
                + (f"WHERE {' AND '.join(where)} " if where else "") + "ORDER BY e.id DESC LIMIT ? OFFSET ?"
            )
            return self._with_tags(list(self.db.query(sql, [*args, limit, offset])), topic)
        matches = (
            "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "JOIN entries e ON e.id = a.entry_id "
            f"WHERE {' AND '.join(['articles_fts MATCH ?', *where])} "
        )
        columns = (
            "SELECT e.id, e.source, e.url, coalesce(nullif(a.title, ''), e.title) AS title, "
            "snippet(articles_fts, 1, char(2), char(3), '…', 16) AS snippet, e.processed_at, e.published_at, "
            "e.published_from "
        )
        if order == "newest":
            sql = columns + matches + "ORDER BY articles_fts.rowid DESC LIMIT ? OFFSET ?"
        else:
            # The oldest rowid of the window, found newest first, bounds the rows BM25 must score.
            oldest = (f"(SELECT min(rowid) FROM (SELECT articles_fts.rowid AS rowid {matches}"
                      f"ORDER BY articles_fts.rowid DESC LIMIT {RELEVANCE_WINDOW}))")
            sql = columns + matches + f"AND articles_fts.rowid >= coalesce({oldest}, 0) ORDER BY rank LIMIT ? OFFSET ?"

        def values(fts_query: str) -> list:
            return [fts_query, *args] * (1 if order == "newest" else 2) + [limit, offset]

        try:
            rows = list(self.db.query(sql, values(fts5_query(query))))
        except sqlite3.OperationalError:
            # A query that is not valid FTS5 syntax is searched as plain words.
            rows = list(self.db.query(sql, values(fts5_query(self.db.quote_fts(query)))))
        for row in rows:
            row["snippet"] = fts.readable_snippet(row["snippet"] or "")
        return self._with_tags(rows, topic)

    def search_count(self, query: str, *, topic: str | None = None, level: str | None = None,
                     source: str | None = None, start: datetime | None = None, end: datetime | None = None,
                     cap: int = 1000) -> int:
        """How many items `search_items` finds with these filters, counted up to `cap`."""
        where, args = item_filters("?", topic=topic, level=level, source=source, start=start, end=end)
        if not query.strip():
            sql = ("SELECT count(*) FROM (SELECT 1 FROM entries e JOIN articles a ON a.entry_id = e.id "
                   + (f"WHERE {' AND '.join(where)} " if where else "") + "LIMIT ?)")
            return self.db.execute(sql, [*args, cap]).fetchone()[0]
        sql = ("SELECT count(*) FROM (SELECT 1 FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
               f"JOIN entries e ON e.id = a.entry_id WHERE {' AND '.join(['articles_fts MATCH ?', *where])} LIMIT ?)")
        try:
            return self.db.execute(sql, [fts5_query(query), *args, cap]).fetchone()[0]
        except sqlite3.OperationalError:
            return self.db.execute(sql, [fts5_query(self.db.quote_fts(query)), *args, cap]).fetchone()[0]

    def _with_tags(self, rows: list[dict], topic: str | None) -> list[dict]:
        ids = [r["id"] for r in rows]
        if not ids:
            return rows
        marks = ",".join("?" * len(ids))
        tags = self.db.query(f"SELECT entry_id, topic, score, level FROM tags WHERE entry_id IN ({marks})", ids)
        verdicts = self.db.query(f"SELECT entry_id, topic, verdict FROM feedback WHERE entry_id IN ({marks}) "
                                 "AND verdict IS NOT NULL", ids)
        return attach_tags(rows, list(tags), list(verdicts), topic)

    def source_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM sources WHERE active = 1 ORDER BY name")]

    def source_arrivals(self, since: datetime | None = None) -> dict[str, tuple[int, int]]:
        """Per source, the entries first seen since `since` (all, when None) and how many of them are
        backlog, for the poll summary and status ("Xinhua: 120 new items, 118 backlog")."""
        rows = self.db.execute(
            "SELECT source, count(*), count(backlog) FROM entries WHERE discovered_at >= ? "
            "GROUP BY source ORDER BY source", [iso(since) if since else ""],
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def set_feedback(self, entry_id: int, topic: str, *, verdict: str | None = ..., starred: bool | None = None
                     ) -> None:
        """Record the reader's verdict (not_relevant, relevant, None to withdraw it) and/or star.

        Arguments left out keep their stored value; the tag's score and level at this moment are
        kept beside it, so `newswatch feedback list` can show what the rules said when judged.
        """
        if verdict not in (..., None, "not_relevant", "relevant"):
            raise ValueError(f"unknown verdict {verdict!r}")
        with self.transaction():
            tag = self.db.execute(
                "SELECT score, level FROM tags WHERE entry_id = ? AND topic = ?", [entry_id, topic]
            ).fetchone()
            old = self.db.execute(
                "SELECT verdict, starred FROM feedback WHERE entry_id = ? AND topic = ?", [entry_id, topic]
            ).fetchone()
            self.db["feedback"].upsert(
                {"entry_id": entry_id, "topic": topic,
                 "verdict": (old[0] if old else None) if verdict is ... else verdict,
                 "starred": int((old[1] if old else 0) if starred is None else starred),
                 "score": tag[0] if tag else 0.0, "level": tag[1] if tag else None, "updated_at": iso(utcnow())},
                pk=("entry_id", "topic"),
            )

    def feedback(self, entry_id: int | None = None) -> list[dict]:
        """Feedback rows joined with their item (title, source, url, text, language) and its current tag."""
        sql = (
            "SELECT f.entry_id, f.topic, f.verdict, f.starred, f.score AS judged_score, f.level AS judged_level, "
            "f.updated_at, e.source, e.url, coalesce(nullif(a.title, ''), e.title) AS title, a.text, a.language, "
            "t.score, t.level FROM feedback f JOIN entries e ON e.id = f.entry_id "
            "LEFT JOIN articles a ON a.entry_id = e.id "
            "LEFT JOIN tags t ON t.entry_id = f.entry_id AND t.topic = f.topic "
            "WHERE (f.verdict IS NOT NULL OR f.starred = 1)"
        )
        args: list = []
        if entry_id is not None:
            sql += " AND f.entry_id = ?"
            args.append(entry_id)
        return list(self.db.query(sql + " ORDER BY f.updated_at DESC, f.entry_id", args))

    def source_stats(self) -> dict[str, tuple[int, int, datetime | None]]:
        """Per source: processed items, tagged items, the latest item's publication time."""
        rows = self.db.execute(
            "SELECT e.source, count(*), count(DISTINCT t.entry_id), max(e.published_at) FROM entries e "
            "LEFT JOIN tags t ON t.entry_id = e.id WHERE e.state = 'done' GROUP BY e.source").fetchall()
        return {r[0]: (r[1], r[2], parse_iso(r[3])) for r in rows}

    def pause_source(self, name: str, paused: bool = True) -> bool:
        """Pause (or resume) polling a source's feeds; False when there is no such source."""
        with self.transaction():
            return self.db.execute(
                "UPDATE sources SET paused_at = ? WHERE name = ?", [iso(utcnow()) if paused else None, name]
            ).rowcount > 0

    def paused_sources(self) -> dict[str, datetime]:
        return {r[0]: parse_iso(r[1]) for r in self.db.execute(
            "SELECT name, paused_at FROM sources WHERE paused_at IS NOT NULL")}

    def set_read(self, entry_ids: Iterable[int], read: bool = True) -> None:
        """Mark entries read (opened or marked by the reader) or unread again."""
        ids = list(entry_ids)
        with self.transaction():
            if read:
                self.db.conn.executemany("INSERT OR IGNORE INTO reads (entry_id, read_at) VALUES (?, ?)",
                                         [(i, iso(utcnow())) for i in ids])
            else:
                self.db.conn.executemany("DELETE FROM reads WHERE entry_id = ?", [(i,) for i in ids])

    def read_entries(self, entry_ids: Iterable[int]) -> set[int]:
        ids = list(entry_ids)
        found: set[int] = set()
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            found.update(r[0] for r in self.db.execute(
                f"SELECT entry_id FROM reads WHERE entry_id IN ({','.join('?' * len(part))})", part))
        return found

    def visit(self, now: datetime | None = None, *, record: bool = True) -> datetime | None:
        """Record the reader's visit; returns when the previous visit was (None: the first). A
        return within VISIT_GAP is the same visit, so "new" does not empty on every page load.
        `record=False` only reads: what a visit now would return, without taking the write lock."""
        now = now or utcnow()
        if not record:
            row = self.db.execute("SELECT previous_at, last_at FROM visits WHERE id = 1").fetchone()
            return _previous_visit(row, now)
        with self.transaction():
            row = self.db.execute("SELECT previous_at, last_at FROM visits WHERE id = 1").fetchone()
            previous = _previous_visit(row, now)
            self.db["visits"].upsert({"id": 1, "previous_at": iso(previous), "last_at": iso(now)}, pk="id")
        return previous

    def starred_items(self, limit: int = 500) -> list[dict]:
        """Starred items, the latest star first: id, source, url, title, published_at, topic, read."""
        return list(self.db.query(
            "SELECT e.id, e.source, e.url, coalesce(nullif(a.title, ''), e.title) AS title, e.published_at, "
            "f.topic, f.updated_at, r.entry_id IS NOT NULL AS read FROM feedback f "
            "JOIN entries e ON e.id = f.entry_id LEFT JOIN articles a ON a.entry_id = e.id "
            "LEFT JOIN reads r ON r.entry_id = e.id WHERE f.starred = 1 "
            "ORDER BY f.updated_at DESC, e.id DESC LIMIT ?", [limit]))

    def saved_searches(self) -> list[dict]:
        """name, params (the search's query string), created_at; by name."""
        return list(self.db.query("SELECT name, params, created_at FROM saved_searches ORDER BY name"))

    def save_search(self, name: str, params: str) -> None:
        """Save (or replace) a search under `name`."""
        with self.transaction():
            self.db["saved_searches"].upsert({"name": name, "params": params, "created_at": iso(utcnow())},
                                             pk="name")

    def delete_search(self, name: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM saved_searches WHERE name = ?", [name])

    def bulk_insert_items(self, rows: Iterable[tuple[FeedItem, Article, list[Tag], datetime]],
                          feed_id: int, source: str) -> int:
        """Insert processed items in one transaction without per-row lookups: for filling benchmark
        stores. Unlike add_items and complete_entry it trusts the caller that the URLs are new."""
        count = 0
        with self.transaction():
            conn = self.db.conn
            for item, article, tags, processed_at in rows:
                stamp = iso(processed_at)
                cursor = conn.execute(
                    "INSERT INTO entries (canonical_url, url, guid, feed_id, source, title, summary, author, "
                    "feed_published, discovered_at, state, attempts, processed_at, published_at, published_from) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', 1, ?, ?, ?)",
                    [item.canonical_url, item.url, item.guid, feed_id, source, item.title, item.summary,
                     item.author, iso(item.published), stamp, stamp,
                     *_iso_pair(_published(article.published, item.published, processed_at))],
                )
                entry_id = cursor.lastrowid
                conn.execute(
                    "INSERT INTO articles (entry_id, title, text, authors, published, language, extracted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [entry_id, article.title, article.text, json.dumps(article.authors), iso(article.published),
                     article.language, stamp],
                )
                conn.executemany(
                    "INSERT INTO tags (entry_id, topic, score, level, evidence, tagged_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [(entry_id, t.topic, round(t.score, 4), t.level, json.dumps(
                        [{"sentence": e.sentence, "terms": list(e.terms)} for e in t.evidence], ensure_ascii=False),
                      stamp) for t in tags],
                )
                count += 1
        return count

    # -- the StoreProtocol's backend-neutral extras (pipeline/store/base.py) ----------------------

    @property
    def location(self) -> str:
        return str(self.path)

    def size_bytes(self) -> int:
        """The database on disk: the file and its write-ahead log, which holds recent writes."""
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    # One process owns a SQLite store (the instance lock sees to it), so it has no leases to renew
    # and no other processes to list.
    def heartbeat(self, role: str) -> None:
        pass

    def release_leases(self) -> None:
        pass

    def processes(self) -> list[dict]:
        return []
