"""Contacts of supporters who opted in to milestone news: the only place a chat id of a person is kept.

A supporter without news has no row here, so the database then holds nothing that
leads back to their platform account. Broadcasts read the active rows; a chat the
platform reports gone is made inactive rather than deleted, so the supporter can
still see and erase it with /mesdonnees and /oublier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Database, Transaction, from_db_time, to_db_time


@dataclass(frozen=True)
class Contact:
    pseudonym: str
    transport: str
    chat_id: str
    language: str
    created_at: dt.datetime
    active: bool


async def get_contact_in(tx: Transaction, pseudonym: str) -> Contact | None:
    row = await tx.fetchone(
        "SELECT pseudonym, transport, chat_id, language, created_at, active FROM contacts WHERE pseudonym = ?",
        (pseudonym,),
    )
    if row is None:
        return None
    return Contact(
        pseudonym=row["pseudonym"],
        transport=row["transport"],
        chat_id=row["chat_id"],
        language=row["language"],
        created_at=from_db_time(row["created_at"]),
        active=bool(row["active"]),
    )


async def forget_contact_in(tx: Transaction, pseudonym: str) -> int:
    deleted = await tx.execute("DELETE FROM contacts WHERE pseudonym = ?", (pseudonym,))
    if deleted:
        tx.scrub()  # the chat's address must not survive in the database's files either
    return deleted


class ContactRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def follow(self, pseudonym: str, transport: str, chat_id: str, language: str, now: dt.datetime) -> bool:
        """Opt in (or back in) to news in this chat; False when already following there."""
        async with self._db.transaction() as tx:
            current = await get_contact_in(tx, pseudonym)
            if current is not None and current.active and (current.transport, current.chat_id) == (transport, chat_id):
                if current.language != language:
                    await tx.execute("UPDATE contacts SET language = ? WHERE pseudonym = ?", (language, pseudonym))
                return False
            await tx.execute(
                "INSERT INTO contacts (pseudonym, transport, chat_id, language, created_at, active)"
                " VALUES (?, ?, ?, ?, ?, 1)"
                " ON CONFLICT (pseudonym) DO UPDATE SET transport = excluded.transport, chat_id = excluded.chat_id,"
                " language = excluded.language, created_at = excluded.created_at, active = 1",
                (pseudonym, transport, chat_id, language, to_db_time(now)),
            )
        return True

    async def unfollow(self, pseudonym: str) -> bool:
        """Opt out: the row is deleted, not kept inactive, since it has no further use."""
        async with self._db.transaction() as tx:
            return await forget_contact_in(tx, pseudonym) > 0

    async def get(self, pseudonym: str) -> Contact | None:
        async with self._db.read() as tx:
            return await get_contact_in(tx, pseudonym)

    async def deactivate(self, transport: str, chat_id: str) -> int:
        """The platform says this chat is gone: stop sending there."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE contacts SET active = 0 WHERE transport = ? AND chat_id = ? AND active = 1",
                (transport, chat_id),
            )

    async def active_count(self) -> int:
        async with self._db.read() as tx:
            row = await tx.fetchone("SELECT COUNT(*) AS n FROM contacts WHERE active = 1")
        return 0 if row is None else int(row["n"])
