"""`newswatch db backup` and `db restore` for the SQLite store, through SQLite's online backup API:
a consistent copy while the service runs and writes, WAL included, page by page."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .base import StoreUnavailable
from .sqlite import SCHEMA_VERSION

PAGES_PER_STEP = 1024  # the writer gets the database between steps


def backup_sqlite(database: Path, target: Path) -> int:
    """Copy `database` into the new file `target`; returns its size in bytes."""
    if target.exists():
        raise FileExistsError(f"{target} already exists: choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=PAGES_PER_STEP)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()
    return target.stat().st_size


def check_backup(backup: Path) -> int:
    """The schema version of a backup we can restore; raises StoreUnavailable for anything else."""
    if not backup.is_file():
        raise StoreUnavailable(f"{backup}: no such file")
    try:
        conn = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            (verdict,) = conn.execute("PRAGMA quick_check").fetchone()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreUnavailable(f"{backup} is not a SQLite database: {exc}") from None
    if verdict != "ok":
        raise StoreUnavailable(f"{backup} is damaged: {verdict}")
    if "entries" not in tables or not 1 <= version <= SCHEMA_VERSION:
        raise StoreUnavailable(f"{backup} is not a newswatch database this version can read "
                               f"(schema {version}, this newswatch {SCHEMA_VERSION})")
    return version


def restore_sqlite(backup: Path, database: Path) -> None:
    """Replace `database` with `backup`'s content, in place, through the backup API (so open
    readers and the WAL stay consistent). The caller holds the instance lock."""
    check_backup(backup)
    database.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    live = sqlite3.connect(database)
    try:
        source.backup(live, pages=PAGES_PER_STEP)
        live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        live.close()
        source.close()
