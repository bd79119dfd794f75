"""The service: what runs the stages on a schedule and reports how it is doing.

In: a loaded `Context` (config, sources, topics, store). Out: a running service, its status,
health verdict and metrics. `runner` drives everything on monotonic ticks; `cycle` is one pass of
`poll` (due feeds -> pending entries) and `process` (pending entries -> stored articles and tags),
with `workers` running extraction and tagging in a process pool; `schedule` decides when each feed
and entry is tried next; `lock` keeps one service per database; `guard` checks before every job
that the store is still the one the service started with, and writable; `status`, `health` and
`metrics` report.

Each feed, entry and digest is a unit of work: whatever one raises is recorded against it (kind
"internal", the stage, the exception) and retried with backoff, and the cycle goes on with the
others. Only the database itself failing fails a cycle, and health reports failed cycles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_names

# Each name is imported from its module on first use: a command needs one or two of them, not the
# HTTP client, extractor and scheduler the others bring (start-up time, issue 23).
_MODULE_OF = {
    "run_cycle": "cycle",
    "check_health": "health",
    "AlreadyRunning": "lock",
    "poll_feeds": "poll",
    "Service": "runner",
    "collect_status": "status",
    "format_status": "status",
    "analyse": "workers",
    "make_pool": "workers",
}

if TYPE_CHECKING:
    from .cycle import run_cycle
    from .health import check_health
    from .lock import AlreadyRunning
    from .poll import poll_feeds
    from .runner import Service
    from .status import collect_status, format_status
    from .workers import analyse, make_pool


__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)


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
