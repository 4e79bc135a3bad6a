"""The outbox: deliveries of broadcasts, claimed by the delivery worker and settled one by one.

A row moves pending → sending (claimed, in one transaction) → sent, failed or gone.
Rows found in `sending` at start-up were in flight when the process died: they go
back to pending, so nothing is lost and only those can be sent twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Transaction, to_db_time
from storage.subscriptions import Destination

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
GONE = "gone"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Delivery:
    id: int
    broadcast_id: int
    transport: str
    chat_id: str
    chat_kind: str
    language: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """How one claimed delivery ended: a final status, or pending again at `retry_at`."""

    delivery_id: int
    status: str
    error: str | None = None
    retry_at: dt.datetime | None = None
    counts_as_attempt: bool = True


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    gone: int
    waiting: int  # pending or sending
    cancelled: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.gone

    @property
    def finished(self) -> bool:
        return self.waiting == 0


def _delivery(r: Any) -> Delivery:
    return Delivery(
        id=int(r["id"]),
        broadcast_id=int(r["broadcast_id"]),
        transport=str(r["transport"]),
        chat_id=str(r["chat_id"]),
        chat_kind=str(r["chat_kind"]),
        language=str(r["language"]),
        attempts=int(r["attempts"]),
    )


async def enqueue_in(
    tx: Transaction, broadcast_id: int, destinations: Iterable[Destination], first_attempt_at: dt.datetime
) -> int:
    """One pending delivery per destination; a destination already queued for this broadcast is kept as is."""
    at = to_db_time(first_attempt_at)
    rows = [(broadcast_id, d.transport, d.chat_id, d.kind, d.language, PENDING, at, at) for d in destinations]
    await tx.executemany(
        "INSERT INTO deliveries (broadcast_id, transport, chat_id, chat_kind, language, status,"
        " next_attempt_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (broadcast_id, transport, chat_id) DO NOTHING",
        rows,
    )
    return len(rows)


async def drop_chat_in(tx: Transaction, transport: str, chat_id: str, now: dt.datetime) -> int:
    """Waiting deliveries to a chat that is gone will never be sent."""
    return await tx.execute(
        "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ?"
        " WHERE transport = ? AND chat_id = ? AND status = ?",
        (GONE, "chat gone", to_db_time(now), transport, chat_id, PENDING),
    )


async def move_chat_in(tx: Transaction, transport: str, old_id: str, new_id: str, now: dt.datetime) -> int:
    """Waiting deliveries follow a group to its new id (unless the new id already has one)."""
    rows = await tx.fetchall(
        "SELECT id, broadcast_id FROM deliveries WHERE transport = ? AND chat_id = ? AND status = ?",
        (transport, old_id, PENDING),
    )
    moved = 0
    for r in rows:
        taken = await tx.fetchone(
            "SELECT 1 FROM deliveries WHERE broadcast_id = ? AND transport = ? AND chat_id = ?",
            (r["broadcast_id"], transport, new_id),
        )
        if taken is None:
            moved += await tx.execute(
                "UPDATE deliveries SET chat_id = ?, updated_at = ? WHERE id = ?", (new_id, to_db_time(now), r["id"])
            )
        else:
            await tx.execute(
                "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
                (GONE, "chat migrated", to_db_time(now), r["id"]),
            )
    return moved


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def recover(self, now: dt.datetime) -> int:
        """Deliveries left `sending` by a process that died go back to pending."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE deliveries SET status = ?, updated_at = ? WHERE status = ?",
                (PENDING, to_db_time(now), SENDING),
            )

    async def claim(self, transport: str, now: dt.datetime, limit: int) -> list[Delivery]:
        """Due deliveries of one transport, marked `sending` in the same transaction.

        Rows another instance is claiming at this moment are skipped, not waited for
        and never claimed twice (PostgreSQL's row locks; SQLite holds the whole file).
        """
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT id, broadcast_id, transport, chat_id, chat_kind, language, attempts FROM deliveries"
                " WHERE transport = ? AND status = ? AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED",
                (transport, PENDING, to_db_time(now), limit),
            )
            claimed = [_delivery(r) for r in rows]
            await tx.executemany(
                "UPDATE deliveries SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
                [(SENDING, to_db_time(now), d.id, PENDING) for d in claimed],
            )
        return claimed

    async def settle(self, outcomes: Sequence[Outcome], now: dt.datetime) -> None:
        """Record how claimed deliveries ended, all in one transaction."""
        if not outcomes:
            return
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.executemany(
                "UPDATE deliveries SET status = ?, last_error = ?, attempts = attempts + ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ? WHERE id = ? AND status = ?",
                [
                    (
                        o.status,
                        o.error,
                        1 if o.counts_as_attempt else 0,
                        to_db_time(o.retry_at) if o.retry_at else None,
                        stamp,
                        o.delivery_id,
                        SENDING,
                    )
                    for o in outcomes
                ],
            )

    async def enqueue(
        self, broadcast_id: int, destinations: Iterable[Destination], first_attempt_at: dt.datetime
    ) -> int:
        """Deliveries added to a broadcast already queued (a migrated group's new address)."""
        async with self._db.transaction() as tx:
            return await enqueue_in(tx, broadcast_id, destinations, first_attempt_at)

    async def busy(self, transport: str, now: dt.datetime) -> bool:
        """Whether a delivery of this transport is being sent, or due and waiting to be."""
        async with self._db.read() as tx:
            row = await tx.fetchone(
                "SELECT 1 AS busy FROM deliveries WHERE transport = ?"
                " AND (status = ? OR (status = ? AND next_attempt_at <= ?)) LIMIT 1",
                (transport, SENDING, PENDING, to_db_time(now)),
            )
        return row is not None

    async def progress(self, broadcast_id: int) -> Progress:
        async with self._db.read() as tx:
            return await progress_in(tx, broadcast_id)

    async def statuses(self, broadcast_id: int) -> dict[tuple[str, str], tuple[str, int, str | None]]:
        """Each destination's status, attempts and last error (for tests and operators)."""
        async with self._db.read() as tx:
            rows = await tx.fetchall(
                "SELECT transport, chat_id, status, attempts, last_error FROM deliveries WHERE broadcast_id = ?",
                (broadcast_id,),
            )
        return {
            (str(r["transport"]), str(r["chat_id"])): (str(r["status"]), int(r["attempts"]), r["last_error"])
            for r in rows
        }


async def progress_in(tx: Transaction, broadcast_id: int) -> Progress:
    rows = await tx.fetchall(
        "SELECT status, COUNT(*) AS n FROM deliveries WHERE broadcast_id = ? GROUP BY status", (broadcast_id,)
    )
    counts = {str(r["status"]): int(r["n"]) for r in rows}
    return Progress(
        total=sum(counts.values()),
        sent=counts.get(SENT, 0),
        failed=counts.get(FAILED, 0),
        gone=counts.get(GONE, 0),
        waiting=counts.get(PENDING, 0) + counts.get(SENDING, 0),
        cancelled=counts.get(CANCELLED, 0),
    )


async def cancel_in(tx: Transaction, broadcast_id: int, now: dt.datetime) -> int:
    return await tx.execute(
        "UPDATE deliveries SET status = ?, updated_at = ? WHERE broadcast_id = ? AND status = ?",
        (CANCELLED, to_db_time(now), broadcast_id, PENDING),
    )
