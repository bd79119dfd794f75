"""SIGKILL the running service at random moments of a busy cycle, 20 times, then let it finish.

Nothing may be lost or stored twice, and the digest that was due at start must reach the inbox
once (the ledger allows one marked resend when a kill lands between SMTP accept and the record).
Everything is real: the service subprocess, its worker pool, SQLite on disk, HTTP on 127.0.0.1,
SMTP through aiosmtpd.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from config_helpers import write_config
from digest_helpers import Inbox, free_port, smtp_server
from httpserver import LocalServer, Response
from waiting import COMMAND_DEADLINE

from pipeline.context import load_context
from pipeline.models import Article, FeedItem
from pipeline.store import Store, iso

ROOT = Path(__file__).resolve().parents[2]
FEEDS, ITEMS_PER_FEED = 4, 80  # enough work that the 20th kill still finds pages left on a loaded machine
KILLS = 20
PAGE_DELAY = 0.15  # per page, two connections to the one host: ~24 s of work, spread over many runs

# Our own sentences. On-topic ones name the people and the channel the topic rules look for.
ON_TOPIC = [
    "US Defense Secretary Lloyd Austin held a video call with Chinese Defense Minister Dong Jun on military "
    "communication.",
    "The Pentagon said both sides agreed to keep the military hotline between Washington and Beijing open.",
    "Officials from the United States and China discussed maritime safety talks and theater commander calls.",
]
OFF_TOPIC = [
    "City council members approved a budget for dredging the harbour channel after a long argument.",
    "The local football club signed a young goalkeeper on a three-year contract this week.",
    "Farmers expect a late harvest because the spring was unusually cold and wet across the valley.",
    "A new bakery on the high street sells rye bread and cinnamon rolls from seven in the morning.",
    "The museum opened an exhibition of nineteenth-century maps donated by a private collector.",
    "Commuters faced delays after a signal fault on the northern railway line during the morning rush.",
    "The library extended its opening hours for students preparing for their final examinations.",
]


def article_text(rng: random.Random, on_topic: bool) -> list[str]:
    paragraphs = []
    for number in range(6):
        sentences = [rng.choice(OFF_TOPIC) for _ in range(4)]
        if on_topic and number < 2:
            sentences.insert(0, ON_TOPIC[number % len(ON_TOPIC)] if number else ON_TOPIC[0])
        paragraphs.append(" ".join(sentences))
    return paragraphs


def page(title: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title></head>"
            f"<body><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav><article><h1>{escape(title)}</h1>"
            f"{body}</article><footer>Copyright the test newsroom</footer></body></html>")


def rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid></item>"
                      for t, u in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>/</link>{entries}</channel></rss>'


def newsroom(server: LocalServer, tmp: Path) -> dict[str, bool]:
    """Feeds and pages on the server, a source file per feed; returns every item URL -> on topic?"""
    rng = random.Random(7)
    served: dict[str, bool] = {}
    sources = tmp / "sources"
    sources.mkdir()
    for feed in range(FEEDS):
        items = []
        for i in range(ITEMS_PER_FEED):
            on_topic = rng.random() < 0.2
            path = f"/f{feed}/story-{i}.html"
            title = f"Story {feed}-{i}"
            server.route(path, Response(body=page(title, article_text(rng, on_topic)), delay=PAGE_DELAY,
                                        headers={"Content-Type": "text/html; charset=utf-8"}))
            items.append((title, server.url(path)))
            served[server.url(path)] = on_topic
        server.route(f"/f{feed}/rss.xml", Response(body=rss(items), headers={"Content-Type": "application/rss+xml"}))
        (sources / f"outlet-{feed}.toml").write_text(
            f'name = "outlet-{feed}"\nhomepage = "{server.url("/")}"\nlanguage = "en"\n\n'
            f'[[feeds]]\nurl = "{server.url(f"/f{feed}/rss.xml")}"\n', encoding="utf-8")
    return served


def seed_due_digest(config: Path) -> str:
    """One tagged story first seen yesterday: yesterday's digest is due the moment the service starts."""
    ctx = load_context(config)
    url = "https://seed.example/austin-dong-call"
    text = " ".join(ON_TOPIC)
    with ctx.open_store() as store:
        feed_id = store.feeds()[0]["id"]
        store.add_items(feed_id, "outlet-0", [FeedItem(url=url, canonical_url=url, guid=url, title="Call",
                                                      summary="", published=None)])
        entry_id = store.db.execute("SELECT id FROM entries WHERE canonical_url = ?", [url]).fetchone()[0]
        yesterday = datetime.now(UTC) - timedelta(days=1)
        tags = ctx.tagger.tag("Austin and Dong hold a video call", text, "en")
        assert tags, "the seed story must be on topic"
        store.complete_entry(entry_id, Article(title="Austin and Dong hold a video call", text=text), tags)
        # Published, seen and processed yesterday: the digest goes by the publication time.
        store.db.execute("UPDATE entries SET discovered_at = ?, processed_at = ?, published_at = ? WHERE id = ?",
                         [iso(yesterday), iso(yesterday), iso(yesterday), entry_id])
        store.db.conn.commit()
    return url


def start(config: Path) -> subprocess.Popen:
    # A session of its own: after a SIGKILL we can find every process it left behind.
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--config", str(config), "--tick", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)


def session_members(sid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid:
                    members.append(int(entry))
            except ProcessLookupError:
                pass
    return members


def wait_until_gone(sid: int, timeout: float = 60.0) -> list[int]:
    """Processes of the killed service still alive after `timeout` (its workers must follow it)."""
    deadline = time.monotonic() + timeout
    while (left := session_members(sid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def counts(db: Path) -> dict[str, int]:
    with Store(db) as store:
        return store.counts()


def email_sent(db: Path) -> bool:
    with Store(db) as store:
        return any(d["channel"] == "email" for d in store.digest_records("sent"))


def release_interrupted_send(db: Path) -> None:
    """A kill inside the send leaves the claim's lease (>= 5 min) in force longer than this test runs:
    let that time pass in the ledger, as it would in a service's life."""
    with Store(db) as store, store.transaction():
        store.db.execute("UPDATE digests SET next_attempt_at = ? WHERE channel = 'email' AND status IN "
                         "('sending', 'resending')", [iso(datetime.now(UTC) - timedelta(seconds=1))])


def wait_for_lock(lock: Path, pid: int, timeout: float = 60.0) -> None:
    """Until the service holds its lock: its SIGTERM handler is installed by then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock.exists() and f'"pid": {pid},' in lock.read_text():
            return
        time.sleep(0.1)
    raise AssertionError("the service did not take its lock")


def queue(db: Path) -> sqlite3.Connection:
    """A read-only connection to the service's store, kept open: watching the queue must cost the
    loaded machine little, or the service runs ahead of the watcher between its looks."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def queue_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT state, count(*) FROM entries GROUP BY state").fetchall())


def wait_until_busy(conn: sqlite3.Connection, service: subprocess.Popen, done_before: int, more: int,
                    timeout: float = 90.0) -> bool:
    """Until the service has finished `more` entries since it started, with entries still pending:
    its cycle is at work, pages in flight. Returns whether work was left when it got there.

    Waiting for observed progress instead of a fixed time puts every kill inside a busy cycle however
    slowly this machine starts the service and its worker pool."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert service.poll() is None, service.stderr.read()
        seen = queue_counts(conn)
        if seen.get("done", 0) >= done_before + more:
            return seen.get("pending", 0) > 0
        time.sleep(0.02)
    raise AssertionError(f"the service finished fewer than {more} entries in {timeout} s")


def test_sigkill_20_times_loses_nothing_duplicates_nothing_and_mails_the_digest_once(tmp_path):
    inbox, port = Inbox(), free_port()
    smtp = smtp_server(port, inbox)
    with LocalServer() as server:
        served = newsroom(server, tmp_path)
        config = write_config(tmp_path, (
            '[digest]\ntime = "00:00"\ntimezone = "UTC"\nformats = ["markdown"]\noutput_dir = "digests"\n\n'
            f'[email]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'sender = "digest@newswatch.example"\nrecipients = ["ana@example.org"]\ntimeout = 5\n'))
        seed = seed_due_digest(config)
        db = tmp_path / "newswatch.db"
        rng = random.Random(20240601)
        busy_kills, sessions = 0, []
        watcher = queue(db)
        try:
            for _ in range(KILLS):
                before = counts(db)
                service = start(config)
                busy = wait_until_busy(watcher, service, before["done"], rng.randint(1, 4))
                service.kill()
                service.wait(10)
                service.stderr.close()
                sessions.append(service.pid)
                # Busy: work was pending when the kill was sent. Looking again after it would also
                # count the pages the service finished while the kill was on its way, and on a loaded
                # machine those were sometimes the last ones.
                busy_kills += busy and counts(db)["done"] > before["done"]
            left = [pid for sid in sessions for pid in wait_until_gone(sid)]
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            assert not left, f"processes outlived the SIGKILLed service: {left}"
            # Every kill must hit a cycle at work (pages in flight), not an idle or starting service.
            assert busy_kills == KILLS, busy_kills
            release_interrupted_send(db)

            service = start(config)
            try:
                wait_for_lock(tmp_path / "newswatch.db.lock", service.pid)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    c = counts(db)
                    if c["done"] == len(served) + 1 and c["pending"] == 0 and email_sent(db):
                        break
                    time.sleep(0.3)
            finally:
                service.send_signal(signal.SIGTERM)
                _, err = service.communicate(timeout=COMMAND_DEADLINE)
            assert service.returncode == 0, err[-3000:]
        finally:
            watcher.close()
            smtp.stop()

    final = counts(db)
    with Store(db) as store:
        rows = list(store.db.query("SELECT e.url, e.state, a.entry_id AS article, "
                                   "(SELECT count(*) FROM tags t WHERE t.entry_id = e.id) AS tags "
                                   "FROM entries e LEFT JOIN articles a ON a.entry_id = e.id"))
        email = [d for d in store.digest_records() if d["channel"] == "email"]
    stored = {r["url"]: r for r in rows if r["url"] != seed}
    assert len(rows) == len(stored) + 1 == len(served) + 1, "an item was stored twice or an extra row appeared"
    assert set(stored) == set(served), "an item the server serves was lost"
    assert final["pending"] == 0 and final["failed"] == 0 and final["done"] == len(served) + 1
    assert all(r["article"] is not None for r in stored.values())
    assert [u for u, on in served.items() if on and not stored[u]["tags"]] == []
    assert [u for u, on in served.items() if not on and stored[u]["tags"]] == []
    assert sum(served.values()) >= 20

    assert len(email) == 1 and email[0]["status"] == "sent", email
    ids = [m["Message-ID"] for _, m in inbox.messages]
    assert ids and set(ids) == {email[0]["message_id"]}, ids
    # Exactly once, unless a kill fell between the server's accept and our record: then one marked resend.
    assert len(ids) == 1 or (len(ids) == 2 and email[0]["attempts"] >= 2), (ids, email)
