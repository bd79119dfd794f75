"""Benchmark one poll cycle of 2,000 feeds against local servers on 50 loopback addresses.

    .venv/bin/python bench/polling.py [--feeds 2000] [--hosts 50] [--latency 0.2] [--no-delay-run]

A separate process serves 2,000 RSS feeds of 20 items from 127.0.0.1-127.0.0.50 (40 feeds a host),
answering every request after `latency` seconds, with gzip and ETag/Last-Modified validators.
The client side is the real poll path: poll.poll_feeds on a temporary SQLite store with a Config
loaded from a temporary config.toml (allow_private_addresses = true, since the hosts are loopback).

Figures reported:
  * cycle 1 wall time with min_host_delay = 0, against the bound requests x latency / concurrency,
    where concurrency = min(global limit, hosts x per-host limit);
  * cycle 2 (nothing changed): bytes on the wire as a share of cycle 1 (conditional GET => 304s);
  * cycle 1 with the default min_host_delay (1 s): the per-host spacing is then the bound, since
    each host's requests must start >= 1 s apart: (feeds per host - 1) x delay + latency;
  * a plain sequential feedparser.parse(url) loop, timed on a subset and extrapolated;
  * peak memory (RSS) of the polling process;
  * CPU per changed feed and per 304, for us and for the floor beside us (`--rounds`, on the first
    `--cpu-feeds` feeds): the floor is a plain asyncio + feedparser loop (keep-alive HTTP/1.1 on
    asyncio streams, gzip, If-None-Match, feedparser in a pool of as many processes as ours) on the
    same server in the same run. Each round first publishes one new item in every feed, then polls
    twice (changed, then 304), us and the floor alternating which goes first; CPU counts this
    process and the parse workers (ours: the service's long-lived pool, `workers.make_pool`).
    Acceptance (issue 23): ours <= 1.2x the floor's per changed feed, and <= 1.0 ms per 304.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.newsroom import free_port, host_address
from pipeline.config import NetworkSection, load_config
from pipeline.models import FeedConfig, Source
from pipeline.service import poll_feeds
from pipeline.store import Store

ITEMS = 20


_WORDS = [
    "defence", "officials", "ministry", "talks", "hotline", "military", "maritime", "safety", "navy",
    "aircraft", "carrier", "exercise", "strait", "pacific", "statement", "spokesman", "channel", "crisis",
    "communication", "agreement", "meeting", "delegation", "beijing", "washington", "pentagon", "commander",
    "theatre", "incident", "intercept", "vessel", "coast", "guard", "patrol", "sanctions", "trade", "summit",
    "envoy", "security", "cooperation", "dialogue", "council", "minister", "general", "admiral", "report",
    "analysts", "regional", "tensions",
]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def feed_body(feed: int, host: str, port: int, generation: int = 0) -> bytes:
    """20 items of varied text (~15 KB, ~5 KB gzipped): repetitive text would flatter the byte figures.
    Each generation publishes one item more and drops the oldest, as a news feed does."""
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    items = []
    for i in range(generation + ITEMS - 1, generation - 1, -1):
        rng = random.Random(feed * 100_003 + i)
        published = format_datetime(now + timedelta(minutes=37 * i), usegmt=True)
        summary = " ".join(_sentence(rng, rng.randint(10, 20)) for _ in range(4))
        items.append(
            f"<item><title>{_sentence(rng, 9)}</title>"
            f"<link>http://{host}:{port}/news/{feed}/{i}-{rng.randrange(10**6)}?utm_source=rss</link>"
            f"<guid isPermaLink=\"false\">feed-{feed}-item-{i}</guid><pubDate>{published}</pubDate>"
            f"<description>{summary}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>http://{host}:{port}/</link><description>bench</description>"
        + "".join(items) + "</channel></rss>"
    ).encode()


# -- the server process ------------------------------------------------------------------------

def serve(hosts: int, port: int, feeds: int, latency: float, counters, ready, generation) -> None:
    """Run in a child process: an HTTP/1.1 keep-alive server on every host address, serving each
    feed as of the current `generation` (a shared counter the bench bumps)."""
    cache: dict[tuple[int, int], tuple[bytes, bytes, str]] = {}
    last_modified = "Wed, 01 Jan 2025 12:00:00 GMT"
    paths = {f"{host_address(feed % hosts)}/feed/{feed}.xml": feed for feed in range(feeds)}

    def body_of(key: str) -> tuple[bytes, bytes, str] | None:
        feed = paths.get(key)
        if feed is None:
            return None
        current = generation.value
        found = cache.get((feed, current))
        if found is None:
            cache.pop((feed, current - 1), None)
            raw = feed_body(feed, host_address(feed % hosts), port, current)
            found = cache[(feed, current)] = (raw, gzip.compress(raw, 6), f'"{hashlib.md5(raw).hexdigest()}"')
        return found

    for key in paths:
        body_of(key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname")[0]
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                path = request_line.split()[1].decode("latin-1")
                await asyncio.sleep(latency)
                found = body_of(f"{local}{path}")
                if found is None:
                    status, extra, payload = "404 Not Found", "", b"not found"
                elif headers.get("if-none-match") == found[2]:
                    status, extra, payload = "304 Not Modified", f"ETag: {found[2]}\r\n", b""
                else:
                    zipped = "gzip" in headers.get("accept-encoding", "")
                    payload = found[1] if zipped else found[0]
                    extra = (f"ETag: {found[2]}\r\nLast-Modified: {last_modified}\r\n"
                             "Content-Type: application/rss+xml; charset=utf-8\r\n"
                             + ("Content-Encoding: gzip\r\n" if zipped else ""))
                    status = "200 OK"
                head = (f"HTTP/1.1 {status}\r\nServer: bench\r\n{extra}"
                        + (f"Content-Length: {len(payload)}\r\n" if not status.startswith("304") else "")
                        + "\r\n").encode("latin-1")
                writer.write(head + payload)
                await writer.drain()
                with counters.get_lock():
                    counters[0] += len(head) + len(payload)
                    counters[1] += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, host_address(i), port, backlog=512) for i in range(hosts)]
        ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


# -- the client side -------------------------------------------------------------------------

def make_config(directory: Path, min_host_delay: float):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(
        f'[storage]\npath = "{directory / "bench.db"}"\n\n'
        "[network]\nallow_private_addresses = true\n"
        f"min_host_delay = {min_host_delay}\ntimeout = 30.0\n"
    )
    return load_config(path)


def make_sources(hosts: int, port: int, feeds: int) -> dict[str, Source]:
    by_host: dict[int, list[FeedConfig]] = {}
    for feed in range(feeds):
        by_host.setdefault(feed % hosts, []).append(
            FeedConfig(url=f"http://{host_address(feed % hosts)}:{port}/feed/{feed}.xml"))
    return {
        f"site-{h}": Source(name=f"site-{h}", homepage=f"http://{host_address(h)}:{port}/", language="en",
                            feeds=tuple(fs))
        for h, fs in by_host.items()
    }


def server_bytes(counters) -> tuple[int, int]:
    with counters.get_lock():
        return counters[0], counters[1]


async def cycle(store: Store, config, sources: dict[str, Source], counters) -> dict:
    feeds = [store.feed(row["id"]) for row in store.feeds()]
    before = server_bytes(counters)
    started, cpu = time.perf_counter(), time.process_time()
    report = await poll_feeds(store, config, sources, feeds=feeds)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = server_bytes(counters)
    return {"wall_s": round(wall, 2), "main_process_cpu_s": round(cpu, 2),
            "server_bytes": after[0] - before[0], "server_requests": after[1] - before[1],
            "client_bytes": report.bytes_received, "ok": report.ok, "not_modified": report.not_modified,
            "failed": report.failed, "new_items": report.new_items}


def run_cycles(directory: Path, sources: dict[str, Source], counters, min_host_delay: float,
               cycles: int) -> list[dict]:
    config = make_config(directory, min_host_delay)
    with Store(config.db_path) as store:
        store.sync_sources(sources.values())
        return [asyncio.run(cycle(store, config, sources, counters)) for _ in range(cycles)]


def sequential_loop(urls: list[str]) -> float:
    """Seconds per feed for the naive approach: feedparser fetching and parsing one URL at a time."""
    import feedparser

    started = time.perf_counter()
    for url in urls:
        parsed = feedparser.parse(url)
        assert len(parsed.entries) == ITEMS, (url, parsed.get("bozo_exception"))
    return (time.perf_counter() - started) / len(urls)


# -- CPU per changed feed and per 304: us beside the floor ----------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by the processes `pids` (/proc, so any process)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def pool_pids(pool) -> list[int]:
    return list(pool._processes)  # private, but the bench must count the workers' CPU


def warm(pool, workers: int) -> None:
    """Start every worker (a pool starts them on demand) so their start-up is not counted."""
    list(pool.map(time.sleep, [0.2] * workers * 2))


def floor_parse(body: bytes) -> list[tuple]:
    """The floor's worker: feedparser, and what a reader needs of each entry."""
    import feedparser

    parsed = feedparser.parse(body)
    return [(e.get("id"), e.get("link"), e.get("title"), e.get("summary"), e.get("published_parsed"))
            for e in parsed.entries]


class PlainClient:
    """The floor's HTTP: keep-alive HTTP/1.1 on asyncio streams, gzip, If-None-Match, the same
    global and per-host connection limits as ours; no guard, no robots.txt, no redirects."""

    def __init__(self, total: int, per_host: int):
        self.total = asyncio.Semaphore(total)
        self.per_host = per_host
        self.hosts: dict[tuple[str, int], asyncio.Semaphore] = {}
        self.idle: dict[tuple[str, int], list] = {}

    async def get(self, host: str, port: int, path: str, etag: str | None) -> tuple[int, str | None, bytes]:
        key = (host, port)
        slot = self.hosts.setdefault(key, asyncio.Semaphore(self.per_host))
        async with slot, self.total:
            idle = self.idle.setdefault(key, [])
            reader, writer = idle.pop() if idle else await asyncio.open_connection(host, port)
            writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: floor\r\n"
                          "Accept-Encoding: gzip\r\n" + (f"If-None-Match: {etag}\r\n" if etag else "")
                          + "\r\n").encode("latin-1"))
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(head[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
            body = b""
            if status != 304:
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
            idle.append((reader, writer))
            return status, headers.get("etag"), body

    def close(self) -> None:
        for connections in self.idle.values():
            for _, writer in connections:
                writer.close()


class Floor:
    """A plain asyncio + feedparser poller: what polling costs with nothing but parsing to do."""

    def __init__(self, urls: list[str], pool, total: int, per_host: int):
        self.urls = urls
        self.pool = pool
        self.limits = (total, per_host)
        self.etags: dict[str, str | None] = {}
        self.seen: dict[str, set] = {}

    async def cycle(self) -> dict:
        client = PlainClient(*self.limits)
        loop = asyncio.get_running_loop()
        counts = {"changed": 0, "not_modified": 0, "new_items": 0}

        async def one(url: str) -> None:
            rest = url.split("://", 1)[1]
            hostport, path = rest.split("/", 1)
            host, port = hostport.rsplit(":", 1)
            status, etag, body = await client.get(host, int(port), "/" + path, self.etags.get(url))
            if status == 304:
                counts["not_modified"] += 1
                return
            self.etags[url] = etag
            entries = await loop.run_in_executor(self.pool, floor_parse, body)
            seen = self.seen.setdefault(url, set())
            new = [e for e in entries if e[0] not in seen]
            seen.update(e[0] for e in new)
            counts["changed"] += 1
            counts["new_items"] += len(new)

        await asyncio.gather(*(one(u) for u in self.urls))
        client.close()
        return counts


def cpu_rounds(sources: dict[str, Source], directory: Path, generation, rounds: int, feeds: int) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    from pipeline.service.workers import make_pool

    config = make_config(directory, 0.0)
    workers = config.schedule.parse_workers or min(os.cpu_count() or 1, 4)
    urls = [f.url for s in sources.values() for f in s.feeds][:feeds]
    ours_pool = make_pool(config.topic_files, workers)  # the service's long-lived pool
    floor_pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
    warm(ours_pool, workers)
    warm(floor_pool, workers)
    net = config.network
    floor = Floor(urls, floor_pool, net.max_connections, net.per_host_connections)
    runs: list[dict] = []

    def measured(name: str, kind: str, coro_factory, pool) -> dict:
        pids = pool_pids(pool)
        cpu, workers_cpu, wall = time.process_time(), process_cpu(pids), time.perf_counter()
        counts = asyncio.run(coro_factory())
        cpu, workers_cpu = time.process_time() - cpu, process_cpu(pids) - workers_cpu
        wall = time.perf_counter() - wall
        units = counts["changed"] if kind == "changed" else counts["not_modified"]
        return {"who": name, "kind": kind, "units": units, "new_items": counts["new_items"],
                "wall_s": round(wall, 2), "main_cpu_s": round(cpu, 3), "workers_cpu_s": round(workers_cpu, 3),
                "cpu_ms_per_unit": round(1000 * (cpu + workers_cpu) / max(units, 1), 3),
                "load": Path("/proc/loadavg").read_text().split()[0]}

    try:
        with Store(config.db_path) as store:
            by_url = {f.url: s for s in sources.values() for f in s.feeds}
            wanted = {s.name: s for s in by_url.values() if any(f.url in set(urls) for f in s.feeds)}
            store.sync_sources(wanted.values())
            feeds_rows = [store.feed(row["id"]) for row in store.feeds() if row["url"] in set(urls)]

            ids = {f.id for f in feeds_rows}
            everything_due = datetime.now(UTC) + timedelta(days=365)

            async def ours() -> dict:
                # Due feeds as the service reads them: one query (store.due_feeds), not one per feed.
                due = [f for f in store.due_feeds(everything_due) if f.id in ids]
                report = await poll_feeds(store, config, wanted, feeds=due, executor=ours_pool)
                return {"changed": report.ok - report.unchanged, "not_modified": report.not_modified,
                        "new_items": report.new_items}

            # The first poll of every feed stores 20 items each: not the steady state measured below.
            asyncio.run(ours())
            asyncio.run(floor.cycle())
            for round_ in range(rounds):
                with generation.get_lock():
                    generation.value += 1
                order = [("ours", ours, ours_pool), ("floor", floor.cycle, floor_pool)]
                if round_ % 2:
                    order.reverse()
                for kind in ("changed", "not_modified"):
                    for name, factory, pool in order:
                        runs.append(measured(name, kind, factory, pool))
    finally:
        ours_pool.shutdown(wait=True)
        floor_pool.shutdown(wait=True)

    def median(who: str, kind: str) -> float:
        values = sorted(r["cpu_ms_per_unit"] for r in runs if r["who"] == who and r["kind"] == kind)
        return values[len(values) // 2]

    summary = {k: {"ours_ms": median("ours", k), "floor_ms": median("floor", k),
                   "ratio": round(median("ours", k) / median("floor", k), 2)}
               for k in ("changed", "not_modified")}
    return {"cpu_feeds": len(urls), "parse_workers": workers, "rounds": runs, "cpu_median": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--sequential-sample", type=int, default=50)
    parser.add_argument("--no-delay-run", action="store_true", help="skip the run with the default 1 s host delay")
    parser.add_argument("--rounds", type=int, default=3, help="CPU rounds (us and the floor); 0 skips them")
    parser.add_argument("--cpu-feeds", type=int, default=1000, help="feeds polled in the CPU rounds")
    parser.add_argument("--only-cpu", action="store_true", help="only the CPU rounds")
    args = parser.parse_args()

    port = free_port(args.hosts)
    context = multiprocessing.get_context("fork")  # the server needs nothing from a fresh interpreter
    counters = context.Array("q", 2)
    generation = context.Value("q", 0)
    ready = context.Event()
    server = context.Process(target=serve, args=(args.hosts, port, args.feeds, args.latency, counters, ready,
                                                 generation), daemon=True)
    server.start()
    if not ready.wait(60):
        raise SystemExit("the bench server did not start")
    sources = make_sources(args.hosts, port, args.feeds)
    results: dict[str, object] = {"feeds": args.feeds, "hosts": args.hosts, "latency_s": args.latency}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.rounds:
                results.update(cpu_rounds(sources, Path(tmp) / "cpu", generation, args.rounds,
                                          min(args.cpu_feeds, args.feeds)))
            if args.only_cpu:
                print(json.dumps(results, indent=2))
                return
            config = make_config(Path(tmp), 0.0)
            net = config.network
            concurrency = min(net.max_connections, args.hosts * net.per_host_connections)
            bound = args.feeds * args.latency / concurrency
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            first, second = run_cycles(Path(tmp) / "raw", sources, counters, 0.0, 2)
            rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            results.update({
                "bound_s": round(bound, 2), "concurrency": concurrency,
                "cycle1": first, "cycle1_vs_bound": round(first["wall_s"] / bound, 2),
                "cycle2": second, "cycle2_bytes_share": round(second["server_bytes"] / first["server_bytes"], 4),
                "peak_rss_mb": round(rss_peak / 1024, 1), "rss_before_mb": round(rss_before / 1024, 1),
            })
            if not args.no_delay_run:
                delay = NetworkSection().min_host_delay  # the default
                per_host = -(-args.feeds // args.hosts)
                delayed_bound = max(bound, (per_host - 1) * delay + args.latency)
                (delayed,) = run_cycles(Path(tmp) / "polite", sources, counters, delay, 1)
                results.update({"polite_bound_s": round(delayed_bound, 2), "polite_cycle1": delayed,
                                "polite_vs_bound": round(delayed["wall_s"] / delayed_bound, 2)})
            sample = [f.url for s in sources.values() for f in s.feeds][: args.sequential_sample]
            per_feed = sequential_loop(sample)
            results.update({"sequential_per_feed_s": round(per_feed, 4),
                            "sequential_cycle_s_extrapolated": round(per_feed * args.feeds, 1)})
    finally:
        server.terminate()
        with contextlib.suppress(Exception):
            server.join(5)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
