"""`newswatch db copy`: move a store to the other backend, row for row.

Tables go parents first, in primary-key order and in batches, each batch upserted in one
transaction: an interrupted copy leaves whole batches behind, and running it again rewrites the
same rows, so it is safe to repeat. The columns copied are those both sides have; what only one
backend keeps is rebuilt there (PostgreSQL's search vectors, SQLite's FTS index via its triggers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from psycopg import sql

from . import fts
from .postgres import PostgresStore
from .sqlite import Store as SqliteStore

# parents first: articles, tags and feedback point at entries
TABLES: dict[str, tuple[str, ...]] = {
    "sources": ("name",),
    "feeds": ("id",),
    "entries": ("id",),
    "articles": ("entry_id",),
    "tags": ("entry_id", "topic"),
    "feedback": ("entry_id", "topic"),
    "reads": ("entry_id",),
    "digests": ("topic", "day", "channel", "kind"),
    "digest_recipients": ("topic", "day", "kind", "recipient"),
    "deliveries": ("channel", "kind", "key"),
    "visits": ("id",),
    "saved_searches": ("name",),
    "events": ("id",),
    "boilerplate": ("source", "fingerprint"),
    "cycles": ("id",),
}
IDENTITY_TABLES = ("feeds", "entries", "events", "cycles")
# not copied: each store's own identity (a copy is another store), and SQLite's full-text index,
# which its triggers rebuild from the articles
NOT_COPIED = ("store_identity", "articles_fts")


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


class _Sqlite:
    def __init__(self, store: SqliteStore):
        self.db = store.db

    def columns(self, table: str) -> list[str]:
        return list(self.db[table].columns_dict)

    def count(self, table: str) -> int:
        return self.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]

    def batches(self, table: str, columns: list[str], size: int) -> Iterator[list[dict]]:
        order = ", ".join(f"[{c}]" for c in TABLES[table])
        cursor = self.db.execute(f"SELECT {', '.join(f'[{c}]' for c in columns)} FROM [{table}] ORDER BY {order}")
        while rows := cursor.fetchmany(size):
            yield [dict(zip(columns, row, strict=True)) for row in rows]

    def write(self, table: str, rows: list[dict]) -> None:
        with self.db.conn:
            self.db[table].upsert_all(rows, pk=TABLES[table])

    def finish(self) -> None:
        pass


class _Postgres:
    def __init__(self, store: PostgresStore):
        self.store = store

    def columns(self, table: str) -> list[str]:
        rows = self.store._rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s ORDER BY ordinal_position", [table], row=False)
        return [r[0] for r in rows]

    def count(self, table: str) -> int:
        return int(self.store._value(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))))

    def batches(self, table: str, columns: list[str], size: int) -> Iterator[list[dict]]:
        # keyset pagination: an OFFSET would read the skipped rows again for every batch
        key = TABLES[table]
        after: tuple | None = None
        select = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, columns)),
                                                       sql.Identifier(table))
        key_list = sql.SQL(", ").join(map(sql.Identifier, key))
        order = sql.SQL(" ORDER BY {} LIMIT %s").format(key_list)
        later = sql.SQL(" WHERE ({}) > ({})").format(key_list, sql.SQL(", ").join(sql.Placeholder() * len(key)))
        while True:
            query = select + (later if after is not None else sql.SQL("")) + order
            rows = self.store._rows(query, [*(after or ()), size])
            if not rows:
                return
            yield rows
            after = tuple(rows[-1][k] for k in key)

    def write(self, table: str, rows: list[dict]) -> None:
        columns = list(rows[0])
        key = TABLES[table]
        updates = [sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c not in key]
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {}").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)), sql.SQL(", ").join(map(sql.Identifier, key)),
            sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(updates)) if updates else sql.SQL("DO NOTHING"))
        with self.store.transaction(), self.store._conn() as conn:
            conn.cursor().executemany(query, [[r[c] for c in columns] for r in rows])
            if table == "articles":
                configs = self.store._configs
                conn.cursor().executemany(
                    "UPDATE articles SET ts_config = %s::regconfig, tsv = setweight(to_tsvector(%s::regconfig, %s), "
                    "'A') || to_tsvector(%s::regconfig, %s) WHERE entry_id = %s",
                    [(c, c, fts.index_text(r.get("title") or ""), c, fts.index_text(r.get("text") or ""),
                      r["entry_id"]) for r in rows for c in [fts.ts_config(r.get("language"), configs)]],
                )

    def finish(self) -> None:
        # rows came with their ids: the identity sequences must continue after the highest
        with self.store.transaction(), self.store._conn() as conn:
            for table in IDENTITY_TABLES:
                conn.execute(sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({name}, 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
                ).format(name=sql.Literal(table), table=sql.Identifier(table)))


def _side(store: object) -> _Sqlite | _Postgres:
    if isinstance(store, PostgresStore):
        return _Postgres(store)
    if isinstance(store, SqliteStore):
        return _Sqlite(store)
    raise TypeError(f"cannot copy a {type(store).__name__}")


def copy_store(source: object, target: object, *, batch: int = 1000,
               progress: Callable[[int], None] | None = None) -> list[TableCount]:
    """Copy every table of `source` into `target`; returns the row counts of both, per table."""
    src, dst = _side(source), _side(target)
    for table in TABLES:
        columns = [c for c in src.columns(table) if c in set(dst.columns(table))]
        for rows in src.batches(table, columns, batch):
            dst.write(table, rows)
            if progress:
                progress(len(rows))
    dst.finish()
    return [TableCount(table, src.count(table), dst.count(table)) for table in TABLES]


def total_rows(store: object) -> int:
    side = _side(store)
    return sum(side.count(table) for table in TABLES)
