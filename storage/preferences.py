"""Per-user preferences (the language), keyed by pseudonym."""

from __future__ import annotations

from storage.db import Database, Transaction, to_db_time, utcnow


class PreferenceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def language(self, pseudonym: str) -> str | None:
        async with self._db.read() as tx:
            row = await tx.fetchone("SELECT language FROM preferences WHERE pseudonym = ?", (pseudonym,))
        return None if row is None else str(row["language"])

    async def set_language(self, pseudonym: str, language: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO preferences (pseudonym, language, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (pseudonym) DO UPDATE SET language = excluded.language,"
                " updated_at = excluded.updated_at",
                (pseudonym, language, to_db_time(utcnow())),
            )


async def forget_preferences(tx: Transaction, pseudonym: str) -> int:
    deleted = await tx.execute("DELETE FROM preferences WHERE pseudonym = ?", (pseudonym,))
    if deleted:
        tx.scrub()
    return deleted
