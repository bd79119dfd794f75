"""What alerts cost the processing cycle: queueing with nothing new, queueing a day of news, sending.

    .venv/bin/python bench/alerts.py [--per-day 5000] [--days 2] [--json]

Fills a fresh SQLite store as bench/web.py does (its texts and tagger; one article in eight on the
topic) with the last D days at N articles a day, configures one json:// channel (Apprise) pointing
at a webhook receiver on 127.0.0.1 in this process, known since before the first article, and
measures:

- first: `queue_alerts` when every topical item of the last day is owed an alert (clustering the
  two days' topical items once, composing each alert);
- steady: `queue_alerts` again with nothing new: what every processing cycle pays (median of 20);
- one new: one more topical item, then `queue_alerts` (clusters again, one alert or same-story);
- send: `send_due` of --sends pending alerts to the receiver (claim, Apprise POST, record), Apprise
  already imported: per alert.

The fill's topical articles share most of their text, so the clustering makes few stories of them:
"alerts_queued" is small by design, and the send is measured on alerts written directly.

The machine is shared: run it twice and report the quieter run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from web import TOPICAL, fill, write_config  # noqa: E402

from pipeline.alerts import queue_alerts, send_due  # noqa: E402
from pipeline.context import load_context  # noqa: E402
from pipeline.models import Article, FeedItem  # noqa: E402


class Receiver(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="newswatch-alerts-bench-") as scratch:
        folder = Path(scratch)
        config_path = write_config(folder)
        config_path.write_text(config_path.read_text(encoding="utf-8")
                               + '\n[alerts]\nmax_per_hour = 10000\n\n[[channels]]\nname = "bench"\n'
                               'url_env = "NEWSWATCH_BENCH_URL"\nreceives = ["alerts"]\n'
                               'alert_level = "mention"\n', encoding="utf-8")  # the fill tags mentions
        os.environ["NEWSWATCH_BENCH_URL"] = f"json://127.0.0.1:{server.server_address[1]}/hook"
        ctx = load_context(config_path)
        now = datetime.now(UTC)
        with ctx.open_store() as store:  # the channel was there before any of the news
            store.add_delivery("bench", "channel", "", status="registered", created_at=now - timedelta(days=30))
        fill(ctx, args.per_day * args.days, args.days)
        with ctx.open_store() as store:
            started = time.perf_counter()
            queued = queue_alerts(store, ctx.config, now)
            first = time.perf_counter() - started
            steady = []
            for _ in range(20):
                started = time.perf_counter()
                assert queue_alerts(store, ctx.config, now) == 0
                steady.append(time.perf_counter() - started)
            feed = store.feeds()[0]
            url = "https://outlet0.example/news/new.html"
            item = FeedItem(url=url, canonical_url=url, guid=url, title="A new one", summary="", published=now)
            text = TOPICAL[0] + "\n\nA paragraph of our own, written for this benchmark, about nothing else."
            store.bulk_insert_items([(item, Article(title="A new one", text=text, language="en", published=now),
                                      ctx.tagger.tag("", text, "en"), now)], feed["id"], feed["source"])
            started = time.perf_counter()
            queue_alerts(store, ctx.config, now + timedelta(seconds=1))
            one_new = time.perf_counter() - started
            for n in range(args.sends):
                store.add_delivery("bench", "alert", f"bench/{n}", status="pending", title=f"Alert {n}",
                                   body="wire · 2026-03-10 12:00 UTC\n\n“A sentence.”", created_at=now)
            pending = len(store.deliveries("bench", kind="alert", statuses=("pending",), limit=1_000_000))
            import apprise  # noqa: F401  (its import, 0.3 s, is paid once per process, not per alert)

            started = time.perf_counter()
            sent = 0
            while True:
                batch = [o for o in send_due(store, ctx.config, now + timedelta(seconds=2)) if o.status == "sent"]
                if not batch:
                    break
                sent += len(batch)
            send_seconds = time.perf_counter() - started
    result = {
        "articles": args.per_day * args.days, "days": args.days, "alerts_queued": queued,
        "first_queue_s": round(first, 3), "steady_queue_ms_median": round(statistics.median(steady) * 1000, 1),
        "one_new_queue_s": round(one_new, 3), "pending_before_send": pending, "sent": sent,
        "received": Receiver.received, "send_ms_per_alert": round(send_seconds / max(sent, 1) * 1000, 2),
    }
    server.shutdown()
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
