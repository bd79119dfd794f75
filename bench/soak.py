"""Soak: the real service for N minutes against a local newsroom that keeps publishing, faults mixed in.

    .venv/bin/python bench/soak.py [--minutes 10] [--outlets 20] [--period 10] [--fault-rate 0.05] [--json]

The newsroom (bench/newsroom.py, its own process, outlets on 127.0.0.1-127.0.0.10) publishes a
story per outlet every `period` seconds; `fault-rate` of all requests get a 500, a stall past the
client timeout, or garbage bytes. `newswatch run --tick 2` runs as a subprocess with short poll
intervals. Every few seconds we sample the resident memory of the service and its workers
(VmRSS from /proc, summed over its process session). At the end we stop the clock on publishing,
give the service a bounded time to drain, stop it with SIGTERM and report:

  * published vs stored stories (lost = published - stored; goal 0) and how many ended failed;
  * RSS at start (once up), at the end and at peak, and the growth over the second half of the run
    (flat memory: growth near zero once caches are warm).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.newsroom import Site, free_port, serve, stats, write_sources  # noqa: E402

HOSTS = 10
SAMPLE_SECONDS = 5.0
DRAIN_SECONDS = 120.0


def session_rss_kb(sid: int) -> int:
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) != sid:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return total


def write_config(directory: Path, site: Site) -> Path:
    write_sources(site, directory / "sources")
    config = directory / "config.toml"
    config.write_text(
        '[storage]\npath = "newswatch.db"\n\n[sources]\ndir = "sources"\n\n'
        "[network]\nallow_private_addresses = true\nmin_host_delay = 0.0\ntimeout = 5.0\nread_timeout = 5.0\n\n"
        "[schedule]\npoll_interval_minutes = 0.25\nmin_interval_minutes = 0.1\nmax_interval_minutes = 0.5\n\n"
        '[digest]\noutput_dir = "digests"\nformats = ["markdown"]\n', encoding="utf-8")
    return config


def stored_stories(db: Path, site: Site, per_outlet: int) -> tuple[int, int]:
    """(stored, failed) among the stories every outlet had published by the end."""
    wanted = {site.page_url(f, i) for f in range(site.outlets) for i in range(per_outlet)}
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute("SELECT url, state FROM entries").fetchall()
    finally:
        conn.close()
    states = {url: state for url, state in rows if url in wanted}
    return len(states), sum(1 for s in states.values() if s == "failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument("--period", type=float, default=10.0, help="seconds between stories of one outlet")
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    site = Site(outlets=args.outlets, hosts=HOSTS, port=free_port(HOSTS), stories=100_000, period=args.period,
                window=50, fault_rate=args.fault_rate, stall=8.0)
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    server = context.Process(target=serve, args=(site, ready), daemon=True)
    server.start()
    if not ready.wait(60):
        raise SystemExit("the newsroom did not start")
    result: dict[str, object] = {"minutes": args.minutes, "outlets": args.outlets, "period_s": args.period,
                                 "fault_rate": args.fault_rate}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = write_config(directory, site)
        log = open(directory / "service.log", "w")  # noqa: SIM115 - the service writes it until it stops
        service = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run", "--config", str(config), "--tick", "2"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        samples: list[tuple[float, int]] = []
        started = time.monotonic()
        end = started + args.minutes * 60
        try:
            while (now := time.monotonic()) < end:
                if service.poll() is not None:
                    raise SystemExit(f"the service died: {(directory / 'service.log').read_text()[-2000:]}")
                samples.append((now - started, session_rss_kb(service.pid)))
                time.sleep(min(SAMPLE_SECONDS, max(0.0, end - now)))
            per_outlet = stats(site)["published_per_outlet"]
            published = per_outlet * site.outlets
            drain_end = time.monotonic() + DRAIN_SECONDS
            while time.monotonic() < drain_end:
                stored, failed = stored_stories(directory / "newswatch.db", site, per_outlet)
                if stored >= published:
                    break
                time.sleep(3)
            samples.append((time.monotonic() - started, session_rss_kb(service.pid)))
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
            log.close()
            server.terminate()
            server.join(5)
        text = (directory / "service.log").read_text()
        up = [rss for t, rss in samples if t >= 15] or [samples[-1][1]]
        half = [rss for t, rss in samples if t >= args.minutes * 30]
        result.update({
            "published": published, "stored": stored, "lost": published - stored, "failed_for_good": failed,
            "drain_s": round(DRAIN_SECONDS - max(0.0, drain_end - time.monotonic()), 1),
            "rss_start_mb": round(up[0] / 1024, 1), "rss_end_mb": round(samples[-1][1] / 1024, 1),
            "rss_peak_mb": round(max(rss for _, rss in samples) / 1024, 1),
            "rss_second_half_growth_mb": round((half[-1] - half[0]) / 1024, 1) if half else None,
            "server_faults": stats_safe(text),
            "log_warnings": text.count(" WARNING "), "log_errors": text.count(" ERROR "),
            "storage_paused": "storage is full" in text, "exit_code": service.returncode,
        })
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")


def stats_safe(log_text: str) -> dict[str, int]:
    """Fault kinds as the service saw them, from its one-line-per-event log."""
    kinds: dict[str, int] = {}
    for line in log_text.splitlines():
        if "failed" in line and ": " in line:
            for kind in ("timeout", "http", "parse", "analysis", "connect"):
                if f": {kind}: " in line:
                    kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


if __name__ == "__main__":
    main()
