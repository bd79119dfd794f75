"""The HTTP client: the only module that does network I/O.

Every call returns a FetchResult, never raises for network trouble, so one bad site cannot stop a
cycle. Limits that protect us and the sites we poll live here: a global and a per-host connection
limit, a minimum delay between requests to one host, a body-size cap enforced while streaming (a
gzip bomb stops at the cap too, since we count decoded bytes), a redirect limit, and a check that
refuses private addresses for every hop unless the configuration allows them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from .config import NetworkSection
from .models import FetchResult

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_at: float = 0.0  # monotonic time before which we do not send the next request
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class BlockedAddress(Exception):
    pass


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified)


class HttpClient:
    """Use as ``async with HttpClient(settings) as client: await client.get(url)``."""

    def __init__(self, settings: NetworkSection):
        self.settings = settings
        agent = settings.user_agent + (f" ({settings.contact})" if settings.contact else "")
        self._client = httpx.AsyncClient(
            headers={"User-Agent": agent, "Accept-Encoding": "gzip, deflate, br"},
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=settings.max_connections,
            ),
            follow_redirects=False,  # we follow them ourselves to check every hop
            trust_env=False,
        )
        self._slots = asyncio.Semaphore(settings.max_connections)
        self._hosts: dict[str, _Host] = {}
        self.bytes_received = 0

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    def _host(self, host: str) -> _Host:
        if host not in self._hosts:
            self._hosts[host] = _Host(asyncio.Semaphore(self.settings.per_host_connections))
        return self._hosts[host]

    async def _check_address(self, host: str, port: int) -> None:
        if self.settings.allow_private_addresses:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
        for info in infos:
            if not _is_public(info[4][0]):
                raise BlockedAddress(f"{host} resolves to non-public address {info[4][0]}")

    async def _wait_turn(self, host: _Host, min_delay: float) -> None:
        async with host.lock:
            delay = host.next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            host.next_at = time.monotonic() + min_delay

    async def get(
        self,
        url: str,
        *,
        accept: str = PAGE_ACCEPT,
        etag: str | None = None,
        last_modified: str | None = None,
        min_delay: float | None = None,
        respect_robots: bool = False,
    ) -> FetchResult:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.timeout):
                return await self._get(url, accept, etag, last_modified, min_delay, started)
        except TimeoutError:
            return self._failure(url, url, "timeout", f"no complete response within {self.settings.timeout:g} s",
                                 started)

    async def _get(self, url: str, accept: str, etag: str | None, last_modified: str | None,
                   min_delay: float | None, started: float) -> FetchResult:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current, permanent = url, False
        delay = self.settings.min_host_delay if min_delay is None else min_delay
        for _hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return self._failure(url, current, "bad_url", f"not an http(s) URL: {current}", started)
            host = self._host(parts.hostname)
            try:
                await self._check_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
                async with self._slots, host.slots:
                    await self._wait_turn(host, delay)
                    result = await self._request(url, current, headers, started)
            except BlockedAddress as exc:
                return self._failure(url, current, "blocked", str(exc), started)
            except httpx.TimeoutException:
                return self._failure(url, current, "timeout", "the server stopped answering", started)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                return self._failure(url, current, "connect", f"{type(exc).__name__}: {exc}" or "connection failed",
                                     started)
            except httpx.DecodingError as exc:
                return self._failure(url, current, "decoding", f"bad content encoding: {exc}", started)
            except httpx.HTTPError as exc:
                return self._failure(url, current, "http", f"{type(exc).__name__}: {exc}", started)
            if result.status in _REDIRECTS and "location" in result.headers:
                permanent = permanent or result.status in (301, 308)
                current = urljoin(current, result.headers["location"])
                continue
            return FetchResult(
                url=url, final_url=current, status=result.status, body=result.body, headers=result.headers,
                error=result.error, error_kind=result.error_kind, permanent_redirect=permanent,
                elapsed=time.monotonic() - started,
            )
        return self._failure(url, current, "redirects", f"more than {MAX_REDIRECTS} redirects", started)

    async def _request(self, url: str, current: str, headers: dict[str, str], started: float) -> FetchResult:
        cap = self.settings.max_body_bytes
        async with self._client.stream("GET", current, headers=headers) as response:
            response_headers = {k.lower(): v for k, v in response.headers.items()}
            self.bytes_received += int(response_headers.get("content-length") or 0)
            if response.status_code in _REDIRECTS or response.status_code == 304:
                return FetchResult(url, current, response.status_code, headers=response_headers)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    return self._failure(url, current, "too_large", f"body larger than {cap:,} bytes", started,
                                         status=response.status_code)
                chunks.append(chunk)
            body = b"".join(chunks)
            if not response_headers.get("content-length"):
                self.bytes_received += response.num_bytes_downloaded
            if response.status_code >= 400:
                return FetchResult(url, current, response.status_code, body=body, headers=response_headers,
                                   error=f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                                   error_kind="gone" if response.status_code == 410 else "http")
            return FetchResult(url, current, response.status_code, body=body, headers=response_headers)

    @staticmethod
    def _failure(url: str, current: str, kind: str, message: str, started: float, status: int = 0) -> FetchResult:
        return FetchResult(url=url, final_url=current, status=status, error=message, error_kind=kind,
                           elapsed=time.monotonic() - started)

    async def get_many(self, urls: Iterable[str], **kwargs: object) -> list[FetchResult]:
        return list(await asyncio.gather(*(self.get(u, **kwargs) for u in urls)))


def fetch_once(url: str, settings: NetworkSection, accept: str = PAGE_ACCEPT) -> FetchResult:
    """One request from synchronous code (the CLI's `extract URL`)."""

    async def run() -> FetchResult:
        async with HttpClient(settings) as client:
            return await client.get(url, accept=accept, min_delay=0)

    return asyncio.run(run())
