"""Where a connection goes: resolve a host once, check every address, connect to a checked one.

A feed's links are untrusted input, so by default we refuse to connect to anything that is not a
public unicast address: loopback, private and shared (carrier-grade NAT) networks, link-local,
multicast, documentation and other special-purpose ranges, and the IPv6 forms that smuggle an IPv4
address inside (IPv4-mapped, NAT64, 6to4) when the address inside is not public. Teredo is refused
outright: its embedded client address is obfuscated and a relay decides where it really goes.

The check lives in the connector under the HTTP client's connection pool, because that is the
only place that sees the address a socket is opened to. Resolving for the check and letting
something else resolve again to connect would leave a window in which a DNS server can answer a
public address first and a private one second (DNS rebinding). Here one resolution serves both:
the socket is opened to the very address that was checked, while TLS (SNI, certificate) and the
Host header still use the name: aiohttp takes the Host header from the URL, and `GuardedConnector`
hands the name to the TLS handshake, whatever address the socket went to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable

import aiohttp

# (host, port) -> the host's addresses, best first; raises OSError (socket.gaierror) when it has none.
Resolver = Callable[[str, int], Awaitable[list[str]]]
# (address, port, timeout) -> a socket connected to that IP literal; raises OSError or TimeoutError.
Dialer = Callable[[str, int, float | None], Awaitable[socket.socket]]

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# IANA's special-purpose registries: the ranges that are not globally reachable, most specific first.
_IPV4_NOT_PUBLIC: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple((_V4(net), what) for net, what in (
    ("0.0.0.0/8", "'this network'"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT (shared address space)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # with 255.255.255.255, the broadcast address
))
_IPV6_NOT_PUBLIC: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple((_V6(net), what) for net, what in (
    ("::1/128", "loopback"),
    ("::/128", "unspecified"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo tunnel"),
    ("2001:db8::/32", "documentation"),
    ("2001::/23", "IETF protocol assignment"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
))
_NAT64 = _V6("64:ff9b::/96")  # the well-known prefix: the last 32 bits are the IPv4 destination
_GLOBAL_UNICAST = _V6("2000::/3")  # the only IPv6 space assigned for public unicast addresses


def address_problem(address: str) -> str | None:
    """Why we must not connect to `address` (e.g. "loopback"), or None for a public unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # a zone id only scopes a local address
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv4Address):
        return next((what for net, what in _IPV4_NOT_PUBLIC if ip in net), None)
    embedded = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64
                                                  else None)
    if embedded is not None:
        problem = address_problem(str(embedded))
        return f"embeds {problem} address {embedded}" if problem else None
    special = next((what for net, what in _IPV6_NOT_PUBLIC if ip in net), None)
    if special:
        return special
    return None if ip in _GLOBAL_UNICAST else "not a global unicast address"


class BlockedAddress(Exception):
    """A host resolved to an address we refuse to connect to."""


class ConnectFailed(Exception):
    """No connection to the host: it does not resolve, or none of its addresses answered."""


class ConnectTimedOut(ConnectFailed):
    """Resolving or connecting took longer than the connect timeout."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the operating system's resolver, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def dial(address: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP socket connected to `address`, an IP literal (numeric lookup only: nothing resolves)."""
    loop = asyncio.get_running_loop()
    family, kind, proto, _, sockaddr = (await loop.getaddrinfo(address, port, type=socket.SOCK_STREAM,
                                                               flags=socket.AI_NUMERICHOST))[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


class GuardedBackend:
    """Resolves each new connection's host once, refuses the host if any of its addresses is not
    public (unless `allow_private`), and connects to those addresses through `dialer`, an IP
    literal at a time, so nothing resolves the name again.

    A name with one private address among public ones is refused as a whole: that mixture is what a
    rebinding attack looks like, and no news site needs it.
    """

    def __init__(self, allow_private: bool = False, *, resolver: Resolver = system_resolver,
                 dialer: Dialer = dial):
        self.allow_private = allow_private
        self.resolver = resolver
        self.dialer = dialer

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to for `host`; raises BlockedAddress or ConnectFailed."""
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            addresses = [host]  # a literal: nothing to resolve
        except ValueError:
            try:
                addresses = await self.resolver(host, port)
            except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
                reason = getattr(exc, "strerror", None) or str(exc)
                raise ConnectFailed(f"cannot resolve {host}: {reason}") from None
        if not addresses:
            raise ConnectFailed(f"cannot resolve {host}: no addresses")
        if not self.allow_private:
            for address in addresses:
                problem = address_problem(address)
                if problem:
                    shown = host if host == address else f"{host} resolves to {address}, which"
                    raise BlockedAddress(f"{shown} is not a public address ({problem})")
        return addresses

    async def connect(self, host: str, port: int, timeout: float | None = None) -> socket.socket:
        """A socket connected to one of `host`'s checked addresses, tried in turn."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                addresses = await self.addresses(host, port)
        except TimeoutError:
            raise ConnectTimedOut(f"resolving {host} timed out") from None
        failure: ConnectFailed | None = None
        for left, address in zip(range(len(addresses), 0, -1), addresses, strict=True):
            # An address that never answers (an IPv6 route to nowhere) must leave time for the others.
            share = None if deadline is None else max(0.0, deadline - loop.time()) / left
            try:
                return await self.dialer(address, port, share)
            except TimeoutError:
                failure = ConnectTimedOut(f"connecting to {host} at {address} timed out")
            except OSError as exc:
                failure = ConnectFailed(f"cannot connect to {host} at {address}: {exc.strerror or exc}")
        assert failure is not None  # addresses() never returns an empty list
        raise failure


class GuardedConnector(aiohttp.BaseConnector):
    """aiohttp's connection pool (keep-alive per host and port) over sockets from a GuardedBackend.

    A connector that opens its own sockets is how aiohttp is extended (its Unix-socket connector
    is one): we replace only how a new connection is made, and hand TLS the name, not the address.
    """

    def __init__(self, backend: GuardedBackend, *, tls: ssl.SSLContext, keepalive_timeout: float):
        super().__init__(limit=0, limit_per_host=0,  # HttpClient's own semaphores bound the requests
                         keepalive_timeout=keepalive_timeout)
        self.backend = backend
        self.tls = tls

    async def _create_connection(self, req: aiohttp.ClientRequest, traces: list, timeout: aiohttp.ClientTimeout):
        host, port = req.url.raw_host, req.port
        started = self._loop.time()
        sock = await self.backend.connect(host, port, timeout.sock_connect)
        tls = self.tls if req.is_ssl() else None
        handshake = None
        if tls is not None and timeout.sock_connect is not None:
            handshake = max(0.1, timeout.sock_connect - (self._loop.time() - started))
        try:
            async with asyncio.timeout(handshake):
                _, protocol = await self._loop.create_connection(
                    self._factory, sock=sock, ssl=tls, server_hostname=host.rstrip(".") if tls else None)
        except TimeoutError:
            sock.close()
            raise ConnectTimedOut(f"the TLS handshake with {host} timed out") from None
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise ConnectFailed(f"{host}: {exc}") from None
        return protocol
