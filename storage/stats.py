"""Aggregate figures for the operator's metrics and the admins' audience reports: how many, never who."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database


@dataclass(frozen=True)
class Figures:
    followers: dict[str, int]  # transport -> active contacts (news opt-in)
    groups: dict[str, int]  # transport -> chats with an active subscription
    deliveries: dict[str, int]  # outbox status -> deliveries


class StatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(self) -> Figures:
        async with self._db.read() as tx:
            followers = await tx.fetchall(
                "SELECT transport AS k, COUNT(*) AS n FROM contacts WHERE active = 1 GROUP BY transport"
            )
            groups = await tx.fetchall(
                "SELECT transport AS k, COUNT(DISTINCT chat_id) AS n FROM subscriptions WHERE active = 1"
                " GROUP BY transport"
            )
            deliveries = await tx.fetchall("SELECT status AS k, COUNT(*) AS n FROM deliveries GROUP BY status")
        return Figures(_by_key(followers), _by_key(groups), _by_key(deliveries))


def _by_key(rows: Sequence[Any]) -> dict[str, int]:
    return {str(r["k"]): int(r["n"]) for r in rows}
