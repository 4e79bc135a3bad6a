"""The storage foundation: pragmas, migrations applied once, atomic transactions, the key-value table."""

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from storage.db import Database
from storage.kv import KeyValueRepository


async def test_pragmas_are_set_on_the_real_file(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    async with db.transaction() as tx:
        assert (await tx.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await tx.fetchone("PRAGMA synchronous"))[0] == 1  # NORMAL
        assert (await tx.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await tx.fetchone("PRAGMA busy_timeout"))[0] > 0
    await db.close()


async def test_migrations_are_applied_once_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    db = await Database.open(path, migrate=False)
    first = await db.migrate()
    assert first and first[0] == "0001_core.sql"
    assert await db.migrate() == []
    await db.close()
    reopened = await Database.open(path)
    async with reopened.read() as tx:
        rows = await tx.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [r["name"] for r in rows] == first
    await reopened.close()


async def test_a_failing_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    kv = KeyValueRepository(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO kv (key, value, updated_at) VALUES ('a', '1', 'now')")
            raise RuntimeError("boom")
    assert await kv.get("a") is None
    await db.close()


async def test_key_value_table_upserts(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    kv = KeyValueRepository(db)
    await kv.set("matrix.next_batch", "s1")
    await kv.set("matrix.next_batch", "s2")
    assert await kv.get("matrix.next_batch") == "s2"
    await kv.delete("matrix.next_batch")
    assert await kv.get("matrix.next_batch") is None
    await db.close()


async def test_a_transaction_cancelled_while_waiting_for_the_lock_leaves_the_connection_usable(
    tmp_path: Path,
) -> None:
    """A job cancelled at shutdown while its BEGIN waits must not leave that BEGIN open for the next one."""
    path = tmp_path / "a.sqlite3"
    db = await Database.open(path)
    try:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process's write lock

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO kv (key, value, updated_at) VALUES ('a', '1', 'now')")

        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        waiting.cancel()
        other.execute("ROLLBACK")  # the lock is free: the cancelled BEGIN now runs in the connection's thread
        other.close()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await KeyValueRepository(db).set("b", "2")  # the next transaction starts cleanly
        assert await KeyValueRepository(db).get("a") is None
        assert await KeyValueRepository(db).get("b") == "2"
    finally:
        await db.close()
