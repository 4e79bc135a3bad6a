"""Aggregate figures for the operator's metrics: how many, never who.

Each figure comes from a table another feature owns. A table that does not exist
yet (a feature not installed, an older database) gives no figure rather than an
error, so the metrics page always answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.db import Database, StorageError


@dataclass(frozen=True)
class Figures:
    followers: dict[str, int] | None = None  # transport -> active contacts (news opt-in)
    groups: dict[str, int] | None = None  # transport -> chats with an active subscription
    deliveries: dict[str, int] = field(default_factory=dict)  # outbox status -> deliveries


class StatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(self) -> Figures:
        followers = await self._by_key(
            "SELECT transport AS k, COUNT(*) AS n FROM contacts WHERE active = 1 GROUP BY transport"
        )
        groups = await self._by_key(
            "SELECT transport AS k, COUNT(DISTINCT chat_id) AS n FROM subscriptions WHERE active = 1 GROUP BY transport"
        )
        deliveries = await self._by_key("SELECT status AS k, COUNT(*) AS n FROM deliveries GROUP BY status")
        return Figures(followers=followers, groups=groups, deliveries=deliveries or {})

    async def _by_key(self, sql: str) -> dict[str, int] | None:
        try:
            async with self._db.read() as tx:
                rows = await tx.fetchall(sql)
        except StorageError:
            return None  # the table belongs to a feature this database does not have (yet)
        return {str(r["k"]): int(r["n"]) for r in rows}
