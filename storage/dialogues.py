"""Dialogue state per user and chat, so a restart mid-dialogue resumes at the same step."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Transaction, from_db_time, to_db_time


@dataclass(frozen=True)
class Dialogue:
    owner: str
    name: str
    step: str
    data: dict[str, Any]
    nonce: str
    expires_at: dt.datetime


def _dialogue(row: Any) -> Dialogue:
    return Dialogue(
        owner=row["owner"],
        name=row["name"],
        step=row["step"],
        data=json.loads(row["data"]),
        nonce=row["nonce"],
        expires_at=from_db_time(row["expires_at"]),
    )


def new_nonce() -> str:
    # Short: it travels in Telegram callback data (64 bytes at most).
    return secrets.token_hex(4)


class DialogueRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def current(self, owner: str, now: dt.datetime) -> Dialogue | None:
        """The open dialogue, or None when there is none or it has expired."""
        async with self._db.read() as tx:
            row = await tx.fetchone("SELECT * FROM dialogues WHERE owner = ?", (owner,))
        if row is None:
            return None
        dialogue = _dialogue(row)
        return dialogue if dialogue.expires_at > now else None

    async def current_and_language(
        self, owner: str, pseudonym: str, now: dt.datetime
    ) -> tuple[Dialogue | None, str | None]:
        """The open dialogue and the user's chosen language in one query: every dispatch needs both."""
        async with self._db.read() as tx:
            row = await tx.fetchone(
                "SELECT (SELECT language FROM preferences WHERE pseudonym = ?) AS language,"
                " d.owner, d.name, d.step, d.data, d.nonce, d.expires_at"
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
            await _upsert(tx, dialogue)
        return dialogue

    async def advance(
        self, current: Dialogue, step: str, data: dict[str, Any], expires_at: dt.datetime
    ) -> Dialogue | None:
        """Move to the next step only if nobody moved it meanwhile (a double press, a second device)."""
        moved = Dialogue(current.owner, current.name, step, data, new_nonce(), expires_at)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE dialogues SET step = ?, data = ?, nonce = ?, expires_at = ? WHERE owner = ? AND nonce = ?",
                (step, json.dumps(data), moved.nonce, to_db_time(expires_at), current.owner, current.nonce),
            )
        return moved if changed else None

    async def finish(self, owner: str, nonce: str | None = None) -> bool:
        """Close a dialogue; with `nonce`, only if it is still at that step. True if one was closed."""
        async with self._db.transaction() as tx:
            return await finish_in(tx, owner, nonce)

    async def purge_expired(self, now: dt.datetime) -> int:
        async with self._db.transaction() as tx:
            return await tx.execute("DELETE FROM dialogues WHERE expires_at <= ?", (to_db_time(now),))


async def finish_in(tx: Transaction, owner: str, nonce: str | None = None) -> bool:
    """Close a dialogue inside a caller's transaction (e.g. together with the signature it confirms)."""
    if nonce is None:
        return await tx.execute("DELETE FROM dialogues WHERE owner = ?", (owner,)) > 0
    return await tx.execute("DELETE FROM dialogues WHERE owner = ? AND nonce = ?", (owner, nonce)) > 0


async def _upsert(tx: Transaction, d: Dialogue) -> None:
    await tx.execute(
        "INSERT INTO dialogues (owner, name, step, data, nonce, expires_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (owner) DO UPDATE SET name = excluded.name, step = excluded.step,"
        " data = excluded.data, nonce = excluded.nonce, expires_at = excluded.expires_at",
        (d.owner, d.name, d.step, json.dumps(d.data), d.nonce, to_db_time(d.expires_at)),
    )
