"""Broadcasts (admin messages, milestone announcements, digests) and the milestones already announced."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Transaction, from_db_time, to_db_time

# Broadcast kinds
MESSAGE = "message"
MILESTONE = "milestone"
DIGEST = "digest"

# Broadcast statuses: waiting for its time or sending, then done or cancelled.
ACTIVE = "active"
DONE = "done"
CANCELLED = "cancelled"

# Milestone statuses. Rows are only ever written for announced milestones (never one per
# milestone skipped); "passed" rows of older versions are deleted by migration 0004.
ANNOUNCED = "announced"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Broadcast:
    id: int
    kind: str
    audience: str
    body: dict[str, Any]
    image: bytes | None
    status: str
    created_by: str
    created_at: dt.datetime
    send_at: dt.datetime
    finished_at: dt.datetime | None
    admin_transport: str | None
    admin_chat_id: str | None
    progress_message_id: str | None


@dataclass(frozen=True)
class NewBroadcast:
    kind: str
    audience: str
    body: dict[str, Any]
    dedup_key: str
    created_by: str
    created_at: dt.datetime
    send_at: dt.datetime
    image: bytes | None = None
    admin_transport: str | None = None
    admin_chat_id: str | None = None


def _broadcast(r: Any) -> Broadcast:
    return Broadcast(
        id=int(r["id"]),
        kind=str(r["kind"]),
        audience=str(r["audience"]),
        body=json.loads(r["body"]),
        image=bytes(r["image"]) if r["image"] is not None else None,
        status=str(r["status"]),
        created_by=str(r["created_by"]),
        created_at=from_db_time(r["created_at"]),
        send_at=from_db_time(r["send_at"]),
        finished_at=from_db_time(r["finished_at"]) if r["finished_at"] else None,
        admin_transport=r["admin_transport"],
        admin_chat_id=r["admin_chat_id"],
        progress_message_id=r["progress_message_id"],
    )


async def create_in(tx: Transaction, new: NewBroadcast) -> int | None:
    """The new broadcast's id, or None when one with the same `dedup_key` already exists."""
    row = await tx.fetchone(
        "INSERT INTO broadcasts (kind, audience, body, image, dedup_key, status, created_by, created_at, send_at,"
        " admin_transport, admin_chat_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        (
            new.kind,
            new.audience,
            json.dumps(new.body, ensure_ascii=False),
            new.image,
            new.dedup_key,
            ACTIVE,
            new.created_by,
            to_db_time(new.created_at),
            to_db_time(new.send_at),
            new.admin_transport,
            new.admin_chat_id,
        ),
    )
    return None if row is None else int(row["id"])


# A broadcast that ends forgets where its admin's progress message was: the admin's chat
# address is personal data, needed only while the progress message is being edited.
_ENDED = (
    "UPDATE broadcasts SET status = ?, finished_at = ?, admin_transport = NULL, admin_chat_id = NULL,"
    " progress_message_id = NULL WHERE id = ? AND status = ?"
)


async def _end_in(tx: Transaction, broadcast_id: int, status: str, now: dt.datetime) -> bool:
    ended = await tx.execute(_ENDED, (status, to_db_time(now), broadcast_id, ACTIVE)) > 0
    if ended:
        tx.scrub()
    return ended


async def cancel_in(tx: Transaction, broadcast_id: int, now: dt.datetime) -> bool:
    return await _end_in(tx, broadcast_id, CANCELLED, now)


class BroadcastRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, broadcast_id: int) -> Broadcast | None:
        async with self._db.read() as tx:
            row = await tx.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else _broadcast(row)

    async def by_key(self, dedup_key: str) -> Broadcast | None:
        async with self._db.read() as tx:
            row = await tx.fetchone("SELECT * FROM broadcasts WHERE dedup_key = ?", (dedup_key,))
        return None if row is None else _broadcast(row)

    async def recent(self, limit: int = 10) -> list[Broadcast]:
        async with self._db.read() as tx:
            rows = await tx.fetchall("SELECT * FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,))
        return [_broadcast(r) for r in rows]

    async def active(self) -> list[Broadcast]:
        async with self._db.read() as tx:
            rows = await tx.fetchall("SELECT * FROM broadcasts WHERE status = ? ORDER BY id", (ACTIVE,))
        return [_broadcast(r) for r in rows]

    async def set_progress_message(self, broadcast_id: int, message_id: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE broadcasts SET progress_message_id = ? WHERE id = ?", (message_id, broadcast_id))

    async def finish(self, broadcast_id: int, now: dt.datetime) -> bool:
        async with self._db.transaction() as tx:
            return await _end_in(tx, broadcast_id, DONE, now)


@dataclass(frozen=True)
class MilestoneRecord:
    milestone: int
    status: str  # announced, or withdrawn by an admin's correction of the count
    total: int
    broadcast_id: int | None
    announcements: int  # how many times it was announced (more than once only after a withdrawal)


def _milestone(r: Any) -> MilestoneRecord:
    return MilestoneRecord(
        int(r["milestone"]), str(r["status"]), int(r["total"]), r["broadcast_id"], int(r["announcements"])
    )


async def highest_announced_in(tx: Transaction, at_most: int | None = None) -> int | None:
    """The high-water mark: a milestone at or below it is never announced again."""
    if at_most is None:
        row = await tx.fetchone("SELECT MAX(milestone) AS m FROM milestones WHERE status = ?", (ANNOUNCED,))
    else:
        row = await tx.fetchone(
            "SELECT MAX(milestone) AS m FROM milestones WHERE status = ? AND milestone <= ?", (ANNOUNCED, at_most)
        )
    return None if row is None or row["m"] is None else int(row["m"])


async def milestone_in(tx: Transaction, milestone: int) -> MilestoneRecord | None:
    row = await tx.fetchone(
        "SELECT milestone, status, total, broadcast_id, announcements FROM milestones WHERE milestone = ?",
        (milestone,),
    )
    return None if row is None else _milestone(row)


async def announced_above_in(tx: Transaction, total: int) -> list[MilestoneRecord]:
    rows = await tx.fetchall(
        "SELECT milestone, status, total, broadcast_id, announcements FROM milestones"
        " WHERE status = ? AND milestone > ? ORDER BY milestone",
        (ANNOUNCED, total),
    )
    return [_milestone(r) for r in rows]


async def record_announcement_in(
    tx: Transaction,
    milestone: int,
    total: int,
    broadcast_id: int | None,
    now: dt.datetime,
    previous: MilestoneRecord | None,
) -> bool:
    """Mark the milestone announced; False when another run got there first (compare-and-set on `previous`)."""
    if previous is None:
        row = await tx.fetchone(
            "INSERT INTO milestones (milestone, status, total, broadcast_id, recorded_at, announcements)"
            " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (milestone) DO NOTHING RETURNING milestone",
            (milestone, ANNOUNCED, total, broadcast_id, to_db_time(now)),
        )
        return row is not None
    changed = await tx.execute(
        "UPDATE milestones SET status = ?, total = ?, broadcast_id = ?, recorded_at = ?,"
        " announcements = announcements + 1 WHERE milestone = ? AND status = ? AND announcements = ?",
        (ANNOUNCED, total, broadcast_id, to_db_time(now), milestone, WITHDRAWN, previous.announcements),
    )
    return changed > 0


async def withdraw_milestone_in(tx: Transaction, milestone: int, now: dt.datetime) -> bool:
    changed = await tx.execute(
        "UPDATE milestones SET status = ?, recorded_at = ? WHERE milestone = ? AND status = ?",
        (WITHDRAWN, to_db_time(now), milestone, ANNOUNCED),
    )
    return changed > 0


class MilestoneRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def recorded(self) -> dict[int, MilestoneRecord]:
        async with self._db.read() as tx:
            rows = await tx.fetchall("SELECT milestone, status, total, broadcast_id, announcements FROM milestones")
        return {int(r["milestone"]): _milestone(r) for r in rows}

    async def highest_announced(self) -> int | None:
        async with self._db.read() as tx:
            return await highest_announced_in(tx)
