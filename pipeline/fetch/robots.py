"""robots.txt for article pages: fetched through our own client, cached per origin for a day.

The usual conventions (RFC 9309 and what the big crawlers do): 401/403 on robots.txt means the
site does not want robots at all; any other 4xx means there are no rules; a robots.txt we could not
fetch (5xx, timeout, connection refused) does not stop us, but is retried after an hour rather than
a day. Matching is Protego's (Scrapy's parser): `*` and `$` wildcards, the longest matching rule
wins, as Google and RFC 9309 do; the standard library's parser knows neither.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from protego import Protego

from pipeline.models import FetchResult

from .urls import Url

DAY = 86_400.0
FAILURE_TTL = 3_600.0
MAX_ORIGINS = 10_000  # cached origins; the least recently used are dropped beyond this

Fetch = Callable[[str], Awaitable[FetchResult]]


@dataclass(frozen=True)
class RobotsRules:
    """The verdict for one origin; `parser` is None when everything (or nothing) is allowed."""

    parser: Protego | None = None
    allow_all: bool = True
    reason: str = ""  # why there are no rules: "not found", "fetch failed: ...", "HTTP 403"

    def allowed(self, url: str, agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(url, agent)

    def crawl_delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return float(delay) if delay is not None else None


def robots_url(page: Url) -> str:
    """The robots.txt of `page`'s origin: built from the parsed page URL, so it is well-formed
    whenever the page's is, and one origin has one key whatever way its pages spell it."""
    host = f"[{page.host}]" if ":" in page.host else page.host
    default = {"http": 80, "https": 443}[page.scheme]
    port = "" if page.port == default else f":{page.port}"
    return f"{page.scheme}://{host}{port}/robots.txt"


def rules_from_result(result: FetchResult) -> tuple[RobotsRules, float]:
    """The rules a robots.txt fetch gives, and how long to keep them."""
    if result.ok:
        return RobotsRules(parser=Protego.parse(result.body.decode("utf-8", errors="replace"))), DAY
    if result.status in (401, 403):
        return RobotsRules(allow_all=False, reason=f"HTTP {result.status}"), DAY
    if 400 <= result.status < 500:
        return RobotsRules(reason="not found"), DAY
    return RobotsRules(reason=f"fetch failed: {result.error}"), FAILURE_TTL


class RobotsCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._rules: OrderedDict[str, tuple[float, RobotsRules]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def rules(self, url: Url, fetch: Fetch) -> RobotsRules:
        """The rules for `url`'s origin; one fetch per origin even when many pages ask at once."""
        key = robots_url(url)
        cached = self._cached(key)
        if cached:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cached(key)
            if cached:
                return cached
            rules, ttl = rules_from_result(await fetch(key))
            self._rules[key] = (self._clock() + ttl, rules)
            while len(self._rules) > MAX_ORIGINS:
                self._rules.popitem(last=False)
        self._locks.pop(key, None)
        return rules

    def _cached(self, key: str) -> RobotsRules | None:
        entry = self._rules.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        self._rules.move_to_end(key)
        return entry[1]

    def clear(self) -> None:
        self._rules.clear()
