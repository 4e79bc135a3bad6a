"""The count over time (official figure and the bot's own signatures), for the digest and its chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Transaction, from_db_time, to_db_time


@dataclass(frozen=True)
class CountPoint:
    recorded_at: dt.datetime
    official: int
    bot: int
    source: str

    @property
    def total(self) -> int:
        return self.official + self.bot


def _point(row: Any) -> CountPoint:
    return CountPoint(
        from_db_time(row["recorded_at"]),
        int(row["official"]),
        int(row["bot"]),
        str(row["source"]),
    )


async def add_in(tx: Transaction, at: dt.datetime, official: int, bot: int, source: str) -> bool:
    """Record a point unless it repeats the last one, inside the caller's transaction; True when recorded."""
    last = await tx.fetchone("SELECT official, bot FROM count_history ORDER BY recorded_at DESC, id DESC LIMIT 1")
    if last is not None and int(last["official"]) == official and int(last["bot"]) == bot:
        return False
    await tx.execute(
        "INSERT INTO count_history (recorded_at, official, bot, source) VALUES (?, ?, ?, ?)",
        (to_db_time(at), official, bot, source),
    )
    return True


class CountHistoryRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, at: dt.datetime, official: int, bot: int, source: str) -> bool:
        """Record a point unless it repeats the last one; True when recorded."""
        async with self._db.transaction() as tx:
            return await add_in(tx, at, official, bot, source)

    async def since(self, start: dt.datetime) -> list[CountPoint]:
        async with self._db.read() as tx:
            rows = await tx.fetchall(
                "SELECT recorded_at, official, bot, source FROM count_history WHERE recorded_at >= ?"
                " ORDER BY recorded_at, id",
                (to_db_time(start),),
            )
        return [_point(r) for r in rows]

    async def last_before(self, moment: dt.datetime) -> CountPoint | None:
        async with self._db.read() as tx:
            row = await tx.fetchone(
                "SELECT recorded_at, official, bot, source FROM count_history WHERE recorded_at < ?"
                " ORDER BY recorded_at DESC, id DESC LIMIT 1",
                (to_db_time(moment),),
            )
        return None if row is None else _point(row)
