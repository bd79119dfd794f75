"""robots.txt rules and their cache (fetching is tested against a real server in test_fetch)."""

from __future__ import annotations

import asyncio

from pipeline.fetch.robots import RobotsCache, robots_url, rules_from_result
from pipeline.fetch.urls import Url, parse_url
from pipeline.models import FetchResult

AGENT = "newswatch/0.1 (+https://example.org)"


def result(status: int, body: str = "", error: str | None = None) -> FetchResult:
    return FetchResult("u", "u", status, body=body.encode(), error=error or (None if status < 400 else "HTTP"))


def test_rules_for_our_agent_and_for_everyone():
    rules, ttl = rules_from_result(result(200, "User-agent: *\nDisallow: /private\n\n"
                                               "User-agent: newswatch\nDisallow: /drafts\nCrawl-delay: 5\n"))
    assert ttl == 86_400
    assert not rules.allowed("https://e.com/drafts/1", AGENT) and rules.allowed("https://e.com/private/1", AGENT)
    assert not rules.allowed("https://e.com/private/1", "otherbot/1.0")
    assert rules.crawl_delay(AGENT) == 5


def test_status_conventions():
    assert not rules_from_result(result(403))[0].allowed("https://e.com/", AGENT)
    assert not rules_from_result(result(401))[0].allowed("https://e.com/", AGENT)
    assert rules_from_result(result(404))[0].allowed("https://e.com/", AGENT)
    failed, ttl = rules_from_result(result(0, error="timeout"))
    assert failed.allowed("https://e.com/", AGENT) and ttl == 3600  # unreachable: allowed, asked again soon


def page(text: str) -> Url:
    url = parse_url(text)
    assert isinstance(url, Url), url
    return url


def test_robots_url_is_one_per_origin():
    assert robots_url(page("https://e.com:8443/a/b?c=1#d")) == "https://e.com:8443/robots.txt"
    assert robots_url(page("HTTP://user:pw@E.com:80/x")) == "http://e.com/robots.txt"
    assert robots_url(page("https://[2001:db8::1]:8443/x")) == "https://[2001:db8::1]:8443/robots.txt"
    assert robots_url(page("https://bücher.example/x")) == "https://xn--bcher-kva.example/robots.txt"
    for built in (robots_url(page(u)) for u in ("https://e.com:8443/a", "http://[::1]/", "https://bücher.example/")):
        assert isinstance(parse_url(built), Url)


def test_cache_fetches_once_per_origin_and_expires():
    now = [0.0]
    fetched: list[str] = []

    async def fetch(url: str) -> FetchResult:
        fetched.append(url)
        await asyncio.sleep(0.01)
        return result(200, "User-agent: *\nDisallow: /x\n")

    cache = RobotsCache(clock=lambda: now[0])

    async def run() -> None:
        await asyncio.gather(*(cache.rules(page(f"https://e.com/{i}"), fetch) for i in range(5)))
        await cache.rules(page("https://other.org/"), fetch)
        now[0] += 86_401
        await cache.rules(page("https://e.com/again"), fetch)

    asyncio.run(run())
    assert fetched == ["https://e.com/robots.txt", "https://other.org/robots.txt", "https://e.com/robots.txt"]


def test_wildcards_and_the_longest_matching_rule():
    from pipeline.fetch.robots import rules_from_result
    from pipeline.models import FetchResult

    body = b"User-agent: *\nDisallow: /*?print=\nDisallow: /news/\nAllow: /news/world/\nDisallow: /*.pdf$\n"
    rules, _ = rules_from_result(FetchResult("https://a.example/robots.txt", "https://a.example/robots.txt",
                                             200, body=body))
    agent = "newswatch/0.1"
    assert not rules.allowed("https://a.example/story?print=1", agent)
    assert rules.allowed("https://a.example/story?id=1", agent)
    assert not rules.allowed("https://a.example/news/local/1", agent)
    assert rules.allowed("https://a.example/news/world/1", agent)  # the longer Allow wins
    assert not rules.allowed("https://a.example/files/report.pdf", agent)
    assert rules.allowed("https://a.example/files/report.pdf.html", agent)
