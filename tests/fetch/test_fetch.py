"""The HTTP client against a real local server: limits, timeouts, redirects, safety, robots.txt."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import brotli
import pytest
from httpserver import LocalServer, Response, gzip_bomb, redirect

from pipeline.config import NetworkSection
from pipeline.fetch.client import HttpClient, retry_after_seconds, user_agent
from pipeline.fetch.robots import RobotsCache
from pipeline.models import FetchResult

# Generous limits: a loaded machine must not turn a local fetch into a timeout. Tests about timeouts
# set their own, against a server that stalls far longer, so only the limit can end the fetch early.
FAST = {"timeout": 10.0, "connect_timeout": 5.0, "read_timeout": 5.0, "min_host_delay": 0.0,
        "allow_private_addresses": True, "max_body_bytes": 1_000_000}


def settings(**overrides: object) -> NetworkSection:
    return NetworkSection(**{**FAST, **overrides})


def fetch(url: str, net: NetworkSection | None = None, **kwargs: object) -> FetchResult:
    async def run() -> FetchResult:
        async with HttpClient(net or settings(), robots=RobotsCache()) as client:
            return await client.get(url, **kwargs)

    return asyncio.run(run())


@pytest.fixture
def server():
    with LocalServer() as s:
        yield s


def test_plain_get_sends_identity_and_accept_headers(server):
    server.route("/feed", Response(body=b"<rss/>", headers={"Content-Type": "application/rss+xml"}))
    net = settings(contact="ops@example.org")
    result = fetch(server.url("/feed"), net, accept="application/rss+xml")
    assert result.ok and result.body == b"<rss/>" and result.content_type == "application/rss+xml"
    sent = server.requests[0]
    assert sent.header("user-agent").startswith("newswatch/") and "ops@example.org" in sent.header("user-agent")
    assert sent.header("accept") == "application/rss+xml"
    assert {"gzip", "deflate", "br"} <= {e.strip() for e in sent.header("accept-encoding").split(",")}


def test_user_agent_puts_contact_in_the_comment():
    assert user_agent(settings(user_agent="bot/1 (+https://x.org)", contact="a@b.c")) == "bot/1 (+https://x.org; a@b.c)"
    assert user_agent(settings(user_agent="bot/1", contact="a@b.c")) == "bot/1 (a@b.c)"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_compressed_bodies_are_decoded(server, encoding):
    text = b"<rss>" + b"news " * 1000 + b"</rss>"
    data = {"gzip": gzip.compress, "br": brotli.compress, "deflate": zlib.compress}[encoding](text)
    server.route("/c", Response(body=data, headers={"Content-Encoding": encoding}))
    result = fetch(server.url("/c"))
    assert result.ok and result.body == text


def test_connections_are_kept_alive(server):
    server.route("/a", Response(body=b"x"))

    async def run() -> list[FetchResult]:
        async with HttpClient(settings(), robots=RobotsCache()) as client:
            return [await client.get(server.url("/a")) for _ in range(5)]

    assert all(r.ok for r in asyncio.run(run()))
    assert len(server.requests) == 5 and len({r.peer for r in server.requests}) == 1  # one TCP connection


def test_not_modified_has_no_body(server):
    server.route("/f", lambda req: Response(status=304) if req.header("if-none-match") == '"a"'
                 else Response(body=b"full", headers={"ETag": '"a"'}))
    first = fetch(server.url("/f"))
    assert first.ok and first.headers["etag"] == '"a"'
    second = fetch(server.url("/f"), etag='"a"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert second.not_modified and second.error is None and second.body == b""
    assert server.requests[1].header("if-modified-since") == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_stalled_server_times_out(server):
    server.route("/stall", Response(body=b"late", delay=60))
    started = time.monotonic()
    result = fetch(server.url("/stall"), settings(timeout=1.0, read_timeout=0.5))
    assert result.error_kind == "timeout" and time.monotonic() - started < 30  # the limit, not the server, ended it


def test_dripping_body_hits_the_total_timeout(server):
    # each byte arrives well within the read timeout, the whole body never within the total one
    server.route("/drip", Response(body=b"x" * 600, drip=0.1))  # a minute in all
    started = time.monotonic()
    result = fetch(server.url("/drip"), settings(timeout=1.0, read_timeout=5.0))
    assert result.error_kind == "timeout" and time.monotonic() - started < 30


def test_waiting_for_politeness_does_not_count_against_the_timeout(server):
    server.route("/slowish", Response(body=b"x", delay=0.5))

    async def run() -> list[FetchResult]:
        net = settings(timeout=2.0, per_host_connections=1)
        async with HttpClient(net, robots=RobotsCache()) as client:
            return await asyncio.gather(*(client.get(server.url("/slowish")) for _ in range(6)))

    assert all(r.ok for r in asyncio.run(run()))  # 6 x 0.5 s queued on one host slot > 2 s


def test_oversized_body_is_an_error(server):
    server.route("/big", Response(body=b"x" * 50_000))
    server.route("/big-chunked", Response(body=b"x" * 50_000, chunked=True))
    for path in ("/big", "/big-chunked"):
        result = fetch(server.url(path), settings(max_body_bytes=10_000))
        assert result.error_kind == "too_large" and result.body == b"", path


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bomb_stops_at_the_cap(server, encoding):
    import tracemalloc

    server.route("/bomb", gzip_bomb(200_000_000, encoding))
    tracemalloc.start()
    result = fetch(server.url("/bomb"), settings(max_body_bytes=1_000_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.error_kind == "too_large"
    assert peak < 20_000_000  # never anywhere near the 200 MB it inflates to


def test_broken_encoding_is_a_decoding_error(server):
    server.route("/bad", Response(body=b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    assert fetch(server.url("/bad")).error_kind == "decoding"


def test_redirects_are_followed_and_permanence_reported(server):
    server.route("/old", redirect("/mid", 301))
    server.route("/mid", redirect("/new", 302))
    server.route("/new", Response(body=b"here"))
    result = fetch(server.url("/old"))
    assert result.ok and result.final_url == server.url("/new") and result.permanent_redirect
    server.route("/temp", redirect("/new", 307))
    assert not fetch(server.url("/temp")).permanent_redirect


def test_redirect_loop_stops(server):
    server.route("/a", redirect("/b", 302))
    server.route("/b", redirect("/a", 302))
    result = fetch(server.url("/a"))
    assert result.error_kind == "redirects" and len(server.requests) == 6


@pytest.mark.parametrize(("location", "reason"), [
    ("http://127.0.0.1:99999/y", "port 99999 is out of range"),
    ("http://127.0.0.1:abc/y", "port 'abc' is not a number"),
    ("http://[::1/y", "not a URL"),
    ("http://exa mple.com/y", "contains a space"),
    ("ftp://127.0.0.1/y", "scheme 'ftp'"),
])
def test_a_redirect_to_a_bad_url_is_a_failed_result(server, location, reason):
    server.route("/go", redirect(location, 302))
    result = fetch(server.url("/go"))
    assert result.error_kind == "bad_url" and reason in result.error and location in result.error
    assert not result.ok and result.final_url == server.url("/go")


def test_a_bad_url_is_a_failed_result_before_any_request(server):
    for url in ("http://127.0.0.1:99999/x", "http://127.0.0.1:abc/x", "http://[::1/x", "/relative", ""):
        result = fetch(url)
        assert result.error_kind == "bad_url" and result.error and result.status == 0
    assert not server.requests


def test_a_robots_txt_that_redirects_to_a_bad_url_does_not_stop_the_page(server):
    server.route("/robots.txt", redirect("http://127.0.0.1:99999/robots.txt", 302))
    server.route("/page", Response(body=b"x"))
    server.route("/onward", redirect("http://127.0.0.1:abc/page", 302))
    assert fetch(server.url("/page"), respect_robots=True).ok  # robots.txt unreadable: allowed, as before
    onward = fetch(server.url("/onward"), respect_robots=True)
    assert onward.error_kind == "bad_url" and "port 'abc'" in onward.error


def test_http_errors_and_gone(server):
    server.route("/missing", Response(status=404, body=b"no"))
    server.route("/gone", Response(status=410))
    assert fetch(server.url("/missing")).error_kind == "http"
    gone = fetch(server.url("/gone"))
    assert gone.status == 410 and gone.error_kind == "gone"


def test_connection_refused_is_a_result_not_an_exception():
    with LocalServer() as s:
        url = s.url("/x")
    result = fetch(url)
    assert result.error_kind == "connect" and result.status == 0


def test_private_addresses_are_refused_unless_allowed(server):
    server.route("/feed", Response(body=b"x"))
    blocked = fetch(server.url("/feed"), settings(allow_private_addresses=False))
    assert blocked.error_kind == "blocked" and not server.requests
    assert fetch(f"http://localhost:{server.port}/feed", settings(allow_private_addresses=False)).error_kind \
        == "blocked"
    assert fetch(server.url("/feed")).ok


def test_non_http_schemes_are_refused():
    assert fetch("file:///etc/passwd").error_kind == "bad_url"
    assert fetch("ftp://example.com/x").error_kind == "bad_url"


def test_min_host_delay_spaces_requests(server):
    server.route("/p", Response(body=b"x"))

    async def run() -> None:
        async with HttpClient(settings(min_host_delay=0.2), robots=RobotsCache()) as client:
            await asyncio.gather(*(client.get(server.url("/p")) for _ in range(3)))

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started >= 0.4


def test_retry_after_slows_the_host(server):
    server.route("/limited", [Response(status=429, headers={"Retry-After": "1"}), Response(body=b"ok")])

    async def run() -> tuple[FetchResult, FetchResult, float]:
        async with HttpClient(settings(timeout=3.0), robots=RobotsCache()) as client:
            first = await client.get(server.url("/limited"))
            started = time.monotonic()
            second = await client.get(server.url("/limited"))
            return first, second, time.monotonic() - started

    first, second, waited = asyncio.run(run())
    assert first.status == 429 and first.headers["retry-after"] == "1"
    assert second.ok and waited >= 0.9


def test_long_retry_after_defers_the_host(server):
    server.route("/limited", Response(status=503, headers={"Retry-After": "3600"}))

    async def run() -> tuple[FetchResult, FetchResult]:
        async with HttpClient(settings(), robots=RobotsCache()) as client:
            return await client.get(server.url("/limited")), await client.get(server.url("/limited"))

    first, second = asyncio.run(run())
    assert first.status == 503 and second.error_kind == "deferred"
    assert 3500 < float(second.headers["retry-after"]) <= 3601 and len(server.requests) == 1


def test_retry_after_parsing():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None


ROBOTS = "User-agent: *\nDisallow: /private/\n\nUser-agent: newswatch\nDisallow: /no-bots/\nCrawl-delay: 0.2\n"


def test_robots_txt_is_obeyed_for_pages_and_cached(server):
    server.route("/robots.txt", Response(body=ROBOTS, headers={"Content-Type": "text/plain"}))
    server.route("/no-bots/a", Response(body=b"secret"))
    server.route("/news/a", Response(body=b"article"))

    async def run() -> list[FetchResult]:
        async with HttpClient(settings(), robots=RobotsCache()) as client:
            return [await client.get(server.url(p), respect_robots=True)
                    for p in ("/no-bots/a", "/news/a", "/news/a")] + [await client.get(server.url("/no-bots/a"))]

    denied, allowed, again, unchecked = asyncio.run(run())
    assert denied.error_kind == "robots" and allowed.ok and again.ok
    assert unchecked.ok  # feeds and other explicit fetches do not consult robots.txt
    assert server.hits("/robots.txt") == 1 and server.hits("/no-bots/a") == 1


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (403, False), (401, False), (500, True)])
def test_robots_fetch_outcomes(server, status, allowed):
    server.route("/robots.txt", Response(status=status))
    server.route("/page", Response(body=b"x"))
    result = fetch(server.url("/page"), respect_robots=True)
    assert result.ok is allowed and (allowed or result.error_kind == "robots")


def test_robots_unreachable_means_allowed(server):
    server.route("/robots.txt", Response(delay=60))
    server.route("/page", Response(body=b"x"))
    assert fetch(server.url("/page"), settings(timeout=2.0), respect_robots=True).ok


def test_robots_checked_on_every_redirect_hop(server):
    server.route("/robots.txt", Response(body="User-agent: *\nDisallow: /hidden\n"))
    server.route("/open", redirect("/hidden", 302))
    server.route("/hidden", Response(body=b"x"))
    assert fetch(server.url("/open"), respect_robots=True).error_kind == "robots"
    assert server.hits("/hidden") == 0


def test_a_host_gets_back_its_own_cookies_and_no_other_host_sees_them(server):
    # Consent walls set a cookie and expect it on the next request; another site must never get it.
    server.route("/consent", Response(body=b"ok", headers={"Set-Cookie": "consent=yes; Path=/"}))
    server.route("/article", Response(body=b"article"))

    async def run() -> list[FetchResult]:
        async with HttpClient(settings(), robots=RobotsCache()) as client:
            return [await client.get(server.url("/consent")), await client.get(server.url("/article")),
                    await client.get(f"http://localhost:{server.port}/article")]

    results = asyncio.run(run())
    assert [r.body for r in results] == [b"ok", b"article", b"article"]
    cookies = [r.header("cookie") for r in server.requests]
    assert cookies == [None, "consent=yes", None]


def test_a_header_longer_than_8_kib_is_read(server):
    # aiohttp's default limit on a header line is 8 KiB; real sites send longer cookies and CSPs.
    policy = "default-src 'self'; " + "; ".join(f"img-src https://cdn{i}.example" for i in range(600))
    assert len(policy) > 16_000
    server.route("/long", Response(body=b"article", headers={"Content-Security-Policy": policy}))
    result = fetch(server.url("/long"))
    assert result.ok and result.body == b"article"
    assert result.headers["content-security-policy"] == policy
