"""What `newswatch status` reports: feed health, the queue, the last poll and digest, recent errors,
entries that could not be taken as they came, and source files that do not load."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.alerts.outbox import channel_states, describe_state
from pipeline.feeds import check_sources
from pipeline.store import EntryProblems, Store, iso, utcnow

RECENT_CYCLES = 50
FAILED_ENTRIES_SHOWN = 50
_REASONS_SHOWN = 5  # per feed and kind; a feed of a thousand link-less entries must not flood the screen


def _failed_in_a_row(cycles: list[dict]) -> int:
    return next((i for i, c in enumerate(cycles) if c["outcome"] != "failed"), len(cycles))


def _last_digests(digests: list[dict], digest_dir: Path | None, topics: list[str]) -> dict[str, dict]:
    """Per topic, the newest daily digest written: from the files (a day in progress is written but
    not yet recorded as sent) and from the delivery ledger, whichever is newer."""
    out: dict[str, dict] = {}
    for topic in topics:
        sent = {d["day"]: d for d in digests if d["topic"] == topic and d["kind"] == "daily"
                and d["status"] in ("sent", "skipped")}
        days = set(sent)
        folder = digest_dir / topic if digest_dir else None
        if folder and folder.is_dir():
            days |= {p.name for p in folder.iterdir() if p.is_dir() and len(p.name) == 10 and p.name[4] == "-"}
        if not days:
            continue
        day = max(days)
        record = sent.get(day)
        written = folder / day if folder else None
        out[topic] = {
            "day": day,
            "status": record["status"] if record else "in progress",
            "at": (record and (record["delivered_at"] or record["created_at"])) or (
                iso(datetime.fromtimestamp(written.stat().st_mtime, UTC)) if written and written.exists() else None),
            "location": str(written) if written and written.exists() else (record or {}).get("location"),
        }
    return out


def collect_status(store: Store, sources_dir: Path | None = None, *, digest_dir: Path | None = None,
                   topics: list[str] | None = None, channels: list[str] | None = None,
                   topic_objects: list | None = None) -> dict:
    """`sources_dir`, when given, is checked for source files that do not load: the service keeps
    running on the sources it loaded at start-up, so a file broken since then shows here."""
    feeds = store.feeds()
    problems = store.entry_problems()
    none = EntryProblems(without_link={}, skipped={})
    now = utcnow()
    since = now - timedelta(days=1)
    errors = Counter(e["kind"] for e in store.events_since(since))
    cycles = store.recent_cycles(RECENT_CYCLES)
    queue = store.queue_activity(now)
    digests = store.digest_records()
    polls = [f["last_attempt_at"] for f in feeds if f["last_attempt_at"]]
    successes = [f["last_success_at"] for f in feeds if f["last_success_at"]]
    return {
        "backend": store.backend,
        "database": store.location,
        "schema_version": store.schema_version,
        # A read-only store fails every cycle without being able to record it: say so first.
        "store_problem": store.write_problem(),
        "feeds": [
            {key: f[key] for key in ("source", "url", "current_url", "health", "http_status", "failures",
                                     "last_error_kind", "last_error_stage", "last_error", "last_attempt_at",
                                     "last_success_at", "next_poll_at", "items_seen")}
            | {"entries_without_link": problems.get(f["id"], none).without_link,
               "entries_skipped": problems.get(f["id"], none).skipped}
            for f in feeds
        ],
        "feeds_by_health": dict(Counter(f["health"] for f in feeds)),
        "entries": store.counts(),
        "queue_depth": store.queue_depth(),
        "queue": {"due": queue.due, "oldest_due_at": iso(queue.oldest_due_at),
                  "last_attempt_at": iso(queue.last_attempt_at)},
        # Entries whose last attempt failed, with the reason: waiting for a retry, or given up.
        "failed_entries": store.failed_entries(FAILED_ENTRIES_SHOWN),
        "cycles": {"last": cycles[0] if cycles else None, "failed_in_a_row": _failed_in_a_row(cycles)},
        "last_poll": max(polls) if polls else None,
        "last_successful_poll": max(successes) if successes else None,
        "last_digest": next((d for d in digests if d["status"] == "sent"), None),
        # Per topic, the newest digest written, a day in progress included (issue 18).
        "last_digests": _last_digests(digests, digest_dir, topics or sorted({d["topic"] for d in digests})),
        # Per source, entries first seen and how many are backlog (never in a digest).
        "arrivals": {name: {"items": n, "backlog": b} for name, (n, b) in store.source_arrivals().items()},
        "digests_pending": [d for d in digests if d["status"] in ("sending", "resending", "failed")],
        "recipients": _recipients(store),
        # Issue 19: each channel's last delivery and failure (`channels` names the configured ones).
        "channels": channel_states(store, channels),
        "errors_last_24h": dict(errors),
        "processes": store.processes(),
        "broken_source_files": [str(e) for e in check_sources(sources_dir)] if sources_dir else [],
        # Items in a language a topic has no words for could never be tagged by it (issue 17).
        "languages_without_rules": _languages_without_rules(store, topic_objects),
    }


def _languages_without_rules(store: Store, topics: list | None) -> dict[str, dict[str, int]]:
    from pipeline.topics import languages_without_rules

    if not topics:
        return {}
    return {t: langs for t, langs in languages_without_rules(store.articles_by_language(), topics).items() if langs}


def _reasons(counts: dict[str, int]) -> list[str]:
    shown = [f"{'':<11}{reason}" + (f" ({n})" if n > 1 else "") for reason, n in list(counts.items())[:_REASONS_SHOWN]]
    if len(counts) > _REASONS_SHOWN:
        shown.append(f"{'':<11}and {len(counts) - _REASONS_SHOWN} more reasons (`status --json` lists them all)")
    return shown


def format_status(status: dict) -> str:
    lines = [f"database: {status['database']} (schema v{status['schema_version']})"]
    if status["store_problem"]:
        lines.append(f"store: {status['store_problem']}: nothing can be recorded, the service is paused")
    health = ", ".join(f"{n} {h}" for h, n in sorted(status["feeds_by_health"].items())) or "none"
    lines.append(f"feeds: {len(status['feeds'])} ({health})")
    e = status["entries"]
    lines.append(f"entries: {e['entries']} (done {e['done']}, tagged {e['tagged']}, failed {e['failed']}); "
                 f"queue depth {status['queue_depth']}")
    lines.append(f"last poll: {status['last_poll'] or 'never'}; last successful: "
                 f"{status['last_successful_poll'] or 'never'}")
    cycle = status["cycles"]["last"]
    if cycle:
        failed = status["cycles"]["failed_in_a_row"]
        last_cycle = "last recorded cycle (the store is not writable)" if status["store_problem"] else "last cycle"
        lines.append(f"{last_cycle}: {cycle['outcome']} at {cycle['finished_at']}"
                     + (f" ({failed} failed in a row; {cycle['error']})" if failed else "")
                     + (f"; {cycle['unit_failures']} units failed internally" if cycle["unit_failures"] else ""))
    last = status["last_digest"]
    if status.get("last_digests"):
        for topic, d in status["last_digests"].items():
            lines.append(f"last digest: {topic} {d['day']} ({d['status']}{', ' + d['at'] if d['at'] else ''})"
                         + (f" in {d['location']}" if d["location"] else ""))
    else:
        lines.append("last digest: " + (f"{last['topic']} {last['day']} via {last['channel']} at "
                                        f"{last['delivered_at']}" if last else "none"))
    for topic, langs in status.get("languages_without_rules", {}).items():
        lines.append(f"no rules in topic {topic} for: " + ", ".join(f"{lang} ({n} items)" for lang, n in langs.items()))
    backlog = {name: a for name, a in status.get("arrivals", {}).items() if a["backlog"]}
    if backlog:
        lines.append("backlog (stored and searchable, never in a digest): " + ", ".join(
            f"{name}: {a['items']} items, {a['backlog']} backlog" for name, a in backlog.items()))
    for d in status["digests_pending"]:
        lines.append(f"  digest {d['topic']} {d['day']} via {d['channel']}: {d['status']} after {d['attempts']} "
                     f"attempts ({d['last_error'] or 'no error recorded'})")
    for c in status.get("channels", []):
        lines.append(f"  channel {c['channel']}: {describe_state(c)}")
    for r in status.get("recipients", []):
        last = r["last"]
        got = f"last got {r['last_sent']['topic']} {r['last_sent']['day']} at {r['last_sent']['delivered_at']}" \
            if r["last_sent"] else "never got a digest"
        now = "" if last["status"] == "sent" else \
            f"; {last['topic']} {last['day']}: {last['status']} ({last['last_error'] or 'no reply recorded'})"
        lines.append(f"  recipient {r['recipient']}: {got}{now}")
    if status["failed_entries"]:
        lines.append("entries whose last attempt failed (newest first):")
    for e in status["failed_entries"]:
        when = "given up" if e["state"] == "failed" else f"retry {e['next_attempt_at']}"
        lines.append(f"  {e['source']} {e['url']}: {e['last_error']} ({e['attempts']} attempts, {when})")
    if status["errors_last_24h"]:
        lines.append("errors in the last 24 h: " + ", ".join(
            f"{kind} {n}" for kind, n in sorted(status["errors_last_24h"].items())))
    for p in status.get("processes", []):
        lines.append(f"process {p['id']} ({p['role']}): holds {p['feeds_held']} feeds, {p['entries_held']} entries; "
                     f"seen {p['seen_at']}")
    if status["broken_source_files"]:
        lines.append(f"source files that do not load: {len(status['broken_source_files'])}")
        lines += [f"  {error}" for error in status["broken_source_files"]]
    lines.append("")
    width = max((len(f["source"]) for f in status["feeds"]), default=6)
    for f in status["feeds"]:
        detail = f"{f['items_seen']} items"
        if f["health"] in ("failing", "gone"):
            kind = f["last_error_kind"] + (f" in {f['last_error_stage']}" if f["last_error_stage"] else "")
            detail = f"{f['failures']} failures, {kind}: {f['last_error']}"
        lines.append(f"{f['health']:<8} {f['source']:<{width}}  {f['current_url']}  [{detail}]  "
                     f"next {f['next_poll_at'] or '-'}")
        if f["entries_without_link"]:
            lines.append(f"{'':<9}{sum(f['entries_without_link'].values())} stored from the feed's text, without "
                         "a usable link:")
            lines += _reasons(f["entries_without_link"])
        if f["entries_skipped"]:
            lines.append(f"{'':<9}{sum(f['entries_skipped'].values())} skipped in its last body:")
            lines += _reasons(f["entries_skipped"])
    return "\n".join(lines)


def _recipients(store: Store) -> list[dict]:
    """Each recipient's latest email delivery row, and their latest successful one."""
    found: dict[str, dict] = {}
    for row in store.digest_recipients():  # newest day first
        entry = found.setdefault(row["recipient"], {"recipient": row["recipient"], "last": row, "last_sent": None})
        if entry["last_sent"] is None and row["status"] == "sent":
            entry["last_sent"] = row
    return sorted(found.values(), key=lambda r: r["recipient"])
