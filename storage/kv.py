"""A small key-value table for single values: the Matrix sync token, the last count poll."""

from __future__ import annotations

import datetime as dt

from storage.db import Database, Transaction, to_db_time, utcnow


async def get_in(tx: Transaction, key: str) -> str | None:
    row = await tx.fetchone("SELECT value FROM kv WHERE key = ?", (key,))
    return None if row is None else str(row["value"])


async def set_in(tx: Transaction, key: str, value: str, at: dt.datetime | None = None) -> None:
    """Set a value inside a caller's transaction (e.g. the official count with its history and audit row)."""
    await tx.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, to_db_time(at or utcnow())),
    )


class KeyValueRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        async with self.db.read() as tx:
            return await get_in(tx, key)

    async def set(self, key: str, value: str) -> None:
        async with self.db.transaction() as tx:
            await set_in(tx, key, value)

    async def delete(self, key: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM kv WHERE key = ?", (key,))
