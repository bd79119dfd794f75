"""The service: what runs the stages on a schedule and reports how it is doing.

In: a loaded `Context` (config, sources, topics, store). Out: a running service, its status,
health verdict and metrics. `runner` drives everything on APScheduler; `cycle` is one pass of
`poll` (due feeds -> pending entries) and `process` (pending entries -> stored articles and tags),
with `workers` running extraction and tagging in a process pool; `schedule` decides when each feed
and entry is tried next; `lock` keeps one service per database; `guard` checks before every job
that the store is still the one the service started with, and writable; `status`, `health` and
`metrics` report.

Each feed, entry and digest is a unit of work: whatever one raises is recorded against it (kind
"internal", the stage, the exception) and retried with backoff, and the cycle goes on with the
others. Only the database itself failing fails a cycle, and health reports failed cycles.
"""

from .cycle import run_cycle
from .health import check_health
from .lock import AlreadyRunning
from .poll import poll_feeds
from .runner import Service
from .status import collect_status, format_status
from .workers import analyse, make_pool

__all__ = [
    "AlreadyRunning",
    "Service",
    "analyse",
    "check_health",
    "collect_status",
    "format_status",
    "make_pool",
    "poll_feeds",
    "run_cycle",
]
