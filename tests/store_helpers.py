"""SQLite databases as an older newswatch left them, for the migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from pipeline.store.sqlite import MIGRATIONS


def old_database(path: Path, version: int, rows: dict[str, list[dict]]) -> Path:
    """A database at schema `version` holding `rows` (table -> rows), closed and ready to open."""
    db = sqlite_utils.Database(sqlite3.connect(path))
    for migrate in MIGRATIONS[:version]:
        migrate(db)
    db.execute(f"PRAGMA user_version = {version}")
    for table, records in rows.items():
        db[table].insert_all(records)
    db.conn.commit()
    db.close()
    return path
