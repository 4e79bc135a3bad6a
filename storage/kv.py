"""A small key-value table for single values: the Matrix sync token, the last count poll."""

from __future__ import annotations

from storage.db import Database, to_db_time, utcnow


class KeyValueRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        async with self._db.read() as tx:
            row = await tx.fetchone("SELECT value FROM kv WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set(self, key: str, value: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, to_db_time(utcnow())),
            )

    async def delete(self, key: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM kv WHERE key = ?", (key,))
