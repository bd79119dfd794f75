"""An optional Prometheus text endpoint (`newswatch run --metrics-port N`), computed per scrape."""

from __future__ import annotations

import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.config import Config
from pipeline.store import open_store, utcnow

from .health import CHECKS, Problem, check_health
from .status import collect_status


def _timestamp(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


def _label(value: str) -> str:
    """A Prometheus label value: backslash, double quote and line feed escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(status: dict, problems: list[Problem]) -> str:
    failing = {p.check for p in problems}
    lines = [
        "# HELP newswatch_healthy 1 when `newswatch health` would say healthy, else 0.",
        "# TYPE newswatch_healthy gauge",
        f"newswatch_healthy {0 if problems else 1}",
        "# HELP newswatch_health_check_failing Each health check: 1 when it finds a problem.",
        "# TYPE newswatch_health_check_failing gauge",
        *(f'newswatch_health_check_failing{{check="{c}"}} {int(c in failing)}' for c in CHECKS),
        "# HELP newswatch_health_problem One sample per problem `newswatch health` reports, with its reason.",
        "# TYPE newswatch_health_problem gauge",
        *(f'newswatch_health_problem{{check="{p.check}",reason="{_label(p.reason)}"}} 1' for p in problems),
        "# HELP newswatch_cycles_failed_in_a_row Service cycles that failed since the last one that did not.",
        "# TYPE newswatch_cycles_failed_in_a_row gauge",
        f"newswatch_cycles_failed_in_a_row {status['cycles']['failed_in_a_row']}",
        "# HELP newswatch_queue_due Entries due for processing now.", "# TYPE newswatch_queue_due gauge",
        f"newswatch_queue_due {status['queue']['due']}",
        "# HELP newswatch_last_entry_attempt_timestamp_seconds Last time an entry was processed or tried.",
        "# TYPE newswatch_last_entry_attempt_timestamp_seconds gauge",
        f"newswatch_last_entry_attempt_timestamp_seconds {_timestamp(status['queue']['last_attempt_at']):.0f}",
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


def render_store_gone(reason: str) -> str:
    """The health part of the metrics when the store cannot even be opened: red, with the reason."""
    problem = Problem("store", reason)
    return "\n".join([
        "# HELP newswatch_healthy 1 when `newswatch health` would say healthy, else 0.",
        "# TYPE newswatch_healthy gauge", "newswatch_healthy 0",
        "# HELP newswatch_health_check_failing Each health check: 1 when it finds a problem.",
        "# TYPE newswatch_health_check_failing gauge",
        *(f'newswatch_health_check_failing{{check="{c}"}} {int(c == "store")}' for c in CHECKS),
        "# HELP newswatch_health_problem One sample per problem `newswatch health` reports, with its reason.",
        "# TYPE newswatch_health_problem gauge",
        f'newswatch_health_problem{{check="store",reason="{_label(problem.reason)}"}} 1',
    ]) + "\n"


def serve_metrics(config: Config, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            try:
                store = open_store(config, create=False)  # never an empty one where the database was
            except Exception as exc:
                body = render_store_gone(f"the store cannot be opened: {type(exc).__name__}: {exc}").encode()
            else:
                with store:
                    body = render_metrics(collect_status(store), check_health(store, config, utcnow())).encode()
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
