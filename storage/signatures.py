"""Signatures under a pseudonym, the bot's signature counter and the anonymous daily counts.

The counter and the day's count change in the same transaction as the row they
count, and only when a row was really inserted or deleted: the count is exact
after a double press, and reading it is one primary-key lookup at any size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Database, Transaction, from_db_time, to_db_time

COUNTER = "signatures"


@dataclass(frozen=True)
class Signature:
    pseudonym: str
    name: str
    consent_version: str
    signed_at: dt.datetime


@dataclass(frozen=True)
class DailyCount:
    day: dt.date
    signed: int
    withdrawn: int


@dataclass(frozen=True)
class SignedName:
    """What the export may contain: the name shown and the date, never the pseudonym."""

    name: str
    signed_at: dt.datetime


def _day(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).date().isoformat()


async def get_in(tx: Transaction, pseudonym: str) -> Signature | None:
    row = await tx.fetchone(
        "SELECT pseudonym, name, consent_version, signed_at FROM signatures WHERE pseudonym = ?", (pseudonym,)
    )
    if row is None:
        return None
    return Signature(row["pseudonym"], row["name"], row["consent_version"], from_db_time(row["signed_at"]))


async def sign_in(
    tx: Transaction, pseudonym: str, name: str, consent_version: str, now: dt.datetime, zone: dt.tzinfo = dt.UTC
) -> Signature | None:
    """Record a signature; None when this person had already signed (nothing changes then)."""
    inserted = await tx.execute(
        "INSERT INTO signatures (pseudonym, name, consent_version, signed_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (pseudonym) DO NOTHING",
        (pseudonym, name, consent_version, to_db_time(now)),
    )
    if not inserted:
        return None
    await tx.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (COUNTER,))
    await tx.execute(
        "INSERT INTO daily_counts (day, signed, withdrawn) VALUES (?, 1, 0)"
        " ON CONFLICT (day) DO UPDATE SET signed = daily_counts.signed + 1",
        (_day(now, zone),),
    )
    return Signature(pseudonym, name, consent_version, now)


async def withdraw_in(tx: Transaction, pseudonym: str, now: dt.datetime, zone: dt.tzinfo = dt.UTC) -> Signature | None:
    """Delete a signature; returns what was deleted, None when there was none."""
    found = await get_in(tx, pseudonym)
    if found is None:
        return None
    deleted = await tx.execute("DELETE FROM signatures WHERE pseudonym = ?", (pseudonym,))
    if not deleted:
        return None
    tx.scrub()  # the name must not survive in the database's files either
    await tx.execute("UPDATE counters SET value = value - 1 WHERE name = ?", (COUNTER,))
    await tx.execute(
        "INSERT INTO daily_counts (day, signed, withdrawn) VALUES (?, 0, 1)"
        " ON CONFLICT (day) DO UPDATE SET withdrawn = daily_counts.withdrawn + 1",
        (_day(now, zone),),
    )
    return found


async def count_in(tx: Transaction) -> int:
    row = await tx.fetchone("SELECT value FROM counters WHERE name = ?", (COUNTER,))
    return 0 if row is None else int(row["value"])


class SignatureRepository:
    """`zone` decides which calendar day a signature counts for (the campaign's time zone)."""

    def __init__(self, db: Database, zone: dt.tzinfo = dt.UTC) -> None:
        self._db = db
        self.zone = zone

    async def get(self, pseudonym: str) -> Signature | None:
        async with self._db.read() as tx:
            return await get_in(tx, pseudonym)

    async def sign(self, pseudonym: str, name: str, consent_version: str, now: dt.datetime) -> Signature | None:
        async with self._db.transaction() as tx:
            return await sign_in(tx, pseudonym, name, consent_version, now, self.zone)

    async def withdraw(self, pseudonym: str, now: dt.datetime) -> Signature | None:
        async with self._db.transaction() as tx:
            return await withdraw_in(tx, pseudonym, now, self.zone)

    async def count(self) -> int:
        """The bot's signatures: one row read, whatever the number of signatures."""
        async with self._db.read() as tx:
            return await count_in(tx)

    async def per_day(self) -> list[DailyCount]:
        async with self._db.read() as tx:
            rows = await tx.fetchall("SELECT day, signed, withdrawn FROM daily_counts ORDER BY day")
        return [DailyCount(dt.date.fromisoformat(r["day"]), int(r["signed"]), int(r["withdrawn"])) for r in rows]

    async def names(self) -> list[SignedName]:
        """Every signature as name and date, oldest first, for the admin export."""
        async with self._db.read() as tx:
            rows = await tx.fetchall("SELECT name, signed_at FROM signatures ORDER BY signed_at, name")
        return [SignedName(str(r["name"]), from_db_time(r["signed_at"])) for r in rows]
