"""The service as a user runs it: a real process, real signals, real HTTP on 127.0.0.1."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from config_helpers import write_config
from waiting import COMMAND_DEADLINE, wait_for

from pipeline.demo import write_demo_config
from pipeline.store import Store

ROOT = Path(__file__).resolve().parents[2]


def start(config: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--config", str(config), "--tick", "1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )



def stop(process: subprocess.Popen) -> tuple[int, str]:
    """SIGTERM, then the exit code and stderr. A service that ignored the signal, or waited out its
    schedule, would not exit within the deadline."""
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=COMMAND_DEADLINE)
    return process.returncode, err


class LogLines:
    """The service's stderr, line by line as it arrives, so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(process.stderr), daemon=True)
        self._reader.start()

    def text(self) -> str:
        """Everything, once the process has exited and its stderr is closed."""
        self._reader.join(15)
        return "".join(self.lines)


def counts(db: Path) -> dict:
    if not db.exists():
        return {}
    with Store(db) as store:
        return store.counts()


def test_service_ingests_refuses_a_second_instance_and_stops_on_sigterm(tmp_path, demo_site):
    config = write_demo_config(tmp_path, demo_site.base)
    service = start(config)
    try:
        wait_for(lambda: counts(tmp_path / "newswatch.db").get("done", 0) == 15)
        second = subprocess.run([sys.executable, "-m", "pipeline", "run", "--config", str(config)],
                                capture_output=True, text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)
        assert second.returncode == 1
        assert "already held by" in second.stderr and str(service.pid) in second.stderr
    finally:
        code, err = stop(service)
    assert code == 0, err
    assert "stopped" in err


def test_offline_the_shipped_sources_fail_cleanly_and_show_in_status(tmp_path):
    config = write_config(tmp_path, sources_dir=str(ROOT / "sources"))
    config.write_text(config.read_text().replace("allow_private_addresses = true", "allow_private_addresses = false"))
    service = start(config)
    log = LogLines(service)
    db = tmp_path / "newswatch.db"

    def all_failing() -> bool:
        if not db.exists():
            return False
        with Store(db) as store:
            feeds = store.feeds()
        return bool(feeds) and all(f["health"] == "failing" for f in feeds)

    try:
        wait_for(all_failing)
        # the cycle's summary is its last word: the failing cycle is over and the service runs on
        wait_for(lambda: any("cycle: " in line and "feeds polled" in line for line in log.lines))
        assert service.poll() is None
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(COMMAND_DEADLINE)
        err = log.text()
    assert code == 0
    with Store(db) as store:
        feeds = store.feeds()
    failures = [line for line in err.splitlines() if "feed failed:" in line]
    # one line per failing feed per attempt, each naming the feed and the reason
    assert len(failures) == sum(f["failures"] for f in feeds)
    assert all("cannot resolve" in line or "connect" in line for line in failures)
    status = subprocess.run([sys.executable, "-m", "pipeline", "status", "--json", "--config", str(config)],
                            capture_output=True, text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)
    report = json.loads(status.stdout)
    assert report["feeds_by_health"] == {"failing": len(feeds)}
    assert len(feeds) >= 12
