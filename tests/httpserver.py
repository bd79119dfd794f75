"""A scripted HTTP/1.1 server on 127.0.0.1 for tests that need a real network peer.

    with LocalServer() as server:
        server.route("/feed", Response(body=rss, headers={"Content-Type": "application/rss+xml"}))
        server.route("/moved", redirect("/feed", 301))
        server.route("/flaky", [Response(status=503), Response(body=b"ok")])  # one per request, last repeats
        server.route("/dyn", lambda request: Response(body=request.path.encode()))
        url = server.url("/feed")
        ...
        server.requests  # every Request seen, in order

A Response can wait before answering (`delay`: a stalled server), trickle its body (`drip`), omit
its Content-Length (`chunked`), or declare a length it never sends. Helpers build the usual cases:
redirect(), conditional() for ETag/Last-Modified validators, gzip_bomb(). Threads serve requests,
so a stalled handler never blocks the others; connections are kept alive between requests.
"""

from __future__ import annotations

import functools
import gzip
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names
    peer: tuple[str, int] = ("", 0)  # the client's address: one per TCP connection
    body: bytes = b""  # what a POST or PUT carried (webhook receivers)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line: a server that stalls
    drip: float = 0.0  # seconds between body pieces: a body that trickles in
    drip_size: int = 1  # bytes per piece when dripping
    chunked: bool = False  # Transfer-Encoding: chunked instead of Content-Length
    content_length: int | None = None  # declare a different length than the body has (a lie)

    @property
    def data(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Handler = Callable[[Request], Response]
Route = Response | Sequence[Response] | Handler


def redirect(location: str, status: int = 301) -> Response:
    return Response(status=status, headers={"Location": location})


def conditional(body: bytes | str, etag: str | None = '"v1"', last_modified: str | None = None,
                content_type: str = "application/rss+xml") -> Handler:
    """A resource that answers 304 when the request's validators match (RFC 9110 precedence)."""

    def handle(request: Request) -> Response:
        headers = {"Content-Type": content_type}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        if_none_match = request.header("if-none-match")
        if (if_none_match is not None and etag and if_none_match == etag) or (
            if_none_match is None and last_modified and request.header("if-modified-since") == last_modified
        ):
            return Response(status=304, headers=headers)
        return Response(body=body, headers=headers)

    return handle


@functools.cache
def _compressed_zeros(size: int, encoding: str) -> bytes:
    zeros = b"\0" * size
    return brotli.compress(zeros, quality=5) if encoding == "br" else gzip.compress(zeros, compresslevel=9)


def gzip_bomb(decoded_size: int = 50_000_000, encoding: str = "gzip") -> Response:
    """A small body that inflates to `decoded_size` bytes (gzip: ~1000x, br: far more)."""
    return Response(body=_compressed_zeros(decoded_size, encoding),
                    headers={"Content-Encoding": encoding, "Content-Type": "application/rss+xml"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled handler must not hold up the test's teardown

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client gave up on a slow response: that is what the test wanted
        super().handle_error(request, client_address)


class LocalServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._routes: dict[str, Route] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._httpd = _Server((host, port), self._handler_class())
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def route(self, path: str, route: Route) -> None:
        """What `path` (query string excluded unless the route's path has one) answers."""
        with self._lock:
            self._routes[path] = route
            self._served[path] = 0

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path or r.path.split("?")[0] == path)

    def _respond(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            path = request.path if request.path in self._routes else request.path.split("?")[0]
            route = self._routes.get(path)
            count = self._served.get(path, 0)
            self._served[path] = count + 1
        if route is None:
            return Response(status=404, body=b"not found")
        if isinstance(route, Response):
            return route
        if callable(route):
            return route(request)
        return route[min(count, len(route) - 1)]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0) if self.command in ("POST", "PUT") else 0
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.client_address[:2], self.rfile.read(length) if length else b"")
                response = server._respond(request)
                if response.delay:
                    time.sleep(response.delay)
                data = response.data if self.command != "HEAD" else b""
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    if response.chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                    elif response.status != 304:
                        length = len(data) if response.content_length is None else response.content_length
                        self.send_header("Content-Length", str(length))
                    self.end_headers()
                    self._body(data, response)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_HEAD = do_POST = do_PUT = do_GET

            def _body(self, data: bytes, response: Response) -> None:
                if response.status == 304:
                    return
                step = response.drip_size if response.drip else max(len(data), 1)
                for start in range(0, len(data), step):
                    piece = data[start:start + step]
                    if response.chunked:
                        piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
                    self.wfile.write(piece)
                    self.wfile.flush()
                    if response.drip:
                        time.sleep(response.drip)
                if response.chunked:
                    self.wfile.write(b"0\r\n\r\n")
                if response.content_length is not None and response.content_length != len(data):
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:  # tests stay quiet
                pass

        return Handler
