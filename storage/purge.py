"""Erasing personal data: one person's on /oublier, everyone's at the retention date, by one operation.

`erase_in` is the only place that knows where personal data lives, and both kinds
of erasure go through it, so a new personal table added here is erased by both:

- signatures (a name, under the person's pseudonym),
- news contacts (the address of their private chat),
- dialogues (a name typed so far) and language preferences,
- broadcast deliveries to their private chat (its address),
- the address of an admin's chat kept for a broadcast's progress message,
- the last choices they were offered (`storage/offers.py`), in their private chat or a
  group: their labels may show the person's name.

What stays is anonymous: the counters, the daily counts, the count history,
deliveries to groups, the audit log's short pseudonym tags. The transaction is
marked for scrubbing, so no copy of what it deleted stays in the database's files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.contacts import forget_contact_in, get_contact_in
from storage.db import Transaction
from storage.dialogues import delete_in
from storage.offers import forget_offers_in
from storage.preferences import forget_preferences
from storage.signatures import Signature, withdraw_in


@dataclass(frozen=True)
class Person:
    """Whom to erase: their pseudonym, and the private chat (with its dialogue key) they wrote from."""

    pseudonym: str
    transport: str
    chat_id: str
    owner: str  # the dialogue key of this person in that chat


@dataclass(frozen=True)
class PersonalRows:
    signatures: int
    contacts: int
    dialogues: int
    preferences: int
    deliveries: int = 0  # broadcast deliveries to private chats
    admin_chats: int = 0  # broadcasts that kept an admin's chat address for progress messages
    offers: int = 0  # the last choices offered in a chat (the console's and Matrix's numbered lists)

    @property
    def total(self) -> int:
        return self.signatures + self.contacts + self.dialogues + self.preferences + self.deliveries


@dataclass(frozen=True)
class Erasure:
    rows: PersonalRows
    signature: Signature | None = None  # the person's signature, as it was (to tell them what went)


async def erase_in(tx: Transaction, person: Person | None, now: dt.datetime, zone: dt.tzinfo = dt.UTC) -> Erasure:
    """Delete one person's personal data (a withdrawal for the count), or everyone's (`person` None).

    Everyone's: the counters keep their values, since they count signatures that
    were given; one person's: their signature is withdrawn and the count goes down.
    """
    tx.scrub()
    if person is None:
        return Erasure(
            PersonalRows(
                signatures=await tx.execute("DELETE FROM signatures"),
                contacts=await tx.execute("DELETE FROM contacts"),
                dialogues=await tx.execute("DELETE FROM dialogues"),
                preferences=await tx.execute("DELETE FROM preferences"),
                deliveries=await tx.execute("DELETE FROM deliveries WHERE chat_kind = 'private'"),
                admin_chats=await tx.execute(
                    "UPDATE broadcasts SET admin_transport = NULL, admin_chat_id = NULL, progress_message_id = NULL"
                    " WHERE admin_chat_id IS NOT NULL"
                ),
                offers=await forget_offers_in(tx, None),
            )
        )
    chats = {(person.transport, person.chat_id)}
    followed = await get_contact_in(tx, person.pseudonym)
    if followed is not None:
        chats.add((followed.transport, followed.chat_id))
    signature = await withdraw_in(tx, person.pseudonym, now, zone)
    deliveries = admin_chats = 0
    for transport, chat_id in sorted(chats):
        deliveries += await forget_private_deliveries_in(tx, transport, chat_id)
        admin_chats += await tx.execute(
            "UPDATE broadcasts SET admin_transport = NULL, admin_chat_id = NULL, progress_message_id = NULL"
            " WHERE admin_transport = ? AND admin_chat_id = ?",
            (transport, chat_id),
        )
    rows = PersonalRows(
        signatures=0 if signature is None else 1,
        contacts=await forget_contact_in(tx, person.pseudonym),
        dialogues=int(await delete_in(tx, person.owner)),
        preferences=await forget_preferences(tx, person.pseudonym),
        deliveries=deliveries,
        admin_chats=admin_chats,
        offers=await forget_offers_in(tx, person.pseudonym),
    )
    return Erasure(rows, signature)


async def count_personal_in(tx: Transaction) -> PersonalRows:
    """What `erase_in(tx, None, …)` would delete (the retention purge's dry run)."""

    async def count(sql: str) -> int:
        row = await tx.fetchone(sql)
        return 0 if row is None else int(row[0])

    return PersonalRows(
        signatures=await count("SELECT COUNT(*) FROM signatures"),
        contacts=await count("SELECT COUNT(*) FROM contacts"),
        dialogues=await count("SELECT COUNT(*) FROM dialogues"),
        preferences=await count("SELECT COUNT(*) FROM preferences"),
        deliveries=await count("SELECT COUNT(*) FROM deliveries WHERE chat_kind = 'private'"),
        admin_chats=await count("SELECT COUNT(*) FROM broadcasts WHERE admin_chat_id IS NOT NULL"),
        offers=await count("SELECT COUNT(*) FROM offers"),
    )


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
