"""The audit log of admin actions: who (a pseudonym tag), what, when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Database, Transaction, from_db_time, to_db_time


@dataclass(frozen=True)
class AuditEntry:
    recorded_at: dt.datetime
    who: str
    action: str
    detail: str


async def record_in(tx: Transaction, who: str, action: str, detail: str, at: dt.datetime) -> None:
    """The audit row goes in the transaction of the action it records: both are saved, or neither."""
    await tx.execute(
        "INSERT INTO audit_log (recorded_at, who, action, detail) VALUES (?, ?, ?, ?)",
        (to_db_time(at), who, action, detail),
    )


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, who: str, action: str, detail: str, at: dt.datetime) -> None:
        async with self._db.transaction() as tx:
            await record_in(tx, who, action, detail, at)

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        async with self._db.read() as tx:
            rows = await tx.fetchall(
                "SELECT recorded_at, who, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
            )
        return [AuditEntry(from_db_time(r["recorded_at"]), r["who"], r["action"], r["detail"]) for r in rows]
