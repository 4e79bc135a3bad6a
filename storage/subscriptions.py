"""Group subscriptions, and the audiences of broadcasts (subscribed groups, followers who opted in)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from storage.db import Database, Transaction, to_db_time

MILESTONES = "milestones"
DAILY = "daily"
KINDS = (MILESTONES, DAILY)

GROUPS = "groups"
FOLLOWERS = "followers"
BOTH = "both"
AUDIENCES = (GROUPS, FOLLOWERS, BOTH)


@dataclass(frozen=True)
class Destination:
    """Where one delivery goes: a chat on a transport, in the language it reads."""

    transport: str
    chat_id: str
    kind: str  # "group" or "private"
    language: str


class SubscriptionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def subscribe(
        self, transport: str, chat_id: str, kinds: Collection[str], language: str, now: dt.datetime
    ) -> None:
        async with self._db.transaction() as tx:
            for kind in kinds:
                await tx.execute(
                    "INSERT INTO subscriptions (transport, chat_id, kind, language, created_at, active)"
                    " VALUES (?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT (transport, chat_id, kind) DO UPDATE SET active = 1, language = excluded.language",
                    (transport, chat_id, kind, language, to_db_time(now)),
                )

    async def unsubscribe(self, transport: str, chat_id: str) -> int:
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE subscriptions SET active = 0 WHERE transport = ? AND chat_id = ? AND active = 1",
                (transport, chat_id),
            )

    async def kinds(self, transport: str, chat_id: str) -> list[str]:
        async with self._db.read() as tx:
            rows = await tx.fetchall(
                "SELECT kind FROM subscriptions WHERE transport = ? AND chat_id = ? AND active = 1 ORDER BY kind",
                (transport, chat_id),
            )
        return [str(r["kind"]) for r in rows]

    async def count(self, audience: str, transports: Collection[str]) -> int:
        async with self._db.read() as tx:
            return len(await audience_in(tx, audience, transports))


async def groups_in(tx: Transaction, transports: Collection[str], kind: str | None = None) -> list[Destination]:
    """Active subscribed groups on these transports; every group with any subscription when `kind` is None."""
    rows = await tx.fetchall(
        "SELECT transport, chat_id, kind, language FROM subscriptions WHERE active = 1 ORDER BY transport, chat_id"
    )
    found: dict[tuple[str, str], Destination] = {}
    for r in rows:
        if r["transport"] in transports and (kind is None or r["kind"] == kind):
            key = (str(r["transport"]), str(r["chat_id"]))
            found.setdefault(key, Destination(key[0], key[1], "group", str(r["language"])))
    return list(found.values())


async def followers_in(tx: Transaction, transports: Collection[str]) -> list[Destination]:
    """Supporters who opted in to news (the signing feature's `contacts` table)."""
    rows = await tx.fetchall(
        "SELECT transport, chat_id, language FROM contacts WHERE active = 1 ORDER BY transport, chat_id"
    )
    return [
        Destination(str(r["transport"]), str(r["chat_id"]), "private", str(r["language"]))
        for r in rows
        if r["transport"] in transports
    ]


async def audience_in(
    tx: Transaction, audience: str, transports: Collection[str], group_kind: str | None = None
) -> list[Destination]:
    found: list[Destination] = []
    if audience in (GROUPS, BOTH):
        found += await groups_in(tx, transports, group_kind)
    if audience in (FOLLOWERS, BOTH):
        found += await followers_in(tx, transports)
    seen: set[tuple[str, str]] = set()
    unique = []
    for d in found:
        if (d.transport, d.chat_id) not in seen:
            seen.add((d.transport, d.chat_id))
            unique.append(d)
    return unique


async def end_chat_in(tx: Transaction, transport: str, chat_id: str) -> int:
    """A chat that is gone: its subscriptions end and, for a private chat, its contact is inactive."""
    ended = await tx.execute(
        "UPDATE subscriptions SET active = 0 WHERE transport = ? AND chat_id = ? AND active = 1",
        (transport, chat_id),
    )
    ended += await tx.execute(
        "UPDATE contacts SET active = 0 WHERE transport = ? AND chat_id = ? AND active = 1", (transport, chat_id)
    )
    return ended


async def move_chat_in(tx: Transaction, transport: str, old_id: str, new_id: str) -> int:
    """A group that got a new id (Telegram supergroup migration) keeps its subscriptions."""
    rows = await tx.fetchall(
        "SELECT kind, language, created_at, active FROM subscriptions WHERE transport = ? AND chat_id = ?",
        (transport, old_id),
    )
    for r in rows:
        await tx.execute(
            "INSERT INTO subscriptions (transport, chat_id, kind, language, created_at, active)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (transport, chat_id, kind) DO UPDATE SET"
            " active = CASE WHEN excluded.active = 1 THEN 1 ELSE subscriptions.active END",
            (transport, new_id, r["kind"], r["language"], r["created_at"], r["active"]),
        )
    await tx.execute("DELETE FROM subscriptions WHERE transport = ? AND chat_id = ?", (transport, old_id))
    return len(rows)
