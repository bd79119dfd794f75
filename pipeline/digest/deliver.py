"""Deliver digests as files and email, each (topic, day, channel, kind) exactly once.

The digests table is the ledger. Email follows a claim-send-record protocol:

1. claim: the record moves to "sending" (or "resending") with the stable Message-ID, in one
   compare-and-set statement, so two deliverers can never both send;
2. send over SMTP;
3. record "sent", or "failed" with a backed-off next_attempt_at.

A crash between 2 and 3 leaves "sending" behind. Once its lease has run out, the next
`deliver_due` sends it again as "resending", with the same Message-ID and a resend header: at most
one extra copy, which clients can recognise. A "resending" record left behind again is not
retried automatically; it fails with a note to check the inbox and use `newswatch digest --resend`.

Files are idempotent (atomic replace of the same paths), so they need no protocol: written, then
recorded "sent". A day's files are only recorded once the day is over, so an early manual
`newswatch digest` never stops the scheduled run from writing the complete day.

A digest (topic, day, kind) on one channel is a unit of work: an unexpected exception while
building, rendering or delivering it is recorded against its record as an "internal" failure of
that stage and retried with the same backoff as a failed email; the other digests go on. Only
the database itself failing ends the run.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import StageError, UnitFailure
from pipeline.retry import backoff_seconds
from pipeline.store import Store, parse_iso, utcnow

from .build import SO_FAR, Digest, build_digest
from .common import plural
from .days import due_at, due_days, weekly_due, window
from .mailer import MailError, build_message, message_id, send
from .render import FILE_NAMES, render

log = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 12  # with the backoff below: about a day of trying
RETRY_BASE_SECONDS, RETRY_CAP_SECONDS = 120.0, 6 * 3600.0
ROLLING_FEED_DAYS = 7
LEASE_SECONDS = 300.0  # a claimed send not renewed for this long is taken for dead and sent again
RENEW_SECONDS = 20.0  # how often a send in progress pushes its lease forward
DONE = ("sent", "skipped", "acknowledged")  # acknowledged: given up, and a person said so (`digest --ack`)
IN_FLIGHT = ("sending", "resending")

# The service runs its digest jobs on a thread pool; one deliverer per process at a time keeps the
# log readable. Other processes are kept out by the compare-and-set claim, not by this lock.
_one_at_a_time = threading.Lock()


@dataclass(frozen=True)
class DeliveryOutcome:
    topic: str
    day: date  # the first day the digest covers
    kind: str  # daily, weekly
    channel: str  # files, email
    status: str  # sent, written (files for a day not yet over), failed, skipped
    detail: str = ""  # the folder written, the error, or why nothing was done
    message_id: str | None = None
    items: int = 0

    def __str__(self) -> str:
        kind = "" if self.kind == "daily" else f"{self.kind} "
        return f"{self.topic} {kind}{self.day.isoformat()} via {self.channel}: {self.status}" + (
            f" — {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class _Job:
    topic: str
    start: date
    kind: str

    @property
    def days(self) -> int:
        return 7 if self.kind == "weekly" else 1

    @property
    def day(self) -> str:
        return self.start.isoformat()


# -- the two entry points -----------------------------------------------------------------------

def deliver_due(store: Store, config: Config, now: datetime) -> list[DeliveryOutcome]:
    """Deliver every digest that is due and not yet delivered, and retry failed emails whose time has come.

    Called every few minutes and once at start-up; doing nothing is the common case and is cheap.
    """
    with _one_at_a_time:
        outcomes: list[DeliveryOutcome] = []
        for job, channels in _due_jobs(store, config, now).items():
            try:
                digest = build_digest(store, config, job.topic, job.start, days=job.days, kind=job.kind, now=now)
            except Exception as exc:
                outcomes += [_internal(store, job, channel, "build", exc, now) for channel in channels]
                continue
            rendered = _Renderings(digest)
            for channel in channels:
                try:
                    if channel == "files":
                        outcomes.append(_files(store, config, digest, rendered, now, record=True))
                    else:
                        outcomes.append(_email(store, config, digest, rendered, now, resend=False))
                except Exception as exc:
                    outcomes.append(_internal(store, job, channel, channel, exc, now))
        for outcome in outcomes:
            (log.warning if outcome.status == "failed" else log.info)("digest %s", outcome)
        return outcomes


def _internal(store: Store, job: _Job, channel: str, stage: str, exc: Exception, now: datetime) -> DeliveryOutcome:
    """A digest whose building or delivery raised: recorded failed with the stage and the exception,
    and retried with backoff like a failed email. Compare-and-set, so a record another deliverer
    changed meanwhile is left to it."""
    if store.is_storage_failure(exc):
        raise exc
    failure = UnitFailure.of(stage, exc)
    record = store.digest_record(job.topic, job.day, channel, job.kind)
    claimed_now = record is not None and record["status"] in IN_FLIGHT  # _email counted this attempt already
    attempts = ((record and record["attempts"]) or 0) + (0 if claimed_now else 1)
    retry = _retry_at(now, attempts)
    store.claim_digest(job.topic, job.day, channel, job.kind, record, status="failed", attempts=attempts,
                       last_error=f"internal: {failure}", last_error_kind=failure.kind,
                       last_error_stage=failure.stage, next_attempt_at=retry,
                       created_at=(record and record["created_at"]) or now)
    when = f"retry at {retry.isoformat(timespec='minutes')}" if retry else f"gave up after {attempts} attempts"
    return DeliveryOutcome(topic=job.topic, day=job.start, kind=job.kind, channel=channel, status="failed",
                           detail=f"internal error: {failure}; {when}")


def make_digest(store: Store, config: Config, day: date | None = None, *, resend: bool = False,
                send: bool = False, now: datetime | None = None) -> list[DeliveryOutcome]:
    """`newswatch digest`: (re)write the day's files now, and email it if that is still owed.

    The day defaults to today so far. Email goes out when the digest is due (the day is over and
    its digest time has come: items processed until then still belong to it) and was not sent yet.
    `send` sends it now even before then, as a normal message: a day not over goes out as "so far"
    (its own record and Message-ID), and the complete day still follows at the digest time (the
    digest channels: `pipeline.alerts.deliver_digests`). `resend` is for a day already sent: the
    same Message-ID, marked as a resend. An empty digest with `empty_day = "skip"` is skipped here as by the service.
    """
    now = now or utcnow()
    day = day or now.astimezone(config.tz).date()
    over = due_at(day, config.digest) <= now
    outcomes = []
    with _one_at_a_time:
        for topic in config.digest.topics:
            digest = build_digest(store, config, topic, day, now=now)
            rendered = _Renderings(digest)
            if config.digest.formats:
                if digest.empty and config.digest.empty_day == "skip" and not over:
                    outcomes.append(_outcome(digest, "files", "skipped", 'nothing yet (empty_day = "skip")'))
                else:
                    outcomes.append(_files(store, config, digest, rendered, now, record=over))
            if (send or resend) and not over:
                digest = build_digest(store, config, topic, day, kind=SO_FAR, now=now)
                rendered = _Renderings(digest)
            if not config.email.enabled:
                continue
            if resend:
                record = store.digest_record(topic, day.isoformat(), "email", digest.kind)
                if record is None or not record["message_id"]:
                    outcomes.append(_outcome(digest, "email", "skipped", "never sent, so not resent; "
                                             "`newswatch digest --send` sends it"))
                    continue
            if over or resend or send:
                outcomes.append(_email(store, config, digest, rendered, now, resend=resend))
            else:
                outcomes.append(_outcome(digest, "email", "skipped", "not due yet; the service sends it at "
                                         f"{config.digest.time} after the day ends (or use --send now)"))
    return outcomes


# -- what is due --------------------------------------------------------------------------------

def channels(config: Config) -> list[str]:
    return [*(["files"] if config.digest.formats else []), *(["email"] if config.email.enabled else [])]


def _needs_delivery(record: dict | None, now: datetime) -> bool:
    if record is None:
        return True
    status, next_at = record["status"], parse_iso(record["next_attempt_at"])
    if status in DONE:
        return False
    if status == "failed":
        return next_at is not None and next_at <= now  # None: given up, only a manual run sends it
    if status in IN_FLIGHT:
        return next_at is None or next_at <= now  # the lease ran out: the sender died mid-send
    return True


def _due_jobs(store: Store, config: Config, now: datetime) -> dict[_Job, list[str]]:
    wanted = channels(config)
    first_seen = store.first_discovered_at()
    jobs: dict[_Job, list[str]] = {}
    if not wanted or first_seen is None:
        return jobs

    def add(job: _Job, channel: str) -> None:
        if channel not in jobs.setdefault(job, []):
            jobs[job].append(channel)

    for topic in config.digest.topics:
        # After downtime every missed day is delivered, back to `catch_up_days`; what lies beyond
        # is said in the log, never dropped in silence.
        days = due_days(now, config.digest, config.digest.catch_up_days)
        _note_cut(store, config, topic, days[0] - timedelta(days=1), wanted, first_seen)
        candidates = [_Job(topic, day, "daily") for day in days]
        if config.digest.weekly:
            candidates.append(_Job(topic, weekly_due(now, config.digest), "weekly"))
        for job in candidates:
            # Nothing was being watched before the first entry: no "nothing today" for a fresh install.
            if window(job.start, job.days, config.tz)[1] <= first_seen:
                continue
            for channel in wanted:
                if _needs_delivery(store.digest_record(topic, job.day, channel, job.kind), now):
                    add(job, channel)
    # Retries are not limited to the catch-up window: a failed email is owed whatever its age.
    for record in store.digest_records():
        if (record["status"] not in DONE and record["topic"] in config.digest.topics
                and record["channel"] in wanted and _needs_delivery(record, now)):
            add(_Job(record["topic"], date.fromisoformat(record["day"]), record["kind"]), record["channel"])
    return jobs


_cuts_noted: set[tuple[str, date]] = set()  # one log line per day the bound leaves out, not one per check


def _note_cut(store: Store, config: Config, topic: str, day: date, wanted: list[str], first_seen: datetime) -> None:
    """Log the newest day the catch-up bound leaves out, if it was watched and never delivered."""
    if (topic, day) in _cuts_noted or window(day, 1, config.tz)[1] <= first_seen:
        return
    records = [store.digest_record(topic, day.isoformat(), channel, "daily") for channel in wanted]
    if all(record and record["status"] in DONE for record in records):
        return
    _cuts_noted.add((topic, day))
    log.warning("digest %s %s and any missed day before it are older than [digest] catch_up_days = %d and "
                "are not delivered automatically; `newswatch digest --date %s` builds one by hand",
                topic, day.isoformat(), config.digest.catch_up_days, day.isoformat())


# -- channels -----------------------------------------------------------------------------------

class _Renderings:
    """Each format rendered at most once per digest, however many channels use it."""

    def __init__(self, digest: Digest):
        self.digest = digest
        self._done: dict[str, str] = {}

    def __getitem__(self, fmt: str) -> str:
        if fmt not in self._done:
            try:
                self._done[fmt] = render(self.digest, fmt)
            except Exception as exc:
                raise StageError(UnitFailure.of("render", exc)) from exc
        return self._done[fmt]


def _outcome(digest: Digest, channel: str, status: str, detail: str = "", msg_id: str | None = None
             ) -> DeliveryOutcome:
    return DeliveryOutcome(topic=digest.topic, day=digest.start, kind=digest.kind, channel=channel,
                           status=status, detail=detail, message_id=msg_id,
                           items=len(digest.stories) + len(digest.mentions))


def _retry_at(now: datetime, attempts: int) -> datetime | None:
    if attempts >= MAX_EMAIL_ATTEMPTS:
        return None
    return now + timedelta(seconds=backoff_seconds(attempts, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS))


def _skip_empty(store: Store, digest: Digest, channel: str, now: datetime) -> DeliveryOutcome:
    store.save_digest_record(digest.topic, digest.start.isoformat(), channel, digest.kind, status="skipped",
                             items=0, next_attempt_at=None, last_error=None, created_at=now)
    return _outcome(digest, channel, "skipped", f"nothing on {digest.period} (empty_day = \"skip\")")


def _files(store: Store, config: Config, digest: Digest, rendered: _Renderings, now: datetime, *,
           record: bool, always: bool = False) -> DeliveryOutcome:
    key = (digest.topic, digest.start.isoformat(), "files", digest.kind)
    if digest.empty and config.digest.empty_day == "skip" and not always:
        return _skip_empty(store, digest, "files", now)
    previous = store.digest_record(*key) or {}
    attempts = (previous.get("attempts") or 0) + 1
    folder = digest_folder(config, digest)
    try:
        write_files(folder, {FILE_NAMES[f]: (lambda f=f: rendered[f]) for f in config.digest.formats})
        if "atom" in config.digest.formats and digest.kind == "daily":
            _write_rolling_feed(store, config, digest, now)
    except OSError as exc:
        if record:
            store.save_digest_record(*key, status="failed", attempts=attempts, last_error=str(exc),
                                     next_attempt_at=_retry_at(now, attempts), location=str(folder))
        return _outcome(digest, "files", "failed", f"cannot write {folder}: {exc}")
    if not record:
        return _outcome(digest, "files", "written", f"{folder} (not due yet: rewritten when it is)")
    store.save_digest_record(*key, status="sent", attempts=attempts, location=str(folder), last_error=None,
                             last_error_kind=None, last_error_stage=None, next_attempt_at=None,
                             items=len(digest.stories) + len(digest.mentions),
                             created_at=previous.get("created_at") or now, delivered_at=now)
    return _outcome(digest, "files", "sent", str(folder))


def _email(store: Store, config: Config, digest: Digest, rendered: _Renderings, now: datetime, *,
           resend: bool) -> DeliveryOutcome:
    day = digest.start.isoformat()
    key = (digest.topic, day, "email", digest.kind)
    record = store.digest_record(*key)
    status = record["status"] if record else None
    lease_over = record is not None and _needs_delivery(record, now)
    if not resend:
        if status in DONE:
            when = record["delivered_at"] or record["created_at"]
            return _outcome(digest, "email", "skipped", f"already {status} at {when}; use --resend to send it again",
                            record["message_id"])
        if status in IN_FLIGHT and not lease_over:
            return _outcome(digest, "email", "skipped", "another run is sending it now", record["message_id"])
        if status == "resending":
            return _give_up_resend(store, digest, record, now)
        if digest.empty and config.digest.empty_day == "skip":
            return _skip_empty(store, digest, "email", now)

    again = resend or status == "sending"  # a "sending" left behind may have reached the inbox
    msg_id = (record and record["message_id"]) or message_id(digest.topic, day, digest.kind, config.email.sender)
    attempts = ((record and record["attempts"]) or 0) + 1
    lease = timedelta(seconds=max(LEASE_SECONDS, 4 * config.email.timeout))
    started = time.monotonic()
    claim = dict(status="resending" if again else "sending", attempts=attempts)
    claimed = store.claim_digest(
        *key, record, **claim, message_id=msg_id, next_attempt_at=now + lease,
        items=len(digest.stories) + len(digest.mentions), created_at=(record and record["created_at"]) or now,
    )
    if not claimed:
        return _outcome(digest, "email", "skipped", "another run claimed it first", msg_id)

    # Recipients who already have this digest are not sent it again, unless a person asked (--resend).
    previous = {r["recipient"]: r for r in store.digest_recipients(digest.topic, day, digest.kind)}
    already = set() if resend else {r for r, row in previous.items() if row["status"] in ("sent", "refused")}
    pending = [r for r in config.email.recipients if r not in already]
    message = build_message(digest, rendered["text"], rendered["html"], config.email, msg_id, resend=again)
    try:
        refused = _send_renewing(store, key, claim, message, config, pending, now, started, lease) if pending else {}
    except MailError as exc:
        retry = _retry_at(now, attempts)
        if exc.refused:  # every recipient refused; a server down or a failed login is the digest's alone
            _record_recipients(store, digest, previous, now, [], exc.refused, temporary=True)
        store.save_digest_record(*key, status="failed", last_error=str(exc), next_attempt_at=retry)
        when = f"retry at {retry.astimezone(config.tz):%Y-%m-%d %H:%M %Z}" if retry else \
            f"gave up after {attempts} attempts; use `newswatch digest --date {day} --resend`"
        return _outcome(digest, "email", "failed", f"{exc}; {when}", msg_id)
    accepted = [r for r in pending if r not in refused]
    later = {r: reply for r, reply in refused.items() if 400 <= reply[0] < 500}  # 4xx: try again later
    _record_recipients(store, digest, previous, now, accepted, refused, temporary=False)
    sent = (f"{'resent' if again else 'sent'} to {plural(len(accepted), 'recipient')} as {msg_id}" if pending
            else f"every recipient already had {msg_id}")
    if later:
        retry = _retry_at(now, attempts)
        note = "temporarily refused: " + "; ".join(f"{r} ({_reply(refused[r])})" for r in sorted(later))
        store.save_digest_record(*key, status="failed", last_error=note, next_attempt_at=retry,
                                 last_error_kind="recipient", last_error_stage="email")
        when = (f"retried for them alone at {retry.astimezone(config.tz):%Y-%m-%d %H:%M %Z}" if retry else
                f"gave up after {attempts} attempts; use `newswatch digest --date {day} --resend`")
        return _outcome(digest, "email", "failed", f"{sent}; {note}; {when}", msg_id)
    refused_note = ("refused by the server: " + ", ".join(f"{r} ({_reply(refused[r])})" for r in sorted(refused))
                    if refused else None)
    store.save_digest_record(*key, status="sent", delivered_at=now, next_attempt_at=None, last_error=refused_note,
                             last_error_kind=None, last_error_stage=None)
    return _outcome(digest, "email", "sent", sent + (f"; {refused_note}" if refused_note else ""), msg_id)


def _reply(reply: tuple[int, bytes | str]) -> str:
    code, text = reply
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(f"{code or ''} {text}".split())


def _record_recipients(store: Store, digest: Digest, previous: dict[str, dict], now: datetime,
                       accepted: list[str], refused: dict, *, temporary: bool) -> None:
    """One row per recipient of this send: sent, failed (4xx, or every recipient refused: retried)
    or refused (5xx while others got it: not retried)."""
    rows: dict[str, dict] = {}
    for recipient in accepted:
        rows[recipient] = {"status": "sent", "delivered_at": now, "last_error": None}
    for recipient, reply in refused.items():
        final = not temporary and reply[0] >= 500
        rows[recipient] = {"status": "refused" if final else "failed", "last_error": _reply(reply)}
    for recipient, row in rows.items():
        row.update(updated_at=now, attempts=((previous.get(recipient) or {}).get("attempts") or 0) + 1)
    store.save_digest_recipients(digest.topic, digest.start.isoformat(), digest.kind, rows)


def _send_renewing(store: Store, key: tuple[str, str, str, str], claim: dict, message, config: Config,
                   recipients: list[str], now: datetime, started: float, lease: timedelta) -> dict:
    """Send on a thread while this one keeps the claim's lease ahead of the clock, so a slow send
    is never taken for a dead one and sent a second time. The send itself is bounded by
    `[email] timeout` (mailer), so this ends."""
    done = threading.Event()
    result: dict = {}

    def work() -> None:
        try:
            result["refused"] = send(message, config.email, to=recipients)
        except BaseException as exc:  # handed to the caller's thread below
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="smtp-send", daemon=True).start()
    while not done.wait(RENEW_SECONDS):
        # `now` plus the time spent: the clock the deliverers agree on, even when a caller's `now` is not today
        moment = now + timedelta(seconds=time.monotonic() - started)
        if not store.claim_digest(*key, claim, next_attempt_at=moment + lease):
            log.warning("digest %s %s: the send claim was taken over while sending", key[0], key[1])
    if "error" in result:
        raise result["error"]
    return result["refused"]


def _give_up_resend(store: Store, digest: Digest, record: dict, now: datetime) -> DeliveryOutcome:
    """A resend that was itself interrupted: a third copy is worse than asking a person to look."""
    note = ("interrupted twice while sending; not sent again automatically: check the inbox, then "
            f"`newswatch digest --date {digest.start.isoformat()} --resend` if it is missing")
    store.claim_digest(digest.topic, digest.start.isoformat(), "email", digest.kind, record,
                       status="failed", next_attempt_at=None, last_error=note)
    return _outcome(digest, "email", "failed", note, record["message_id"])


# -- files --------------------------------------------------------------------------------------

def _safe_name(name: str) -> str:
    """A topic name as one path component: it must not climb out of the output folder."""
    cleaned = re.sub(r"[^\w.-]", "_", name).lstrip(".")
    return cleaned or "_"


def _write_rolling_feed(store: Store, config: Config, digest: Digest, now: datetime) -> None:
    """<output_dir>/<topic>/feed.xml: the last ROLLING_FEED_DAYS days' tagged items at one stable
    address, the one a feed reader subscribes to (each day's folder has its own feed.xml too)."""
    start = digest.end - timedelta(days=ROLLING_FEED_DAYS - 1)
    rolling = build_digest(store, config, digest.topic, start, days=ROLLING_FEED_DAYS, now=now)
    atomic_write(config.digest_dir / _safe_name(digest.topic) / FILE_NAMES["atom"], render(rolling, "atom"))


def digest_folder(config: Config, digest: Digest) -> Path:
    """One folder per day: <output_dir>/<topic>/<YYYY-MM-DD>/, or .../week-<first day>/ for weekly."""
    name = digest.start.isoformat() if digest.kind == "daily" else f"week-{digest.start.isoformat()}"
    return config.digest_dir / _safe_name(digest.topic) / name


def atomic_write(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one: temp file in the same folder, then rename."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide the digest from a web server serving the folder
        os.replace(temp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def write_files(folder: Path, contents: dict[str, Callable[[], str]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in contents.items():
        atomic_write(folder / name, text())
        written.append(folder / name)
    return written
