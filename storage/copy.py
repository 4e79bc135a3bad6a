"""Moving a campaign from its SQLite file to PostgreSQL: every row of every table, in one transaction.

Both databases are first brought to the same schema version by their migrations,
so every column of the source exists in the target. The target must hold nothing
yet but what migrations create (the zeroed counters): a copy never merges two
campaigns. Ids are kept (deliveries and milestones point at broadcasts by id) and
the target's identity sequences are moved past them.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import SqliteDatabase, StorageError
from storage.postgres import PostgresDatabase, reset_identity_in

BATCH = 1000
_SKIPPED = ("schema_migrations",)
# Rows the migrations themselves insert: replaced by the source's.
_SEEDED = "counters"


@dataclass(frozen=True)
class Copied:
    tables: dict[str, int]  # table -> rows copied, in copy order

    @property
    def total(self) -> int:
        return sum(self.tables.values())


async def copy_sqlite_to_postgres(source: SqliteDatabase, target: PostgresDatabase) -> Copied:
    tables = await _tables_in_order(source)
    async with target.transaction() as tx:
        for table in tables:
            row = await tx.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 - names from sqlite_master
            seeded = table == _SEEDED and await tx.fetchone("SELECT 1 FROM counters WHERE value <> 0") is None
            if row is not None and int(row["n"]) and not seeded:
                raise StorageError(
                    f"the PostgreSQL database already holds data (table {table}): copy into an empty one"
                )
        copied: dict[str, int] = {}
        for table in tables:
            async with source.read() as read:
                columns = [str(c["name"]) for c in await read.fetchall(f"PRAGMA table_info({table})")]
                rows = await read.fetchall(f"SELECT * FROM {table}")  # noqa: S608
            if table == _SEEDED:
                await tx.execute(f"DELETE FROM {table}")  # noqa: S608
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            values = [tuple(r[c] for c in columns) for r in rows]
            for start in range(0, len(values), BATCH):
                await tx.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                    values[start : start + BATCH],
                )
            if "id" in columns:
                await reset_identity_in(tx, table)
            copied[table] = len(values)
    return Copied(copied)


async def _tables_in_order(source: SqliteDatabase) -> list[str]:
    """Tables a foreign key points at come before the tables pointing at them."""
    async with source.read() as read:
        names = [
            str(r["name"])
            for r in await read.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if r["name"] not in _SKIPPED
        ]
        parents = {
            name: {str(fk["table"]) for fk in await read.fetchall(f"PRAGMA foreign_key_list({name})")} for name in names
        }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= {*ordered, n}]
        if not ready:
            raise StorageError("the tables' foreign keys form a cycle")
        ordered += ready
    return ordered
