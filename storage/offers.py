"""The last choices offered in a chat whose choices are a numbered list (the console, Matrix).

A row is keyed by the chat's pseudonym and names the asker by theirs: no platform id
is stored, and erasing a person (`storage/purge.py`) deletes the offers they were shown,
wherever they were shown. The body is the transport's (`bot/transports/offers.py`).
"""

from __future__ import annotations

from storage.db import Database, Transaction, to_db_time, utcnow


class OfferRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, chat: str) -> str | None:
        async with self.db.read() as tx:
            row = await tx.fetchone("SELECT body FROM offers WHERE chat = ?", (chat,))
        return None if row is None else str(row["body"])

    async def set(self, chat: str, asker: str | None, body: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO offers (chat, asker, body, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chat) DO UPDATE SET asker = excluded.asker, body = excluded.body,"
                " updated_at = excluded.updated_at",
                (chat, asker, body, to_db_time(utcnow())),
            )


async def forget_offers_in(tx: Transaction, asker: str | None) -> int:
    """The offers one person was shown (`asker` their pseudonym), or everyone's (None)."""
    if asker is None:
        return await tx.execute("DELETE FROM offers")
    return await tx.execute("DELETE FROM offers WHERE asker = ?", (asker,))
