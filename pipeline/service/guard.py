"""The store under a running service stays the store it started with, or the service stops using it.

A database deleted, moved, replaced by another file or turned read-only under a running service
would otherwise be met with a new empty database at the same path (history, delivery ledger and
feedback gone, `health` green) or with cycles that fail without a trace, since the failure cannot
be written either. Before every job the runner asks `StoreGuard.check`, which costs a stat, one
row and a rolled-back write:

- another store (a different file at the path, a different store id): `StoreChanged`, and the
  service stops with one line (a restart takes the new store up knowingly);
- no store (the file is gone, the PostgreSQL tables are gone) or a read-only one: the reason, and
  every job pauses until it is back; `newswatch health` is red meanwhile, by its own checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pipeline.config import Config
from pipeline.store import StoreProtocol, open_store


class StoreChanged(Exception):
    """The store at the configured place is not the one the service started with."""


@dataclass(frozen=True)
class StoreGuard:
    config: Config
    identity: str
    file: tuple[int, int] | None  # SQLite: the database file's (device, inode)

    @classmethod
    def take(cls, config: Config, store: StoreProtocol) -> StoreGuard:
        """Remember the store the service starts with."""
        return cls(config, store.identity().id, _file_id(config) if config.backend == "sqlite" else None)

    def check(self) -> str | None:
        """None when the store is the one we started with and can be written; the reason to pause
        otherwise. Raises StoreChanged when another store has taken its place."""
        where = (self.config.storage.url and "the PostgreSQL store") or f"the database {self.config.db_path}"
        if self.file is not None:
            now = _file_id(self.config)
            if now is None:
                return f"{where} is gone (deleted or moved away)"
            if now != self.file:
                raise StoreChanged(f"{where} was replaced by another file (device/inode {self.file[0]}/"
                                   f"{self.file[1]}, now {now[0]}/{now[1]})")
        try:
            store = open_store(self.config, create=False)
        except Exception as exc:
            return f"{where} cannot be opened: {type(exc).__name__}: {exc}"
        with store:
            try:
                identity = store.identity().id
            except Exception as exc:  # its tables are gone: a dropped and re-created database
                return f"{where} has lost its tables ({type(exc).__name__}: {exc})"
            if identity != self.identity:
                raise StoreChanged(f"{where} is another store now (id {identity}, started with {self.identity})")
            problem = store.write_problem()
        return f"{where} is {problem}" if problem else None


def _file_id(config: Config) -> tuple[int, int] | None:
    try:
        info = os.stat(config.db_path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino
