"""Erasing personal rows: everyone's at the retention date, or one chat's deliveries on /oublier.

Personal rows are those keyed by a person's pseudonym (signatures, news contacts,
open dialogues, language preferences) and the broadcast deliveries addressed to a
private chat, which hold that chat's id. What stays is anonymous: the counters,
the daily counts, the count history, deliveries to groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Transaction

# Table names are constants, never input.
PERSONAL_TABLES = ("signatures", "contacts", "dialogues", "preferences")


@dataclass(frozen=True)
class PersonalRows:
    signatures: int
    contacts: int
    dialogues: int
    preferences: int
    deliveries: int = 0  # broadcast deliveries to private chats

    @property
    def total(self) -> int:
        return self.signatures + self.contacts + self.dialogues + self.preferences + self.deliveries


async def count_personal_in(tx: Transaction) -> PersonalRows:
    counts = []
    for table in PERSONAL_TABLES:
        row = await tx.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 - constant table names
        counts.append(0 if row is None else int(row["n"]))
    row = await tx.fetchone("SELECT COUNT(*) AS n FROM deliveries WHERE chat_kind = 'private'")
    counts.append(0 if row is None else int(row["n"]))
    return PersonalRows(*counts)


async def erase_personal_in(tx: Transaction) -> PersonalRows:
    counts = [await tx.execute(f"DELETE FROM {table}") for table in PERSONAL_TABLES]  # noqa: S608
    counts.append(await tx.execute("DELETE FROM deliveries WHERE chat_kind = 'private'"))
    return PersonalRows(*counts)


async def forget_private_deliveries_in(tx: Transaction, transport: str, chat_id: str) -> int:
    """Broadcast deliveries to one person's private chat: the last place its id would remain."""
    return await tx.execute(
        "DELETE FROM deliveries WHERE transport = ? AND chat_id = ? AND chat_kind = 'private'", (transport, chat_id)
    )


async def count_private_deliveries_in(tx: Transaction, transport: str, chat_id: str) -> int:
    row = await tx.fetchone(
        "SELECT COUNT(*) AS n FROM deliveries WHERE transport = ? AND chat_id = ? AND chat_kind = 'private'",
        (transport, chat_id),
    )
    return 0 if row is None else int(row["n"])
