"""`newswatch run` as a real process a test can hold at a chosen point, and its process tree.

A hooks module written by the test goes on PYTHONPATH, so the service and its worker processes
(started by a fork server with the same path) both import it; `inject` is Python run in the
service before `main`, to route a function through a hook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_service(config: Path, hooks: Path, inject: str = "", env: dict[str, str] | None = None,
                  tick: str = "1") -> subprocess.Popen:
    code = f"import sys\n{inject}\nfrom pipeline.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {}),
                "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", code, "run", "--config", str(config), "--tick", tick],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=full_env)


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (its worker pool and the pool's fork server), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids still running (a zombie waiting for its parent is not running)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def finish(service: subprocess.Popen, timeout: float = 60) -> str:
    """The service's stderr once it has exited; killed if it does not within `timeout`."""
    try:
        _, err = service.communicate(timeout=timeout)
    finally:
        if service.poll() is None:
            service.kill()
            service.communicate()
    return err


def ensure_dead(service: subprocess.Popen) -> None:
    """For a test's `finally`: a service the test did not stop is killed (and reaped)."""
    if service.poll() is None:
        service.kill()
        service.communicate()
