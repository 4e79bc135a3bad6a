"""The leader lease: which of the instances sharing one database runs the jobs that must run once.

Several `petition-bot run` processes may share a PostgreSQL database. Answering a
webhook can happen anywhere, but the scheduler, the outbox lanes, Telegram
polling and the Matrix sync must run in exactly one of them: the one holding the
lease. On PostgreSQL the lease is an advisory lock held by a dedicated connection
(`storage/postgres.py`): the server releases it the moment that connection ends,
so a dead leader's lease is free at once. On SQLite one process owns the file, so
the lease is always held.
"""

from __future__ import annotations

from typing import Protocol


class Lease(Protocol):
    async def acquire(self) -> bool:
        """Try once, without waiting; True when this process now holds the lease."""
        ...

    async def check(self) -> bool:
        """Whether the lease is still held (False once its connection is lost); bounded in time."""
        ...

    async def release(self) -> None:
        """Give the lease up (at a clean stop, or after losing it): another instance may take it."""
        ...


class HeldLease:
    """The lease of a database only one process uses: always held."""

    async def acquire(self) -> bool:
        return True

    async def check(self) -> bool:
        return True

    async def release(self) -> None:
        return None
