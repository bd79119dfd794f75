"""An optional Prometheus text endpoint (`newswatch run --metrics-port N`), computed per scrape."""

from __future__ import annotations

import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.config import Config
from pipeline.store import open_store

from .status import collect_status


def _timestamp(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


def render_metrics(status: dict) -> str:
    lines = [
        "# HELP newswatch_feeds Feeds by health.", "# TYPE newswatch_feeds gauge",
        *(f'newswatch_feeds{{health="{h}"}} {n}' for h, n in sorted(status["feeds_by_health"].items())),
        "# HELP newswatch_entries Stored entries by state.", "# TYPE newswatch_entries gauge",
        *(f'newswatch_entries{{state="{k}"}} {status["entries"][k]}' for k in ("pending", "done", "failed")),
        "# HELP newswatch_tagged_entries Entries with at least one topic tag.", "# TYPE newswatch_tagged_entries gauge",
        f"newswatch_tagged_entries {status['entries']['tagged']}",
        "# HELP newswatch_queue_depth Entries waiting to be fetched and processed.",
        "# TYPE newswatch_queue_depth gauge",
        f"newswatch_queue_depth {status['queue_depth']}",
        "# HELP newswatch_last_success_poll_timestamp_seconds Last successful feed poll.",
        "# TYPE newswatch_last_success_poll_timestamp_seconds gauge",
        f"newswatch_last_success_poll_timestamp_seconds {_timestamp(status['last_successful_poll']):.0f}",
        "# HELP newswatch_errors_24h Errors of the last 24 hours by kind.", "# TYPE newswatch_errors_24h gauge",
        *(f'newswatch_errors_24h{{kind="{k}"}} {n}' for k, n in sorted(status["errors_last_24h"].items())),
    ]
    return "\n".join(lines) + "\n"


def serve_metrics(config: Config, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            with open_store(config) as store:
                body = render_metrics(collect_status(store)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
