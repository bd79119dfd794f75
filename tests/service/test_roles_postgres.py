"""`newswatch run --role`: on one PostgreSQL store, a poller finds the items and a processor stores them."""

from __future__ import annotations

import signal

import test_crash
from config_helpers import write_config
from httpserver import LocalServer
from test_crash import newsroom
from test_crash_postgres import holder, start
from waiting import COMMAND_DEADLINE, wait_for

from pipeline.store.postgres import PostgresStore


def test_a_poller_and_a_processor_split_the_work(tmp_path, pg_url, monkeypatch):
    monkeypatch.setattr(test_crash, "ITEMS_PER_FEED", 5)
    monkeypatch.setattr(test_crash, "PAGE_DELAY", 0.0)
    with LocalServer() as server:
        served = newsroom(server, tmp_path)
        config = write_config(tmp_path)
        config.write_text(config.read_text().replace("[storage]\n", f'[storage]\nurl = "{pg_url}"\n'
                                                     "lease_seconds = 3\n", 1), encoding="utf-8")
        store = PostgresStore(pg_url, lease_seconds=3)
        services = []
        try:
            poller = start(config, "poll")
            services.append(poller)
            wait_for(lambda: store.counts()["entries"] == len(served)
                     and all(f["health"] == "ok" for f in store.feeds()))
            roles = wait_for(lambda: {p["id"]: p["role"] for p in store.processes()})
            assert roles == {holder(poller): "poll"}
            assert store.counts()["done"] == 0  # found, not processed: that is not the poller's job
            processor = start(config, "process")
            services.append(processor)
            wait_for(lambda: store.counts()["done"] == len(served))
            assert {p["role"] for p in store.processes()} == {"poll", "process"}
        finally:
            for service in services:
                service.send_signal(signal.SIGTERM)
            codes = [service.wait(COMMAND_DEADLINE) for service in services]
            for service in services:
                service.stderr.close()
        assert codes == [0] * len(services)
        assert store.processes() == []
