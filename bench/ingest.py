"""Ingest N article pages end to end through the real cycle with the process pool.

    .venv/bin/python bench/ingest.py [--pages 5000] [--json]

A separate process (bench/newsroom.py) serves N/50 outlets of 50 stories on 127.0.0.1-127.0.0.50,
pages 20-40 KB in the demo layouts, made before the timing. We run pipeline.service.run_cycle
with pipeline.service.make_pool on a fresh SQLite store: poll, fetch, extract, tag, store. Then we
time extraction + tagging alone on the same pages, single process, and report articles/s for both,
their ratio (goal >= 0.8: the network and the store cost little next to the CPU work once it runs
on every core) and the peak RSS of this process and of the pool's workers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.newsroom import Site, free_port, serve, write_sources  # noqa: E402
from pipeline.context import load_context  # noqa: E402
from pipeline.service import (  # noqa: E402
    analyse,
    make_pool,
    run_cycle,
)

HOSTS, PER_OUTLET = 50, 50


def peak_rss_kb(pid: int) -> int:
    """A process's resident high-water mark (VmHWM): the pool's workers are not our children."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    outlets = max(1, args.pages // PER_OUTLET)
    site = Site(outlets=outlets, hosts=min(HOSTS, outlets), port=free_port(min(HOSTS, outlets)), stories=PER_OUTLET,
                window=PER_OUTLET)
    rendered = {(f, i): site.page(f, i) for f in range(outlets) for i in range(PER_OUTLET)}
    pages = {site.page_url(f, i): body for (f, i), body in rendered.items()}
    ready = multiprocessing.get_context("fork").Event()
    # The server gets the pages already made (a forked child shares them): making them while serving
    # took CPU inside the timing from the same cores; the ratio was 0.57-0.61 with that, 0.76-0.82 without.
    server = multiprocessing.get_context("fork").Process(target=serve, args=(site, ready),
                                                         kwargs={"rendered": rendered}, daemon=True)
    server.start()
    if not ready.wait(60):
        raise SystemExit("the newsroom did not start")
    result: dict[str, object] = {"pages": len(pages), "outlets": outlets, "hosts": site.hosts,
                                 "mean_page_kb": round(sum(map(len, pages.values())) / len(pages) / 1024, 1),
                                 "cpus": os.cpu_count()}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            write_sources(site, directory / "sources")
            (directory / "config.toml").write_text(
                '[storage]\npath = "bench.db"\n\n[sources]\ndir = "sources"\n\n'
                "[network]\nallow_private_addresses = true\nmin_host_delay = 0.0\ntimeout = 60.0\n", encoding="utf-8")
            ctx = load_context(directory / "config.toml")
            pool = make_pool(ctx.config.topic_files)
            pool.submit(int).result()  # workers started outside the timing, as in the running service
            try:
                started = time.perf_counter()
                with ctx.open_store() as store:
                    report = run_cycle(ctx, store, executor=pool)
                    counts = store.counts()
                end_to_end = time.perf_counter() - started
                workers_hwm_kb = sum(peak_rss_kb(pid) for pid in pool._processes)
            finally:
                pool.shutdown()
            result.update({"stored": counts["done"], "tagged": counts["tagged"], "failed": counts["failed"],
                           "retried": report.process.retried, "end_to_end_s": round(end_to_end, 1),
                           "end_to_end_articles_per_s": round(counts["done"] / end_to_end, 1),
                           "peak_rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                           "peak_rss_workers_total_mb": round(workers_hwm_kb / 1024, 1)})
            started = time.perf_counter()
            for url, body in pages.items():
                analyse(body, url, "text/html; charset=utf-8", None, frozenset(), tagger=ctx.tagger)
            alone = time.perf_counter() - started
            result.update({"extract_tag_alone_s": round(alone, 1),
                           "extract_tag_alone_articles_per_s": round(len(pages) / alone, 1)})
            result["ratio"] = round(result["end_to_end_articles_per_s"] / result["extract_tag_alone_articles_per_s"], 2)
    finally:
        server.terminate()
        server.join(5)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>34}: {value}")


if __name__ == "__main__":
    main()
