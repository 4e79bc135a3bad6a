"""The storage interface the repositories use, and its SQLite backend (the default).

Repositories see only `Database` (`transaction()`, `read()`) and `Transaction`
(`execute`, `executemany`, `fetchone`, `fetchall`, `scrub`), with portable SQL and
`?` placeholders. `open_database` picks the backend: SQLite here, or PostgreSQL
(`storage/postgres.py`) when `DATABASE_URL` is set.

SQLite:

All SQLite-specific behaviour lives here so the repositories stay portable SQL.
One write connection serialised by an asyncio lock keeps the transports and the
scheduler from interleaving statements; `BEGIN IMMEDIATE` takes the write lock up
front so a transaction never fails half-way on a lock upgrade. A second connection
serves reads, which in WAL mode never wait for a writer. A transaction that erases
personal data is followed by a truncating checkpoint, so no copy stays in the WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiosqlite

if TYPE_CHECKING:
    from storage.lease import Lease

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
# Rows claimed by one instance are skipped by the others (PostgreSQL); SQLite has no row locks
# and needs none: `BEGIN IMMEDIATE` already holds the whole database, so the clause is dropped.
ROW_LOCKS = " FOR UPDATE SKIP LOCKED"
STOPPING_BUSY_TIMEOUT_MS = 500  # once the process is stopping, a locked database is not waited for
SCRUB_WAIT_MS = 200  # how long a truncating checkpoint waits for readers before it is retried later
SCRUB_RETRY_FIRST_SECONDS = 0.5
SCRUB_RETRY_MAX_SECONDS = 30.0
WRITER_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    # Deleted personal data must not linger in free pages of the file.
    "PRAGMA secure_delete = ON",
    # Whenever the WAL starts over after a checkpoint, it is truncated, not just reused.
    "PRAGMA journal_size_limit = 0",
)
READER_PRAGMAS = (f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA query_only = ON")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StorageError(Exception):
    """The database cannot do what was asked right now (locked, full, read-only, corrupt)."""


class StorageBusy(StorageError):
    """Another process holds the database lock (a backup, a second instance)."""


class StorageFull(StorageError):
    """The disk or the database file is full: nothing was written."""


def _translate(exc: sqlite3.Error) -> StorageError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StorageBusy("the database is locked by another process")
    if "full" in text or "disk i/o" in text:
        return StorageFull("the database or its disk is full")
    if "readonly" in text or "read-only" in text:
        return StorageError("the database is read-only (check the file's and its folder's permissions)")
    if "not a database" in text or "malformed" in text:
        return StorageError("the file is not a valid SQLite database (damaged? restore a backup)")
    if "unable to open" in text:
        return StorageError("the file cannot be opened (check the path and its folder's permissions)")
    # SQLite's messages name objects, never the values bound to a statement.
    return StorageError(f"database error: {type(exc).__name__}: {str(exc)[:200]}")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_db_time(moment: dt.datetime) -> str:
    """Times are stored as ISO 8601 UTC text, which sorts correctly and is portable."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


class Row(Protocol):
    """A result row: columns by name (`row["name"]`) or position, as both backends give them."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class Transaction(Protocol):
    """Statements inside one transaction (or one read), with `?` placeholders."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the number of rows changed."""
        ...

    async def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Row]: ...

    def scrub(self) -> None:
        """This transaction deletes personal data: once committed, no old copy may stay readable."""
        ...


class Database(Protocol):
    """What the repositories and the process need from a backend; one repository method = one transaction."""

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql", for operators' messages (never for branching in repositories)."""
        ...

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """One atomic unit of work: committed on success, rolled back on any error."""
        ...

    def read(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """Reads only."""
        ...

    def lease(self, name: str) -> Lease:
        """The lock that elects one leader among the instances sharing this database."""
        ...

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def migrate(self) -> list[str]: ...

    async def backup(self, target: Path) -> None:
        """A consistent copy into a new file, safe while the bot runs (SQLite only: PostgreSQL has pg_dump)."""
        ...

    async def stopping(self) -> None:
        """The process is stopping: nothing new should wait long for a lock."""
        ...


async def open_database(path: Path, url: str = "", migrate: bool = True) -> Database:
    """PostgreSQL when `url` (DATABASE_URL) is set, else the SQLite file at `path`."""
    if url:
        from storage.postgres import PostgresDatabase  # psycopg is imported only for PostgreSQL

        return await PostgresDatabase.open(url, migrate=migrate)
    return await SqliteDatabase.open(path, migrate=migrate)


class SqliteTransaction:
    """Statements inside one `BEGIN IMMEDIATE … COMMIT` (or, from `read()`, plain reads).

    Each statement costs exactly one hop to aiosqlite's thread (execute-and-fetch
    together, no separate cursor close): the hops, not SQLite, dominate a dialogue.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.scrubbing = False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the number of rows changed."""
        cursor = await self._conn.execute(sql, params)
        return int(cursor.rowcount)

    async def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._conn.execute_fetchall(sql.replace(ROW_LOCKS, ""), params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql.replace(ROW_LOCKS, ""), params))

    def scrub(self) -> None:
        """This transaction deletes or overwrites personal data: once committed, no old copy may stay on disk.

        SQLite's write-ahead log keeps earlier versions of every page it wrote, so a
        deleted name is still in the `-wal` file until it is checkpointed and
        truncated; `secure_delete` then leaves zeros where the row was in the file.
        """
        self.scrubbing = True


class SqliteDatabase:
    """Owns the connections; repositories borrow them through `transaction()` and `read()`.

    Writes go through one connection serialised by an asyncio lock. Reads go through
    a second connection: in WAL mode a reader never waits for a writer, not even
    another process holding the write lock, so answers that only read (the count,
    questions, help) keep coming while a write waits.
    """

    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._scrub_pending = False
        self._scrub_retry: asyncio.Task[None] | None = None
        self._busy_ms = BUSY_TIMEOUT_MS

    @classmethod
    async def open(cls, path: Path, migrate: bool = True) -> SqliteDatabase:
        """Connected and migrated, or closed again and a `StorageError` naming the path and the cause.

        Closing on failure matters: an open connection's worker thread would keep
        the process alive after its one-line error (the process must exit).
        """
        db = cls(path)
        await db.connect()
        if migrate:
            try:
                await db.migrate()
            except StorageError as exc:
                await db.close()
                raise StorageError(f"cannot migrate the database {path}: {exc}") from None
            except BaseException:
                await db.close()
                raise
        return db

    @property
    def in_memory(self) -> bool:
        return str(self.path) == ":memory:"

    async def connect(self) -> None:
        if not self.in_memory:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _private_file(self.path)
            except OSError as exc:
                raise StorageError(f"cannot create the database {self.path}: {exc.strerror}") from None
        self._conn = await self._connect(WRITER_PRAGMAS)
        if not self.in_memory:
            try:
                self._reader = await self._connect(READER_PRAGMAS)
            except BaseException:
                await self.close()
                raise
            for companion in (Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                _private_file(companion, create=False)

    async def _connect(self, pragmas: Sequence[str]) -> aiosqlite.Connection:
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {_translate(exc)}") from None
        try:
            conn.row_factory = sqlite3.Row
            # execute_fetchall: each statement runs to its end, so none keeps a read snapshot open.
            for pragma in pragmas:
                await conn.execute_fetchall(pragma)
            # A damaged file often opens fine: read the schema now, not at the first message.
            await conn.execute_fetchall("SELECT COUNT(*) FROM sqlite_master")
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"cannot open the database {self.path}: {_translate(exc)}") from None
            raise
        return conn

    async def close(self) -> None:
        if self._scrub_retry is not None:
            self._scrub_retry.cancel()
            self._scrub_retry = None
        if self._reader is not None:
            reader, self._reader = self._reader, None
            with contextlib.suppress(Exception):
                await reader.close()
        if self._conn is not None:
            async with self._lock:
                if self._scrub_pending:
                    await self._scrub(self._busy_ms, retry_later=False)  # the last chance this process has
                await self._conn.close()
                self._conn = None

    async def stopping(self) -> None:
        """The process is stopping: later statements wait at most a moment for another process's lock.

        What is in flight keeps its own wait; jobs and deliveries that would start
        now fail at once instead of each waiting the full busy timeout.
        """
        self._busy_ms = STOPPING_BUSY_TIMEOUT_MS
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._conn.execute_fetchall(f"PRAGMA busy_timeout = {self._busy_ms}")

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("the database is closed")
        return self._conn

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One atomic unit of work: committed on success, rolled back on any error."""
        async with self._lock:
            conn = self.conn
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc) from None
            except asyncio.CancelledError:
                # The connection's thread runs the BEGIN anyway: undo it right after, or the
                # next transaction would find this one still open.
                with contextlib.suppress(sqlite3.Error):
                    await conn.execute("ROLLBACK")
                raise
            tx = SqliteTransaction(conn)
            try:
                yield tx
                await conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    await conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc) from None
                raise
            if tx.scrubbing:
                await self._scrub()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        """Reads that never wait behind a write, ours or another process's.

        The write connection serves them while it is idle (its page cache is warm);
        while a write holds it (possibly waiting for another process's lock), they
        go to the read connection, which in WAL mode reads without any lock.
        """
        if self._reader is not None and self._lock.locked():
            try:
                yield SqliteTransaction(self._reader)
            except sqlite3.Error as exc:
                raise _translate(exc) from None
            return
        async with self._lock:  # free: taken at once (no await between the test and the take)
            try:
                yield SqliteTransaction(self.conn)
            except sqlite3.Error as exc:
                raise _translate(exc) from None

    async def _scrub(self, wait_ms: int = SCRUB_WAIT_MS, retry_later: bool = True) -> None:
        """Copy the WAL into the file and truncate it to zero bytes (called with the write lock held).

        A checkpoint that truncates must wait for every reader, including other
        processes (an `admin export`): it waits briefly, then retries in the
        background until it succeeds, rather than holding every write.
        """
        if self.in_memory:
            return
        conn = self.conn
        done = False
        try:
            await conn.execute_fetchall(f"PRAGMA busy_timeout = {wait_ms}")
            rows = list(await conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
            done = bool(rows) and int(rows[0][0]) == 0
        except sqlite3.Error as exc:
            log.warning("wal checkpoint failed: %s", _translate(exc))
        finally:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute_fetchall(f"PRAGMA busy_timeout = {self._busy_ms}")
        self._scrub_pending = not done
        if not done and retry_later and (self._scrub_retry is None or self._scrub_retry.done()):
            log.info("wal checkpoint postponed: a reader is busy")
            self._scrub_retry = asyncio.create_task(self._retry_scrub())

    async def _retry_scrub(self) -> None:
        delay = SCRUB_RETRY_FIRST_SECONDS
        while self._scrub_pending:
            await asyncio.sleep(delay)
            async with self._lock:
                if self._conn is None or not self._scrub_pending:
                    return
                await self._scrub(retry_later=False)
            delay = min(delay * 2, SCRUB_RETRY_MAX_SECONDS)

    def lease(self, name: str) -> Lease:
        """One SQLite file serves one process: it always leads."""
        from storage.lease import HeldLease

        return HeldLease()

    async def migrate(self) -> list[str]:
        """Apply numbered migrations not yet recorded; returns the names applied."""
        applied: list[str] = []
        async with self.transaction() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row["version"] for row in await tx.fetchall("SELECT version FROM schema_migrations")}
        for version, name, sql in _migrations():
            if version in done:
                continue
            async with self.transaction() as tx:
                for statement in _statements(sql):
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, to_db_time(utcnow())),
                )
                tx.scrub()  # a migration may delete rows (0004 drops milestone rows)
            applied.append(name)
            log.info("migration applied: %s", name)
        return applied

    async def backup(self, target: Path) -> None:
        """An online copy, consistent even while the bot writes (SQLite backup API), created with mode 0600."""
        target.parent.mkdir(parents=True, exist_ok=True)
        _private_file(target)
        try:
            dest = await aiosqlite.connect(target)
            try:
                if self._reader is not None:
                    await self._reader.backup(dest)  # from the read connection: writes go on meanwhile
                else:
                    async with self._lock:
                        await self.conn.backup(dest)
            finally:
                await dest.close()
        except sqlite3.Error as exc:
            raise _translate(exc) from None


def _private_file(path: Path, create: bool = True) -> None:
    """The file exists (when `create`) and only its owner may read it, whatever the umask.

    SQLite creates `-wal` and `-shm` with the database file's mode, so making the
    database 0600 before SQLite first opens it makes them 0600 as well.
    """
    if create:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StorageError("two migrations share a number")
    return found


def _statements(sql: str) -> list[str]:
    """Split a migration file on semicolons that end a line (no triggers with bodies here)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]
