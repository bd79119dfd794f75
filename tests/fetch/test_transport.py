"""Where connections go: the address classifier, and the backend that resolves, checks and connects once.

No test leaves the machine. Names resolve through a scripted resolver (`Dns`); connections to a
"public" address are carried to the LocalServer on 127.0.0.1 by `Loopback`, which records the
address each attempt was meant for, so a test can see exactly where the client tried to connect.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading

import pytest
from httpserver import LocalServer, Response, redirect

from pipeline.config import NetworkSection
from pipeline.fetch.client import HttpClient
from pipeline.fetch.robots import RobotsCache
from pipeline.fetch.transport import GuardedBackend, address_problem, dial
from pipeline.models import FetchResult

PUBLIC, OTHER_PUBLIC = "1.2.3.4", "1.2.3.5"  # never really connected to: see Loopback


class Dns:
    """A resolver with scripted answers: each name gives its answers in turn, the last one repeating."""

    def __init__(self, answers: dict[str, list[list[str]]] | None = None):
        self.answers = answers or {}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        script = self.answers.get(host)
        served = self.asked.count(host)
        self.asked.append(host)
        if script is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return script[min(served, len(script) - 1)]


class Loopback:
    """The internet as a test sees it (a GuardedBackend's dialer): a connection to any address reaches
    127.0.0.1 on the same port, except to `unreachable` addresses, which never answer (a route to nowhere)."""

    def __init__(self, unreachable: frozenset[str] = frozenset()) -> None:
        self.attempts: list[str] = []
        self.unreachable = unreachable

    async def __call__(self, address: str, port: int, timeout: float | None) -> socket.socket:
        self.attempts.append(address)
        if address in self.unreachable:
            await asyncio.sleep(3600 if timeout is None else timeout)
            raise TimeoutError
        return await dial("127.0.0.1", port, timeout)  # the service's own dialer


def settings(allow_private: bool) -> NetworkSection:
    return NetworkSection(timeout=5.0, connect_timeout=2.0, read_timeout=2.0, min_host_delay=0.0,
                          allow_private_addresses=allow_private)


def fetch_all(backend: GuardedBackend, *urls: str) -> list[FetchResult]:
    """GET each URL in turn with one client (one connection pool)."""

    async def run() -> list[FetchResult]:
        async with HttpClient(settings(backend.allow_private), robots=RobotsCache(), network=backend) as client:
            return [await client.get(url) for url in urls]

    return asyncio.run(run())


@pytest.fixture
def server():
    with LocalServer() as s:
        s.route("/page", Response(body=b"article"))
        yield s


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("0.0.0.0", "this network"),
    ("192.0.0.8", "IETF protocol"),
    ("192.0.2.1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("100::1", "discard"),
    ("2001:2::1", "IETF protocol"),
    ("::127.0.0.1", "not a global unicast address"),  # the deprecated IPv4-compatible form
    ("::ffff:0:a00:1", "not a global unicast address"),  # IPv4-translated (SIIT)
    # IPv4-mapped: the embedded address decides
    ("::ffff:127.0.0.1", "embeds loopback address 127.0.0.1"),
    ("::ffff:10.0.0.1", "embeds private address 10.0.0.1"),
    ("::ffff:100.64.1.1", "embeds carrier-grade NAT"),
    # NAT64, well-known prefix 64:ff9b::/96: the last 32 bits are the IPv4 destination
    ("64:ff9b::a00:1", "embeds private address 10.0.0.1"),
    ("64:ff9b::7f00:1", "embeds loopback address 127.0.0.1"),
    ("64:ff9b::169.254.169.254", "embeds link-local address 169.254.169.254"),
    ("64:ff9b::6440:1", "embeds carrier-grade NAT (shared address space) address 100.64.0.1"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    # 6to4, 2002::/16: bits 16-48 are the IPv4 address of the tunnel's end
    ("2002:a00:1::1", "embeds private address 10.0.0.1"),
    ("2002:7f00:1::", "embeds loopback address 127.0.0.1"),
    ("2002:c0a8:101:1::1", "embeds private address 192.168.1.1"),
    ("2002:6440:1::1", "embeds carrier-grade NAT"),
    ("2002:a9fe:a9fe::1", "embeds link-local address 169.254.169.254"),
    # Teredo, 2001::/32: refused whatever it embeds (the client address inside is obfuscated)
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001::1", "Teredo"),
    ("2001:0:102:304::1", "Teredo"),
    ("not-an-address", "not an IP address"),
])
def test_non_public_addresses_are_named(address, reason):
    problem = address_problem(address)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("address", [
    "1.2.3.4", "8.8.8.8", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.1", "192.0.3.1",
    "2606:4700:4700::1111", "2a00:1450:4001::200e",
    "::ffff:1.2.3.4",  # IPv4-mapped public
    "64:ff9b::102:304",  # NAT64 of 1.2.3.4
    "2002:102:304::1",  # 6to4 of 1.2.3.4
])
def test_public_addresses_pass(address):
    assert address_problem(address) is None


def test_the_socket_goes_to_the_resolved_address_and_the_name_stays_in_the_request(server):
    # a real connection: the resolver's answer is the only way to reach the server under this name
    dns = Dns({"feeds.example": [["127.0.0.1"]]})
    (result,) = fetch_all(GuardedBackend(True, resolver=dns), f"http://feeds.example:{server.port}/page")
    assert result.ok and result.body == b"article"
    assert server.requests[0].header("host") == f"feeds.example:{server.port}"
    assert dns.asked == ["feeds.example"]


def test_a_name_that_answers_public_then_private_is_connected_where_it_was_checked(server):
    """DNS rebinding: the second answer never reaches a socket opened for the first."""
    dns = Dns({"news.example": [[PUBLIC], ["127.0.0.1"]]})
    internet = Loopback()
    backend = GuardedBackend(False, resolver=dns, dialer=internet)
    url = f"http://news.example:{server.port}/page"

    first, again = fetch_all(backend, url, url)  # one connection, kept alive
    assert first.ok and again.ok
    assert internet.attempts == [PUBLIC] and dns.asked == ["news.example"]

    (rebound,) = fetch_all(backend, url)  # a new connection resolves again, and is checked again
    assert rebound.error_kind == "blocked"
    assert "news.example resolves to 127.0.0.1" in rebound.error and "loopback" in rebound.error
    assert internet.attempts == [PUBLIC] and dns.asked == ["news.example"] * 2
    assert server.hits("/page") == 2


def test_one_private_address_among_public_ones_refuses_the_name(server):
    dns = Dns({"mixed.example": [[PUBLIC, "10.0.0.7"]]})
    internet = Loopback()
    (result,) = fetch_all(GuardedBackend(False, resolver=dns, dialer=internet),
                          f"http://mixed.example:{server.port}/page")
    assert result.error_kind == "blocked" and "10.0.0.7" in result.error
    assert internet.attempts == [] and not server.requests


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]"])
def test_a_private_literal_is_refused_without_resolving(server, host):
    dns, internet = Dns(), Loopback()
    (result,) = fetch_all(GuardedBackend(False, resolver=dns, dialer=internet), f"http://{host}:{server.port}/page")
    assert result.error_kind == "blocked"
    assert dns.asked == [] and internet.attempts == [] and not server.requests


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=news.example", "-addext", "subjectAltName=DNS:news.example",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    return folder / "cert.pem", folder / "key.pem"


def test_tls_is_for_the_name_while_the_socket_goes_to_the_checked_address(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    names: list[str | None] = []
    context.sni_callback = lambda connection, name, ctx: names.append(name)
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def handshake() -> None:
            connection, _ = listener.accept()
            with connection:
                try:
                    with context.wrap_socket(connection, server_side=True) as tls:
                        tls.recv(1)
                except (ssl.SSLError, OSError):
                    pass  # the client rejects our certificate: it is in no public CA store

        server = threading.Thread(target=handshake, daemon=True)
        server.start()
        internet = Loopback()
        port = listener.getsockname()[1]
        (result,) = fetch_all(GuardedBackend(False, resolver=Dns({"news.example": [[PUBLIC]]}), dialer=internet),
                              f"https://news.example:{port}/page")
        server.join(30)
    assert internet.attempts == [PUBLIC] and names == ["news.example"]
    assert result.error_kind == "connect" and "CERTIFICATE_VERIFY_FAILED" in result.error


def test_every_address_is_tried_in_turn():
    with LocalServer() as gone:
        port = gone.port  # closed below: nothing listens there
    dns = Dns({"down.example": [[PUBLIC, OTHER_PUBLIC]]})
    internet = Loopback()
    (result,) = fetch_all(GuardedBackend(False, resolver=dns, dialer=internet), f"http://down.example:{port}/")
    assert result.error_kind == "connect" and f"down.example at {OTHER_PUBLIC}" in result.error
    assert internet.attempts == [PUBLIC, OTHER_PUBLIC]


def test_an_address_that_never_answers_leaves_time_for_the_next(server):
    dns = Dns({"dual.example": [[PUBLIC, OTHER_PUBLIC]]})
    internet = Loopback(unreachable=frozenset({PUBLIC}))
    (result,) = fetch_all(GuardedBackend(False, resolver=dns, dialer=internet), f"http://dual.example:{server.port}/page")
    assert result.ok and internet.attempts == [PUBLIC, OTHER_PUBLIC]


def test_a_name_that_does_not_resolve_is_a_connect_error():
    (result,) = fetch_all(GuardedBackend(False, resolver=Dns()), "http://nowhere.example/")
    assert result.error_kind == "connect" and "cannot resolve nowhere.example" in result.error


def test_a_resolver_that_never_answers_is_a_connect_timeout():
    async def stalled(host: str, port: int) -> list[str]:
        await asyncio.sleep(3600)
        return []

    async def run() -> FetchResult:
        net = NetworkSection(timeout=5.0, connect_timeout=0.3, min_host_delay=0.0)
        async with HttpClient(net, robots=RobotsCache(), network=GuardedBackend(resolver=stalled)) as client:
            return await client.get("http://slow-dns.example/")

    result = asyncio.run(run())
    assert result.error_kind == "timeout" and "connecting" in result.error


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/internal",
    "http://[::1]:{port}/internal",
    "http://intranet.example:{port}/internal",  # a name: the resolver gives a private address
])
def test_a_redirect_to_a_private_address_is_refused(server, target):
    server.route("/go", redirect(target.format(port=server.port), 302))
    server.route("/internal", Response(body=b"secret"))
    dns = Dns({"news.example": [[PUBLIC]], "intranet.example": [["10.0.0.5"]]})
    (result,) = fetch_all(GuardedBackend(False, resolver=dns, dialer=Loopback()),
                          f"http://news.example:{server.port}/go")
    assert result.error_kind == "blocked" and "not a public address" in result.error
    assert server.hits("/go") == 1 and server.hits("/internal") == 0


def test_private_addresses_are_reached_when_allowed(server):
    # what the tests and the demo rely on: [network] allow_private_addresses = true
    results = fetch_all(GuardedBackend(True), server.url("/page"), f"http://localhost:{server.port}/page")
    assert [r.body for r in results] == [b"article", b"article"]
