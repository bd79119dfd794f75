"""The deliveries ledger (issue 19) on both backends: one record per (channel, kind, key), claimed
by exactly one sender, held alerts folded into one summary at once, and the per-channel report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.store import SqliteStore

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "n.db") as s:
            yield s
        return
    from pipeline.store.postgres import PostgresStore

    with PostgresStore(request.getfixturevalue("pg_url")) as s:
        yield s


def test_a_delivery_is_recorded_once_and_claimed_by_one_sender(store):
    assert store.add_delivery("desk", "alert", "t/1", topic="t", entry_id=1, status="pending", title="T",
                              body="B", created_at=NOW)
    assert not store.add_delivery("desk", "alert", "t/1", status="pending", title="other")
    record = store.delivery("desk", "alert", "t/1")
    assert (record["title"], record["status"], record["attempts"], record["created_at"]) == (
        "T", "pending", 0, NOW.isoformat())
    assert store.claim_delivery("desk", "alert", "t/1", record, status="sending", attempts=1,
                                next_attempt_at=NOW + timedelta(minutes=5))
    assert not store.claim_delivery("desk", "alert", "t/1", record, status="sending", attempts=1)  # the loser
    claimed = store.delivery("desk", "alert", "t/1")
    assert store.claim_delivery("desk", "alert", "t/1", claimed, status="sent", delivered_at=NOW)
    assert store.delivery("desk", "alert", "t/1")["status"] == "sent"
    assert store.delivery("phone", "alert", "t/1") is None


def test_deliveries_are_listed_by_channel_kind_and_status(store):
    for n, status in enumerate(["pending", "failed", "sent", "held"]):
        store.add_delivery("desk", "alert", f"t/{n}", topic="t", entry_id=n, status=status,
                           created_at=NOW + timedelta(seconds=n))
    store.add_delivery("desk", "digest", "t/daily/2026-03-09", status="pending", created_at=NOW)
    store.add_delivery("phone", "alert", "t/0", topic="t", entry_id=0, status="pending", created_at=NOW)
    assert [r["key"] for r in store.deliveries("desk", kind="alert", statuses=("pending", "failed"))] == ["t/0", "t/1"]
    assert len(store.deliveries("desk")) == 5
    assert len(store.deliveries(statuses=("pending",))) == 3
    assert store.alerted_entries("desk", "t", [0, 2, 7]) == {0, 2}
    assert store.alerted_entries("desk", "other", [0]) == set()


def test_held_alerts_fold_into_one_summary_once(store):
    for n in range(3):
        store.add_delivery("desk", "alert", f"t/{n}", status="held" if n < 2 else "pending", created_at=NOW)
    keys = [("alert", "t/0"), ("alert", "t/1"), ("alert", "t/2")]
    assert store.fold_deliveries("desk", keys, "s1", status="pending", title="2 held", created_at=NOW)
    assert not store.fold_deliveries("desk", keys, "s1", status="pending", created_at=NOW)  # another sender's
    statuses = {r["key"]: (r["status"], r["summary"]) for r in store.deliveries("desk", kind="alert")}
    assert statuses == {"t/0": ("summarized", "s1"), "t/1": ("summarized", "s1"), "t/2": ("pending", None)}
    assert store.delivery("desk", "summary", "s1")["title"] == "2 held"


def test_the_channel_report_and_the_hourly_count(store):
    store.add_delivery("desk", "channel", "", status="registered", created_at=NOW)
    store.add_delivery("desk", "alert", "a", status="sent", delivered_at=NOW - timedelta(minutes=30),
                       updated_at=NOW - timedelta(minutes=30), created_at=NOW)
    store.add_delivery("desk", "summary", "s", status="sent", delivered_at=NOW - timedelta(hours=2),
                       created_at=NOW)
    store.add_delivery("dead", "alert", "a", status="failed", last_error="connection refused",
                       next_attempt_at=NOW + timedelta(minutes=2), updated_at=NOW, created_at=NOW)
    store.add_delivery("dead", "digest", "d", status="failed", last_error="older", next_attempt_at=None,
                       updated_at=NOW - timedelta(hours=1), created_at=NOW)
    assert store.delivered_count("desk", ("alert", "summary"), NOW - timedelta(hours=1)) == 1
    assert store.delivered_count("desk", ("alert", "summary"), NOW - timedelta(hours=3)) == 2
    report = {r["channel"]: r for r in store.channel_report()}
    assert report["desk"]["last_delivered_at"] == (NOW - timedelta(minutes=30)).isoformat()
    assert report["desk"]["last_failed_at"] is None and report["desk"]["waiting"] == 0
    dead = report["dead"]
    assert (dead["last_delivered_at"], dead["last_failed_at"], dead["last_error"]) == (
        None, NOW.isoformat(), "connection refused")
    assert (dead["waiting"], dead["given_up"]) == (1, 1)
