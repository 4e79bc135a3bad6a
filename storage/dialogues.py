"""Dialogue state per user and chat, so a restart mid-dialogue resumes at the same step.

Each row also remembers the step it completed last (`Done`), and keeps that memory
for a while after the dialogue ends (`active = 0`, no data left): a press or a
message that a platform delivers again after a crash is then answered as it was
the first time, instead of "expired".
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Transaction, from_db_time, to_db_time

_COLUMNS = (
    "owner, name, step, data, nonce, expires_at, active, done_step, done_nonce, done_value, done_message, done_outcome"
)


@dataclass(frozen=True)
class Done:
    """The step completed last and how: the input that completed it and a short outcome code (no text)."""

    step: str
    nonce: str
    value: str | None  # the option chosen; None when typed text completed the step
    message: str | None  # the platform's id of the message that completed it, when it has one
    outcome: str


@dataclass(frozen=True)
class Dialogue:
    owner: str
    name: str
    step: str
    data: dict[str, Any]
    nonce: str
    expires_at: dt.datetime
    active: bool = True  # False: the dialogue ended; the row only remembers how (`done`) until it expires
    done: Done | None = None


def _dialogue(row: Any) -> Dialogue:
    done = None
    if row["done_step"] is not None:
        done = Done(row["done_step"], row["done_nonce"], row["done_value"], row["done_message"], row["done_outcome"])
    return Dialogue(
        owner=row["owner"],
        name=row["name"],
        step=row["step"],
        data=json.loads(row["data"]),
        nonce=row["nonce"],
        expires_at=from_db_time(row["expires_at"]),
        active=bool(row["active"]),
        done=done,
    )


def new_nonce() -> str:
    # Short: it travels in Telegram callback data (64 bytes at most).
    return secrets.token_hex(4)


class DialogueRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def current(self, owner: str, now: dt.datetime) -> Dialogue | None:
        """The open dialogue, or None when there is none, it ended or it has expired."""
        async with self._db.read() as tx:
            row = await tx.fetchone(f"SELECT {_COLUMNS} FROM dialogues WHERE owner = ?", (owner,))  # noqa: S608
        if row is None:
            return None
        dialogue = _dialogue(row)
        return dialogue if dialogue.active and dialogue.expires_at > now else None

    async def current_and_language(
        self, owner: str, pseudonym: str, now: dt.datetime
    ) -> tuple[Dialogue | None, str | None]:
        """The dialogue row (open, or ended and still remembered) and the user's chosen language, in one query."""
        async with self._db.read() as tx:
            row = await tx.fetchone(
                "SELECT (SELECT language FROM preferences WHERE pseudonym = ?) AS language,"
                " d.owner, d.name, d.step, d.data, d.nonce, d.expires_at, d.active,"
                " d.done_step, d.done_nonce, d.done_value, d.done_message, d.done_outcome"
                " FROM (SELECT 1 AS one) AS x LEFT JOIN dialogues AS d ON d.owner = ?",
                (pseudonym, owner),
            )
        if row is None:
            return None, None
        language = None if row["language"] is None else str(row["language"])
        if row["owner"] is None:
            return None, language
        dialogue = _dialogue(row)
        return (dialogue if dialogue.expires_at > now else None), language

    async def start(self, owner: str, name: str, step: str, data: dict[str, Any], expires_at: dt.datetime) -> Dialogue:
        """Open a dialogue, replacing any other one of the same user in that chat."""
        dialogue = Dialogue(owner, name, step, data, new_nonce(), expires_at)
        async with self._db.transaction() as tx:
            replaced = await tx.fetchone("SELECT data FROM dialogues WHERE owner = ?", (owner,))
            if replaced is not None and _holds_data(str(replaced["data"])):
                tx.scrub()  # the dialogue it replaces had a name typed: no copy may stay
            await tx.execute(
                "INSERT INTO dialogues (owner, name, step, data, nonce, expires_at, active)"
                " VALUES (?, ?, ?, ?, ?, ?, 1)"
                " ON CONFLICT (owner) DO UPDATE SET name = excluded.name, step = excluded.step,"
                " data = excluded.data, nonce = excluded.nonce, expires_at = excluded.expires_at, active = 1,"
                " done_step = NULL, done_nonce = NULL, done_value = NULL, done_message = NULL, done_outcome = NULL",
                (owner, name, step, json.dumps(data), dialogue.nonce, to_db_time(expires_at)),
            )
        return dialogue

    async def advance(
        self, current: Dialogue, step: str, data: dict[str, Any], expires_at: dt.datetime, done: Done
    ) -> Dialogue | None:
        async with self._db.transaction() as tx:
            return await advance_in(tx, current, step, data, expires_at, done)

    async def close(self, current: Dialogue, done: Done, keep_until: dt.datetime) -> Dialogue | None:
        async with self._db.transaction() as tx:
            return await close_in(tx, current, done, keep_until)

    async def finish(self, owner: str) -> bool:
        """Drop the open dialogue (/annuler); True if there was one."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall("DELETE FROM dialogues WHERE owner = ? AND active = 1 RETURNING data", (owner,))
            if any(_holds_data(str(r["data"])) for r in rows):
                tx.scrub()
            return bool(rows)

    async def purge_expired(self, now: dt.datetime) -> int:
        async with self._db.transaction() as tx:
            expired = to_db_time(now)
            held = await tx.fetchone(
                "SELECT COUNT(*) AS n FROM dialogues WHERE expires_at <= ? AND data <> '{}'", (expired,)
            )
            if held is not None and int(held["n"]):
                tx.scrub()
            return await tx.execute("DELETE FROM dialogues WHERE expires_at <= ?", (expired,))


async def advance_in(
    tx: Transaction,
    current: Dialogue,
    step: str,
    data: dict[str, Any],
    expires_at: dt.datetime,
    done: Done,
    kept: bool = False,
) -> Dialogue | None:
    """Move to `step` only if nobody moved it meanwhile (a double press, a second device); None if someone did.

    Data the step drops is scrubbed from the files, unless `kept`: the same
    transaction saved it elsewhere (a signature keeps the name typed).
    """
    if current.data and data != current.data and not kept:
        tx.scrub()
    moved = Dialogue(current.owner, current.name, step, data, new_nonce(), expires_at, True, done)
    changed = await tx.execute(
        "UPDATE dialogues SET step = ?, data = ?, nonce = ?, expires_at = ?, done_step = ?, done_nonce = ?,"
        " done_value = ?, done_message = ?, done_outcome = ? WHERE owner = ? AND nonce = ? AND active = 1",
        (
            step,
            json.dumps(data),
            moved.nonce,
            to_db_time(expires_at),
            *_done(done),
            current.owner,
            current.nonce,
        ),
    )
    return moved if changed else None


async def close_in(
    tx: Transaction, current: Dialogue, done: Done, keep_until: dt.datetime, kept: bool = False
) -> Dialogue | None:
    """End the dialogue at its current step (compare-and-set); only how it ended stays, until `keep_until`.

    Its data is scrubbed from the files, unless `kept` (saved elsewhere by the same transaction).
    """
    if current.data and not kept:
        tx.scrub()
    closed = Dialogue(current.owner, current.name, "", {}, new_nonce(), keep_until, False, done)
    changed = await tx.execute(
        "UPDATE dialogues SET step = '', data = '{}', nonce = ?, expires_at = ?, active = 0, done_step = ?,"
        " done_nonce = ?, done_value = ?, done_message = ?, done_outcome = ?"
        " WHERE owner = ? AND nonce = ? AND active = 1",
        (closed.nonce, to_db_time(keep_until), *_done(done), current.owner, current.nonce),
    )
    return closed if changed else None


async def delete_in(tx: Transaction, owner: str, nonce: str | None = None) -> bool:
    """Delete the row outright, memory included (erasure); with `nonce`, only if the dialogue is still at that step."""
    tx.scrub()
    if nonce is None:
        return await tx.execute("DELETE FROM dialogues WHERE owner = ?", (owner,)) > 0
    return await tx.execute("DELETE FROM dialogues WHERE owner = ? AND nonce = ? AND active = 1", (owner, nonce)) > 0


def _holds_data(data: str) -> bool:
    return data not in ("", "{}")


def _done(done: Done) -> tuple[str, str, str | None, str | None, str]:
    return done.step, done.nonce, done.value, done.message, done.outcome
