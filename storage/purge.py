"""Erasing every personal row at once, for the retention purge after the campaign.

Personal rows are those keyed by a person's pseudonym: signatures, news contacts,
open dialogues and language preferences. What stays is anonymous: the counters,
the daily counts, the count history.
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

    @property
    def total(self) -> int:
        return self.signatures + self.contacts + self.dialogues + self.preferences


async def count_personal_in(tx: Transaction) -> PersonalRows:
    counts = []
    for table in PERSONAL_TABLES:
        row = await tx.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 - constant table names
        counts.append(0 if row is None else int(row["n"]))
    return PersonalRows(*counts)


async def erase_personal_in(tx: Transaction) -> PersonalRows:
    counts = [await tx.execute(f"DELETE FROM {table}") for table in PERSONAL_TABLES]  # noqa: S608
    return PersonalRows(*counts)
