"""The storage foundation on both backends: migrations applied once, atomic transactions, the key-value table.

The same repositories and the same numbered migrations serve SQLite (a file) and
PostgreSQL (a server shared by several instances).
"""

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import Database, SqliteDatabase, open_database
from storage.kv import KeyValueRepository
from storage.postgres import migration_ddl, placeholders
from tests.postgres import PostgresServer


@pytest.fixture
def where(tmp_path: Path, backend: dict[str, object], request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    """An empty database of this test's backend: a new SQLite file, or an empty PostgreSQL database."""
    if not backend:
        yield tmp_path / "a.sqlite3", ""
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database(migrated=False)
    yield tmp_path / "unused", url
    server.drop_database(url)


async def opened(where: tuple[Path, str], migrate: bool = True) -> Database:
    return await open_database(where[0], where[1], migrate=migrate)


@pytest.mark.sqlite_only
async def test_pragmas_are_set_on_the_real_file(tmp_path: Path) -> None:
    db = await SqliteDatabase.open(tmp_path / "a.sqlite3")
    async with db.transaction() as tx:
        assert (await tx.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await tx.fetchone("PRAGMA synchronous"))[0] == 1  # NORMAL
        assert (await tx.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await tx.fetchone("PRAGMA busy_timeout"))[0] > 0
    await db.close()


async def test_migrations_are_applied_once_and_recorded(where: tuple[Path, str]) -> None:
    db = await opened(where, migrate=False)
    first = await db.migrate()
    assert first and first[0] == "0001_core.sql"
    assert await db.migrate() == []
    await db.close()
    reopened = await opened(where)
    async with reopened.read() as tx:
        rows = await tx.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [r["name"] for r in rows] == first
    await reopened.close()


async def test_a_failing_transaction_leaves_nothing_behind(where: tuple[Path, str]) -> None:
    db = await opened(where)
    kv = KeyValueRepository(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO kv (key, value, updated_at) VALUES ('a', '1', 'now')")
            raise RuntimeError("boom")
    assert await kv.get("a") is None
    await db.close()


async def test_key_value_table_upserts(where: tuple[Path, str]) -> None:
    db = await opened(where)
    kv = KeyValueRepository(db)
    await kv.set("matrix.next_batch", "s1")
    await kv.set("matrix.next_batch", "s2")
    assert await kv.get("matrix.next_batch") == "s2"
    await kv.delete("matrix.next_batch")
    assert await kv.get("matrix.next_batch") is None
    await db.close()


async def test_ids_are_assigned_by_the_database_and_bytes_come_back_as_bytes(where: tuple[Path, str]) -> None:
    db = await opened(where)
    async with db.transaction() as tx:
        ids = [
            (
                await tx.fetchone(
                    "INSERT INTO broadcasts (kind, audience, body, image, dedup_key, status, created_by, created_at,"
                    " send_at) VALUES ('message', 'groups', '{}', ?, ?, 'active', 't', 'now', 'now') RETURNING id",
                    (b"\x89PNG\x00\xff", f"k{i}"),
                )
            )["id"]
            for i in range(2)
        ]
        image = (await tx.fetchone("SELECT image FROM broadcasts WHERE id = ?", (ids[0],)))["image"]
    assert ids[1] == ids[0] + 1
    assert bytes(image) == b"\x89PNG\x00\xff"
    await db.close()


async def test_text_sorts_byte_by_byte_on_both_backends(where: tuple[Path, str]) -> None:
    """Times are ISO text and exports sort names: PostgreSQL must order them as SQLite does."""
    db = await opened(where)
    names = ["zoé", "Zoé", "Émile", "emile", "10", "9", "a b", "a-b"]
    async with db.transaction() as tx:
        for i, name in enumerate(names):
            await tx.execute("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)", (f"k{i}", name, "now"))
        rows = await tx.fetchall("SELECT value FROM kv ORDER BY value")
    assert [r["value"] for r in rows] == sorted(names, key=lambda s: s.encode())
    await db.close()


# PostgreSQL only: what several instances starting together need -------------------------


async def test_instances_starting_together_apply_each_migration_once(postgres: PostgresServer) -> None:
    url = postgres.new_database(migrated=False)
    opened_dbs = await asyncio.gather(*(open_database(Path("unused"), url, migrate=False) for _ in range(3)))
    applied = await asyncio.gather(*(db.migrate() for db in opened_dbs))
    names = sorted(name for one in applied for name in one)
    assert names[0] == "0001_core.sql" and len(names) == len(set(names))  # each migration applied by one only
    async with opened_dbs[0].read() as tx:
        rows = await tx.fetchall("SELECT name FROM schema_migrations ORDER BY name")
    assert [r["name"] for r in rows] == names
    for db in opened_dbs:
        await db.close()
    postgres.drop_database(url)


def test_placeholders_and_percent_signs_are_translated_outside_quoted_text() -> None:
    assert placeholders("SELECT * FROM t WHERE a = ? AND b LIKE 'x%?' AND c = ?") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE 'x%?' AND c = %s"
    )
    assert placeholders("SELECT 10 % 3, ?") == "SELECT 10 %% 3, %s"


def test_migration_columns_get_postgresql_types() -> None:
    ddl = migration_ddl(
        "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    n INTEGER NOT NULL,\n    s TEXT,\n    b BLOB\n)"
    )
    assert "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" in ddl
    assert "n BIGINT NOT NULL" in ddl and 's TEXT COLLATE "C"' in ddl and "b BYTEA" in ddl
    added = migration_ddl("ALTER TABLE milestones ADD COLUMN announcements INTEGER NOT NULL DEFAULT 1")
    assert added == "ALTER TABLE milestones ADD COLUMN announcements BIGINT NOT NULL DEFAULT 1"


async def test_a_wrong_password_or_database_is_one_line_without_the_password(postgres: PostgresServer) -> None:
    from storage.db import StorageError

    wrong = postgres.url("postgres", user="petition", password="not-the-password")
    with pytest.raises(StorageError, match="refused the user or password") as refused:
        await open_database(Path("unused"), wrong)
    assert "not-the-password" not in str(refused.value)
    with pytest.raises(StorageError, match="does not exist"):
        await open_database(Path("unused"), postgres.url("no_such_database"))
    closed = f"postgresql://petition:pw@127.0.0.1:{_closed_port()}/x"
    with pytest.raises(StorageError, match="unreachable"):
        await open_database(Path("unused"), closed)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.sqlite_only
async def test_a_transaction_cancelled_while_waiting_for_the_lock_leaves_the_connection_usable(
    tmp_path: Path,
) -> None:
    """A job cancelled at shutdown while its BEGIN waits must not leave that BEGIN open for the next one."""
    path = tmp_path / "a.sqlite3"
    db = await SqliteDatabase.open(path)
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
