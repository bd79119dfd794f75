"""The reading room's rolling Atom feed at N items a day: build time, requests and memory.

    .venv/bin/python bench/atom_feed.py [--per-day 10000] [--days 7] [--keep DIR] [--json]

Fills a fresh SQLite store as bench/web.py does (its texts and tagger; one article in eight on the
topic) with the last D days at N articles a day, serves `newswatch serve`'s application under
uvicorn on 127.0.0.1 in this process, and measures:

- cold: three concurrent requests for `/topics/<topic>/feed.xml` on a fresh server (each one's
  time, and how many feed builds ran: one, the others wait for it);
- warm: three more concurrent requests with nothing changed (served from memory, no build);
- changed: one item added, one request (one build);
- for comparison, three concurrent builds of the same feed, which is what the time-cached page
  did when three requests arrived while none was cached.

Memory is the process's resident set sampled every 20 ms: its peak during each phase above the
level before it. The machine is shared: run it twice and report the quieter run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from web import Server, fill, write_config  # noqa: E402

from pipeline.context import load_context  # noqa: E402
from pipeline.digest.deliver import ROLLING_FEED_DAYS  # noqa: E402
from pipeline.digest.render import render  # noqa: E402
from pipeline.models import Article, FeedItem  # noqa: E402
from pipeline.web import app as web_app  # noqa: E402

TOPIC = "us-china-milcomm"
NEW_TEXT = ("The United States and China agreed to keep a standing military hotline open between their "
            "defense ministries, officials said after the call on Thursday.")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Peak:
    """The resident set's peak above its level at the start, sampled on a thread."""

    def __enter__(self) -> Peak:
        self.start = self.peak = rss_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    @property
    def grew_mb(self) -> float:
        return round(self.peak - self.start, 1)


def concurrently(n: int, call) -> list[float]:
    def timed(_: int) -> float:
        started = time.perf_counter()
        call()
        return round(time.perf_counter() - started, 2)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(timed, range(n)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=ROLLING_FEED_DAYS)
    parser.add_argument("--keep", type=Path, help="build the store in DIR (reused when it already holds one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    builds = [0]
    real_build = web_app.build_digest

    def counted(*a, **k):
        if k.get("days") == ROLLING_FEED_DAYS:
            builds[0] += 1
        return real_build(*a, **k)

    web_app.build_digest = counted
    with tempfile.TemporaryDirectory(prefix="newswatch-atom-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        ctx = load_context(write_config(folder))
        with ctx.open_store() as store:
            filled = store.counts()["entries"]
        fill_seconds = fill(ctx, args.per_day * args.days, args.days)[0] if not filled else 0.0
        with ctx.open_store() as store:
            first = datetime.now(ctx.config.tz).date() - timedelta(days=ROLLING_FEED_DAYS - 1)
            in_feed = len(store.tagged_items(TOPIC, *web_app.window(first, ROLLING_FEED_DAYS, ctx.config.tz)))

        port = _free_port()
        server = Server(uvicorn.Config(web_app.create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/topics/{TOPIC}/feed.xml"

        def get() -> None:
            response = httpx.get(url, timeout=600)
            assert response.status_code == 200, response.status_code

        result: dict = {"articles_per_day": args.per_day, "days": args.days, "items_in_feed": in_feed,
                        "fill_seconds": round(fill_seconds, 1)}
        with Peak() as peak:
            result["cold_3_concurrent_s"] = concurrently(3, get)
        result.update(cold_builds=builds[0], cold_rss_growth_mb=peak.grew_mb)
        builds[0] = 0
        with Peak() as peak:
            result["warm_3_concurrent_s"] = concurrently(3, get)
        result.update(warm_builds=builds[0], warm_rss_growth_mb=peak.grew_mb)
        with ctx.open_store() as store:
            tags = ctx.tagger.tag("Standing hotline", NEW_TEXT, "en")
            feed = store.feeds()[0]
            link = "https://outlet0.example/news/new.html"
            item = FeedItem(url=link, canonical_url=link, guid=None, title="Standing hotline", summary="",
                            published=None)
            store.bulk_insert_items([(item, Article(title="Standing hotline", text=NEW_TEXT, language="en"), tags,
                                      datetime.now(UTC))], feed["id"], feed["source"])
        builds[0] = 0
        result["changed_1_request_s"] = concurrently(1, get)
        result["changed_builds"] = builds[0]
        server.should_exit = True

        def build_once() -> None:
            with ctx.open_store() as store:
                render(real_build(store, ctx.config, TOPIC, first, days=ROLLING_FEED_DAYS), "atom")

        with Peak() as peak:
            result["per_request_builds_3_concurrent_s"] = concurrently(3, build_once)
        result["per_request_builds_rss_growth_mb"] = peak.grew_mb

    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>36}: {value}")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(main())
