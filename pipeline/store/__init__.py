"""The store: the schema and every query. No other package writes SQL.

In and out: the dataclasses of `pipeline.models` (`FeedItem`, `Article`, `Tag`) and the small
records defined here (`PendingEntry`, `FeedState`, `TaggedItem`, `EntryProblems`). The entries table is the durable
work queue: an entry stays pending until the transaction that stores its article and tags marks it
done.

One interface (`base.StoreProtocol`), two backends chosen by `[storage]` in the configuration:
`sqlite` (the embedded default, on sqlite-utils, one service per file) and `postgres` (psycopg 3,
many processes on many hosts sharing the work through leases). Callers open one with
`open_store(config)` and never learn which they got. Beside them: `fts` turns the `newswatch
search` syntax into PostgreSQL tsquery SQL, `copy` moves a store between the backends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Backend, StoreProtocol, StoreUnavailable
from .sqlite import (
    SCHEMA_VERSION,
    EntryProblems,
    FeedState,
    PendingEntry,
    QueueActivity,
    Store,
    StoreIdentity,
    TaggedItem,
    iso,
    parse_iso,
    utcnow,
)

if TYPE_CHECKING:
    from pipeline.config import Config

# `Store` keeps naming the SQLite class that code and tests construct by path; new code opens
# stores with `open_store` and annotates with `StoreProtocol`.
SqliteStore = Store


def open_store(config: Config, *, create: bool = True) -> StoreProtocol:
    """The configured store, migrated to the current schema; with `create=False` a SQLite file that
    is not there is an error (sqlite3.OperationalError), not a new empty store."""
    if config.storage.url:
        from .postgres import PostgresStore  # psycopg is only imported by those who use it

        return PostgresStore(
            config.storage.url, lease_seconds=config.storage.lease_seconds, claim_batch=config.storage.claim_batch
        )
    return _open_sqlite(config, create)


def _open_sqlite(config: Config, create: bool) -> StoreProtocol:
    """The SQLite store, or one line on why not: a path that cannot hold a database is the config's
    mistake (exit 2), a file that is not our database or is newer than us is the store's."""
    import sqlite3

    path = config.db_path
    if path.is_dir():
        raise config.error("storage.path", f"expected a database file; {path} is a directory")
    try:
        return SqliteStore(path, create=create)
    except OSError as exc:
        raise config.error("storage.path", f"cannot create the database at {path}: {exc.strerror or exc}") from None
    except sqlite3.OperationalError as exc:
        if "unable to open" in str(exc):
            raise config.error("storage.path", f"cannot open the database at {path}: {exc}") from None
        raise StoreUnavailable(f"{path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise StoreUnavailable(f"{path} is not a usable newswatch database ({exc}); restore a backup with "
                               "`newswatch db restore BACKUP`, or move it away to start afresh") from None
    except RuntimeError as exc:  # a schema newer than this newswatch
        raise StoreUnavailable(f"{exc}: upgrade newswatch, or restore an older backup") from None


def store_exists(config: Config) -> bool:
    """Whether there is a store to read: commands that only read must not create an empty one. A
    PostgreSQL database is the operator's to create, so it always counts as there."""
    return bool(config.storage.url) or config.db_path.exists()


__all__ = [
    "SCHEMA_VERSION",
    "Backend",
    "EntryProblems",
    "FeedState",
    "PendingEntry",
    "QueueActivity",
    "SqliteStore",
    "Store",
    "StoreIdentity",
    "StoreProtocol",
    "StoreUnavailable",
    "TaggedItem",
    "iso",
    "open_store",
    "parse_iso",
    "store_exists",
    "utcnow",
]
