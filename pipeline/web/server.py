"""How `newswatch serve` holds its connections: uvicorn, with time limits on what a client owes us.

uvicorn closes a connection idle between requests after `timeout_keep_alive`, but waits for ever
for the headers of a request: a thousand connections that open and say nothing (or a byte a
second) hold every file descriptor it has. `GuardedH11Protocol` gives each request
HEADER_TIMEOUT seconds from its first byte (or from the connection's opening) to finish its
headers, however slowly they trickle in, and closes the connection otherwise.
"""

from __future__ import annotations

import contextlib
import resource
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0  # seconds for a request line and headers; a proxy sends them at once
KEEP_ALIVE_TIMEOUT = 5.0  # seconds an idle connection is kept between requests
MAX_CONNECTIONS = 400  # beyond this uvicorn answers 503 rather than queue without bound


class GuardedH11Protocol(H11Protocol):
    _header_timer: Any = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        # The client owes us headers while h11 has not seen a whole request; the keep-alive timer
        # covers a connection that has finished one and sent nothing since.
        waiting = self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE
        if waiting and self.timeout_keep_alive_task is None and self._header_timer is None:
            self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._headers_late)
        elif not waiting:
            self._stop_header_timer()

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def server_options() -> dict[str, Any]:
    """uvicorn.run's keyword arguments beside the app, host, port and protocol."""
    # Every descriptor the hard limit allows: with the default soft limit (1,024) a burst of
    # connections fails accept() in a loop that floods the log.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
    # uvicorn's own warnings (each malformed request, each refused connection) would let any client
    # write our log; errors still show.
    return {"timeout_keep_alive": KEEP_ALIVE_TIMEOUT, "limit_concurrency": MAX_CONNECTIONS, "log_level": "error",
            "access_log": False, "server_header": False, "h11_max_incomplete_event_size": 16 * 1024}
