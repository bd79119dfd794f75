"""A local news site for the benches: many outlets on 127.0.0.1-127.0.0.N, in a process of its own.

Outlet `f` lives on host f % hosts and serves an RSS feed (/o{f}/feed.xml) and article pages
(/o{f}/news/{i}.html) in the demo layouts, with generated paragraphs (20-40 KB a page). Story i
of every outlet is published `i * period` seconds after the server starts (period 0: all at
once), until `stories` per outlet; the feed lists the newest `window` published. Faults can be
mixed in per request: 500s, stalls, garbage bytes. /stats on any host answers what has been
published and served, so a bench can count what it should have stored.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.demo.layouts import PAGE_LAYOUTS, Outlet, Story, rss_feed

_WORDS = [
    "council", "budget", "harbour", "railway", "museum", "library", "football", "season", "farmers", "harvest",
    "weather", "storm", "bakery", "market", "prices", "school", "teachers", "students", "hospital", "doctors",
    "bridge", "repairs", "traffic", "festival", "music", "theatre", "election", "mayor", "district", "housing",
    "rents", "tourism", "hotel", "airport", "flights", "river", "flood", "park", "garden", "energy", "company",
    "workers", "factory", "exports", "shares", "bank", "interest", "tax", "pensions", "court", "judge", "police",
    "village",
]
_ON_TOPIC = (
    "US Defense Secretary Lloyd Austin held a video call with Chinese Defense Minister Dong Jun on military "
    "communication.",
    "The Pentagon said both sides agreed to keep the military hotline between Washington and Beijing open.",
)
LAYOUTS = ("portal", "magazine", "wire")


def host_address(index: int) -> str:
    return f"127.0.0.{index + 1}"


def free_port(hosts: int) -> int:
    """A port free on every host address."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind((host_address(0), 0))
            port = probe.getsockname()[1]
        try:
            for i in range(hosts):
                with socket.socket() as s:
                    s.bind((host_address(i), port))
            return port
        except OSError:
            continue
    raise RuntimeError("no common free port")


@dataclass(frozen=True)
class Site:
    outlets: int
    hosts: int
    port: int
    stories: int  # per outlet
    period: float = 0.0  # seconds between two stories of one outlet
    window: int = 50  # stories a feed lists
    latency: float = 0.0  # seconds before every answer
    fault_rate: float = 0.0  # share of requests answered with a fault
    stall: float = 15.0  # seconds a stalled answer waits

    def outlet(self, f: int) -> Outlet:
        return Outlet(slug=f"o{f}", name=f"Outlet {f}", layout=LAYOUTS[f % len(LAYOUTS)], language="en")

    def base(self, f: int) -> str:
        return f"http://{host_address(f % self.hosts)}:{self.port}"

    def feed_url(self, f: int) -> str:
        return f"{self.base(f)}/o{f}/feed.xml"

    def story(self, f: int, i: int) -> Story:
        rng = random.Random(f * 100_003 + i)
        on_topic = rng.random() < 0.1
        paragraphs = []
        for p in range(rng.randint(30, 55)):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(60, 110))]
            text = " ".join(words).capitalize() + "."
            if on_topic and p < 2:
                text = _ON_TOPIC[p] + " " + text
            paragraphs.append(text)
        title = " ".join(rng.choice(_WORDS) for _ in range(7)).capitalize()
        return Story(outlet=f"o{f}", slug=str(i), title=title, published=datetime(2025, 1, 1, tzinfo=UTC)
                     + timedelta(minutes=i), author="Staff reporter", body=tuple(paragraphs), topic=on_topic)

    def page(self, f: int, i: int) -> bytes:
        story = self.story(f, i)
        others = [self.story(f, j) for j in range(max(0, i - 3), i)]
        return PAGE_LAYOUTS[self.outlet(f).layout](story, self.outlet(f), others, self.base(f)).encode()

    def page_url(self, f: int, i: int) -> str:
        return f"{self.base(f)}/o{f}/news/{i}.html"

    def published(self, elapsed: float) -> int:
        """Stories published per outlet `elapsed` seconds after the start."""
        if self.period <= 0:
            return self.stories
        return min(self.stories, int(elapsed / self.period) + 1)

    def feed(self, f: int, count: int) -> bytes:
        # Listed stories carry only their title: no summary, so a feed never stands in for a page.
        stories = [self.story(f, i) for i in range(max(0, count - self.window), count)][::-1]
        stories = [Story(s.outlet, s.slug, s.title, s.published, s.author, (s.title,)) for s in stories]
        return rss_feed(self.outlet(f), stories, self.base(f)).encode()


def serve(site: Site, ready, pages_cache: bool = True, rendered: dict[tuple[int, int], bytes] | None = None) -> None:
    """Run in a child process: an HTTP/1.1 keep-alive server on every host address.

    `rendered`: pages (outlet, story) -> bytes made before the timing, so that a bench measuring
    our CPU does not share the cores with this server writing the same pages (bench/ingest.py).
    """
    started = time.monotonic()
    served = {"pages": 0, "feeds": 0, "faults": 0}
    cache: dict[tuple[int, int], bytes] = dict(rendered or {})
    rng = random.Random(1)

    def page(f: int, i: int) -> bytes:
        if not pages_cache:
            return site.page(f, i)
        if (f, i) not in cache:
            cache[(f, i)] = site.page(f, i)
        return cache[(f, i)]

    def answer(path: str) -> tuple[str, str, bytes, float]:
        elapsed = time.monotonic() - started
        if path == "/stats":
            stats = {"published_per_outlet": site.published(elapsed), "outlets": site.outlets, **served}
            return "200 OK", "application/json", json.dumps(stats).encode(), 0.0
        parts = path.split("?")[0].strip("/").split("/")
        if parts == ["robots.txt"]:
            return "404 Not Found", "text/plain", b"", 0.0
        try:
            f = int(parts[0][1:])
        except (ValueError, IndexError):
            return "404 Not Found", "text/plain", b"not found", 0.0
        if site.fault_rate and rng.random() < site.fault_rate:
            served["faults"] += 1
            fault = rng.choice(("500", "stall", "garbage"))
            if fault == "500":
                return "500 Internal Server Error", "text/html", b"<h1>oops</h1>", 0.0
            if fault == "stall":
                return "200 OK", "text/html", b"late", site.stall
            return "200 OK", "text/html" if len(parts) > 2 else "application/rss+xml", rng.randbytes(3000), 0.0
        count = site.published(elapsed)
        if len(parts) == 2 and parts[1] == "feed.xml" and f < site.outlets:
            served["feeds"] += 1
            return "200 OK", "application/rss+xml; charset=utf-8", site.feed(f, count), 0.0
        if len(parts) == 3 and parts[1] == "news":
            i = int(parts[2].removesuffix(".html"))
            if f < site.outlets and i < count:
                served["pages"] += 1
                return "200 OK", "text/html; charset=utf-8", page(f, i), 0.0
        return "404 Not Found", "text/plain", b"not found", 0.0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                status, content_type, body, delay = answer(request_line.split()[1].decode("latin-1"))
                await asyncio.sleep(site.latency + delay)
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, host_address(i), site.port, backlog=1024)
                   for i in range(site.hosts)]
        ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def stats(site: Site) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"{site.base(0)}/stats", timeout=10) as response:
        return json.loads(response.read())


def write_sources(site: Site, directory) -> None:
    """One source file per outlet, as a user would write them."""
    directory.mkdir(parents=True, exist_ok=True)
    for f in range(site.outlets):
        (directory / f"o{f}.toml").write_text(
            f'name = "o{f}"\nhomepage = "{site.base(f)}/o{f}/"\nlanguage = "en"\n\n'
            f'[[feeds]]\nurl = "{site.feed_url(f)}"\n', encoding="utf-8")
