"""The HTTP client: the only way newswatch talks to the web (its sockets are opened in `transport`).

Every call returns a FetchResult, never raises for network trouble, so one bad site cannot stop a
cycle. Limits that protect us and the sites we poll live here: a global and a per-host connection
limit, a minimum delay between requests to one host (raised by robots.txt Crawl-delay and by a
Retry-After), a body-size cap enforced while streaming, a redirect limit and a total time limit.
Every URL, the first and each redirect's, goes through `parse_url`, so a bad one is a `bad_url`
result; every connection goes through `transport.GuardedBackend`, which refuses private addresses
unless the configuration allows them.

The HTTP/1.1 work is aiohttp's (its C parser costs a third of what httpx + httpcore + h11 cost
per request, and a poll is mostly requests: issue 23). We use its session for the connection pool,
the protocol and cookies, and none of its conveniences: redirects, decompression and timeouts
over the whole request are ours. We decode Content-Encoding ourselves because a client that
inflates a whole network read at once turns a few kilobytes of gzip or brotli into gigabytes
before anyone counts them; our decoder asks zlib/brotli for at most the bytes the cap still allows.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
import zlib
from dataclasses import dataclass, field

import aiohttp
import brotli
import certifi
import httpx
import yarl

from pipeline.config import NetworkSection
from pipeline.models import FetchResult

from .robots import RobotsCache
from .transport import BlockedAddress, ConnectFailed, ConnectTimedOut, GuardedBackend, GuardedConnector
from .urls import BadUrl, Url, parse_url, request_url

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
ROBOTS_ACCEPT = "text/plain, */*;q=0.5"
MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 500 * 1024  # what Google reads of a robots.txt; the rest is ignored, not an error
MAX_CRAWL_DELAY = 30.0  # a Crawl-delay above this would stall a cycle; we keep to this instead
WAIT_FOR_RETRY_AFTER = 10.0  # a longer Retry-After defers the host's requests instead of waiting
MAX_RETRY_AFTER = 86_400.0
KEEPALIVE_SECONDS = 30.0
# aiohttp's default limit on a header line is 8 KiB; sites send longer Set-Cookie and CSP headers.
MAX_HEADER_BYTES = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)

# The process-wide robots cache: clients come and go with each cycle, robots.txt is kept for a day.
shared_robots = RobotsCache()


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_at: float = 0.0  # monotonic time before which we do not send the next request
    paused_until: float = 0.0  # set by a long Retry-After: requests fail fast until then
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class BodyTooLarge(Exception):
    pass


class BadEncoding(Exception):
    """A body whose Content-Encoding we cannot undo."""


class ReadTimedOut(Exception):
    """The server sent nothing for longer than the read timeout."""


def user_agent(settings: NetworkSection) -> str:
    """The configured User-Agent with the operator's contact inside its comment, where site owners look."""
    agent = settings.user_agent.strip()
    contact = settings.contact.strip()
    if not contact:
        return agent
    if agent.endswith(")"):
        return f"{agent[:-1]}; {contact})"
    return f"{agent} ({contact})"


class _BoundedDecoder:
    """Content-Encoding decoding that never produces more than `limit` bytes in total."""

    def __init__(self, content_encoding: str, limit: int):
        self.limit = limit
        self.size = 0
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate", "br"):
                raise BadEncoding(f"unsupported content encoding {coding!r}")
        # Encodings are listed in the order they were applied, so they are undone in reverse.
        self._stages: list[_Stage] = [_Stage(c) for c in reversed(codings)]

    def feed(self, data: bytes) -> bytes:
        for stage in self._stages:
            data = stage.decode(data, self.limit - self.size + 1)
        self.size += len(data)
        if self.size > self.limit:
            raise BodyTooLarge
        return data


class _Stage:
    def __init__(self, coding: str):
        self.coding = coding
        self._brotli = brotli.Decompressor() if coding == "br" else None
        wbits = zlib.MAX_WBITS | 16 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = None if self._brotli else zlib.decompressobj(wbits)
        self._first = True

    def decode(self, data: bytes, room: int) -> bytes:
        """At most `room` bytes of output: one more than the cap allows is enough to know it is exceeded."""
        try:
            if self._brotli is not None:
                out = self._brotli.process(data, output_buffer_limit=room)
                return out[:room]
            assert self._zlib is not None
            try:
                return self._zlib.decompress(data, room)
            except zlib.error:
                if self.coding != "deflate" or not self._first:
                    raise
                # Some servers send raw deflate without the zlib header the standard asks for.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._zlib.decompress(data, room)
            finally:
                self._first = False
        except (zlib.error, brotli.error) as exc:
            raise BadEncoding(f"{self.coding}: {exc}") from None


class HttpClient:
    """Use as ``async with HttpClient(settings) as client: await client.get(url)``.

    `network` replaces the backend that resolves, checks and connects (tests give it their own resolver).
    """

    def __init__(self, settings: NetworkSection, *, robots: RobotsCache | None = None,
                 network: GuardedBackend | None = None):
        self.settings = settings
        self.user_agent = user_agent(settings)
        self._headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate, br"}
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.connect_timeout,
                                              sock_read=settings.read_timeout)
        self._network = network or GuardedBackend(settings.allow_private_addresses)
        self._tls = _tls_context()
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(settings.max_connections)
        self._hosts: dict[str, _Host] = {}
        self.robots = shared_robots if robots is None else robots
        self.bytes_received = 0  # on the wire, headers included (estimated) - for the benchmark and status
        self.requests = 0

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        """The session, made on first use: it must be made inside the running event loop."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=GuardedConnector(self._network, tls=self._tls, keepalive_timeout=KEEPALIVE_SECONDS),
                cookie_jar=aiohttp.CookieJar(unsafe=True),  # a site's cookies, IP-literal hosts included
                auto_decompress=False, timeout=self._timeout, trust_env=False,
                max_line_size=MAX_HEADER_BYTES, max_field_size=MAX_HEADER_BYTES,
            )
        return self._session

    def _host(self, host: str) -> _Host:
        if host not in self._hosts:
            self._hosts[host] = _Host(asyncio.Semaphore(self.settings.per_host_connections))
        return self._hosts[host]

    async def get(
        self,
        url: str,
        *,
        accept: str = PAGE_ACCEPT,
        etag: str | None = None,
        last_modified: str | None = None,
        min_delay: float | None = None,
        respect_robots: bool = False,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET `url`, following up to MAX_REDIRECTS redirects, each hop checked like the first.

        `respect_robots` is for article pages: robots.txt of every hop's origin is obeyed (feeds the
        user listed are fetched as configured). `min_delay` overrides the configured per-host delay
        (a source's `min_delay`). `settings.timeout` bounds the time spent on the network; waiting
        for our own politeness limits does not count against it.
        """
        started = time.monotonic()
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        delay = self.settings.min_host_delay if min_delay is None else min_delay
        budget = [self.settings.timeout]  # network seconds left, shared by all hops
        current, permanent = request_url(url), False
        if isinstance(current, BadUrl):
            return _failure(url, current.text, "bad_url", current.reason, started)
        for _hop in range(MAX_REDIRECTS + 1):
            hop_delay = delay
            if respect_robots:
                rules = await self.robots.rules(current, self._fetch_robots)
                if not rules.allowed(current.text, self.user_agent):
                    return _failure(url, current.text, "robots", "disallowed by robots.txt", started)
                hop_delay = max(delay, min(rules.crawl_delay(self.user_agent) or 0.0, MAX_CRAWL_DELAY))
            result = await self._hop(url, current, headers, hop_delay, budget, started,
                                     max_bytes or self.settings.max_body_bytes)
            if result.status in _REDIRECTS and "location" in result.headers and not result.error:
                permanent = permanent or result.status in (301, 308)
                target = parse_url(result.headers["location"], base=current.text)
                if isinstance(target, BadUrl):
                    return _failure(url, current.text, "bad_url",
                                    f"HTTP {result.status} redirects to {target.text}: {target.reason}", started)
                current = target
                continue
            return FetchResult(
                url=url, final_url=current.text, status=result.status, body=result.body, headers=result.headers,
                error=result.error, error_kind=result.error_kind, permanent_redirect=permanent,
                elapsed=time.monotonic() - started,
            )
        return _failure(url, current.text, "redirects", f"more than {MAX_REDIRECTS} redirects", started)

    async def _hop(self, url: str, target: Url, headers: dict[str, str], delay: float, budget: list[float],
                   started: float, cap: int) -> FetchResult:
        current = target.text
        host = self._host(target.host)
        paused = host.paused_until - time.monotonic()
        if paused > 0:
            return _failure(url, current, "deferred", f"{target.host} asked us to wait {paused:.0f} s (Retry-After)",
                            started, headers={"retry-after": str(int(paused) + 1)})
        try:
            async with host.slots:
                async with host.lock:
                    wait = host.next_at - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    await self._slots.acquire()
                    host.next_at = time.monotonic() + delay  # spacing counts from when a request really starts
                sent = time.monotonic()
                try:
                    async with asyncio.timeout(max(0.0, budget[0])):
                        result = await self._request(url, target, headers, started, cap)
                finally:
                    self._slots.release()
                    budget[0] -= time.monotonic() - sent
        except TimeoutError:
            return _failure(url, current, "timeout",
                            f"no complete response within {self.settings.timeout:g} s", started)
        except BlockedAddress as exc:
            return _failure(url, current, "blocked", str(exc), started)
        except ConnectTimedOut:
            return _failure(url, current, "timeout", "timed out: connecting", started)
        except ReadTimedOut:
            return _failure(url, current, "timeout", "timed out: the server stopped answering", started)
        except (ConnectFailed, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            return _failure(url, current, "connect", _describe(exc), started)
        except BadEncoding as exc:
            return _failure(url, current, "decoding", f"bad content encoding: {exc}", started)
        except aiohttp.ClientError as exc:  # a response aiohttp could not parse, among others
            return _failure(url, current, "http", _describe(exc), started)
        self._note_retry_after(host, result)
        return result

    def _note_retry_after(self, host: _Host, result: FetchResult) -> None:
        """A 429/503 with Retry-After slows every request to that host, not just the one that got it."""
        if result.status not in (429, 503):
            return
        value = (result.headers.get("retry-after") or "").strip()
        seconds = retry_after_seconds(value)
        if seconds is None:
            return
        seconds = min(seconds, MAX_RETRY_AFTER)
        now = time.monotonic()
        if seconds <= WAIT_FOR_RETRY_AFTER:
            host.next_at = max(host.next_at, now + seconds)
        else:
            host.paused_until = max(host.paused_until, now + seconds)

    async def _request(self, url: str, target: Url, headers: dict[str, str], started: float,
                       cap: int) -> FetchResult:
        current = target.text
        self.requests += 1
        # The URL exactly as parse_url's httpx parse encoded it: what we checked is what we send.
        wire = yarl.URL(str(target.wire or httpx.URL(current)), encoded=True)
        try:
            response = await self._http().get(wire, headers={**self._headers, **headers}, allow_redirects=False)
        except aiohttp.ServerTimeoutError:
            raise ReadTimedOut from None
        try:
            response_headers: dict[str, str] = {}
            for name, value in response.headers.items():
                key = name.lower()
                response_headers[key] = f"{response_headers[key]}, {value}" if key in response_headers else value
            self.bytes_received += 17 + sum(len(k) + len(v) + 4 for k, v in response.raw_headers)
            status = response.status
            received = 0
            try:
                if status in _REDIRECTS or status == 304:
                    await _drain(response)
                    return FetchResult(url, current, status, headers=response_headers)
                declared = response_headers.get("content-length", "")
                encoding = response_headers.get("content-encoding", "")
                if declared.isdigit() and int(declared) > cap and not encoding:
                    raise BodyTooLarge
                decoder = _BoundedDecoder(encoding, cap)
                chunks = []
                async for raw in response.content.iter_any():
                    received += len(raw)
                    chunks.append(decoder.feed(raw))
                chunks.append(decoder.feed(b""))  # brotli may hold output back until asked again
            except BodyTooLarge:
                response.close()  # the rest of the body is not worth reading: drop the connection
                return _failure(url, current, "too_large", f"body larger than {cap:,} bytes", started,
                                status=status, headers=response_headers)
            except aiohttp.ServerTimeoutError:
                raise ReadTimedOut from None
            finally:
                self.bytes_received += received
            body = b"".join(chunks)
            if status >= 400:
                return FetchResult(url, current, status, body=body, headers=response_headers,
                                   error=f"HTTP {status} {response.reason or ''}".strip(),
                                   error_kind="gone" if status == 410 else "http")
            return FetchResult(url, current, status, body=body, headers=response_headers)
        finally:
            response.release()

    async def _fetch_robots(self, robots_url: str) -> FetchResult:
        return await self.get(robots_url, accept=ROBOTS_ACCEPT, max_bytes=ROBOTS_MAX_BYTES)


async def _drain(response: aiohttp.ClientResponse, limit: int = 64 * 1024) -> None:
    """Read a body we do not want, so the connection can go back to the pool (if it is short)."""
    read = 0
    async for raw in response.content.iter_any():
        read += len(raw)
        if read > limit:
            response.close()  # not worth it: closing the connection is cheaper
            return


def _describe(exc: BaseException) -> str:
    """One line for an aiohttp or connect error: its class, and its message when it has one."""
    message = str(exc) if isinstance(exc, ConnectFailed) else f"{type(exc).__name__}: {exc}".rstrip(": ")
    return " ".join(message.split())


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~50 ms, and a cycle opens a client."""
    return ssl.create_default_context(cafile=certifi.where())


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After value (delta-seconds or an HTTP date); None when unreadable."""
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _failure(url: str, current: str, kind: str, message: str, started: float, status: int = 0,
             headers: dict[str, str] | None = None) -> FetchResult:
    return FetchResult(url=url, final_url=current, status=status, headers=headers or {}, error=message,
                       error_kind=kind, elapsed=time.monotonic() - started)


def fetch_once(url: str, settings: NetworkSection, accept: str = PAGE_ACCEPT,
               respect_robots: bool = False) -> FetchResult:
    """One request from synchronous code (the CLI's `extract URL`, `sources add URL`)."""

    async def run() -> FetchResult:
        async with HttpClient(settings) as client:
            return await client.get(url, accept=accept, min_delay=0, respect_robots=respect_robots)

    return asyncio.run(run())

