"""A database the bot cannot use stops every command at once: one line naming the file and the cause, exit 2.

Under systemd, a command that prints its error and then hangs is never restarted. Each
command runs as a real process against a damaged file, a file another process holds
locked, and a read-only file system; each must exit 2 within 10 seconds. And a stop
signal always ends the process, whatever it is waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import _start_until_stopped
from storage.db import SqliteDatabase
from tests.ops_helpers import bot_process, can_mount, clean_environment
from tests.telegram_stub import TelegramStub

EXIT_WITHIN_SECONDS = 10.0
STOPPED_WITHIN_SECONDS = 15.0  # SIGTERM: the write in flight (5 s busy timeout), then nothing new waits
COMMANDS = (
    ("run",),
    ("console",),
    ("check",),
    ("admin", "stats"),
    ("admin", "purge"),
    ("admin", "purge", "--dry-run"),
    ("admin", "export"),
    ("admin", "backup", "BACKUP"),
)


async def started(
    database: Path, *args: str, stdin: int = subprocess.DEVNULL, **env: str
) -> asyncio.subprocess.Process:
    args = tuple(str(database.parent.parent / "backup.sqlite3") if a == "BACKUP" else a for a in args)
    return await bot_process(
        str(database.parent.parent / "none.env"),
        *args,
        stdin=stdin,
        env=clean_environment(DATABASE_PATH=str(database), **env),
    )


async def finished(process: asyncio.subprocess.Process, within: float) -> tuple[int, str]:
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"still running after {within:.0f} s")
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


async def assert_one_line_and_exit_2(database: Path, command: tuple[str, ...], cause: str, **env: str) -> None:
    begun = time.monotonic()
    code, output = await finished(await started(database, *command, **env), EXIT_WITHIN_SECONDS)
    took = time.monotonic() - begun
    assert code == 2, output
    assert "Traceback" not in output
    named = [line for line in output.splitlines() if str(database.parent) in line and cause in line]
    assert named, f"no line names {database.parent} and {cause!r}: {output}"
    assert took < EXIT_WITHIN_SECONDS


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStub]:
    stub = await TelegramStub().start()
    yield stub
    await stub.close()


def platform_env(command: tuple[str, ...], telegram: TelegramStub) -> dict[str, str]:
    """`run` with a platform goes through its pre-flight first (without one it opens the console)."""
    if command != ("run",):
        return {}
    return {"TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.api_url}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
async def test_a_damaged_database_file_stops_every_command(
    tmp_path: Path, telegram: TelegramStub, command: tuple[str, ...]
) -> None:
    database = tmp_path / "data" / "petition.sqlite3"
    database.parent.mkdir()
    database.write_bytes(b"definitely not SQLite " * 400)
    await assert_one_line_and_exit_2(
        database, command, "not a valid SQLite database", **platform_env(command, telegram)
    )
    assert not (tmp_path / "backup.sqlite3").exists()


@contextlib.contextmanager
def held_by_another_process(database: Path) -> Iterator[None]:
    """Another program (a second bot, a copy tool) holds the write lock."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def migrated(database: Path) -> None:
    db = await SqliteDatabase.open(database)
    await db.close()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
async def test_a_database_locked_by_another_process_stops_every_command(
    tmp_path: Path, telegram: TelegramStub, command: tuple[str, ...]
) -> None:
    database = tmp_path / "data" / "petition.sqlite3"
    await migrated(database)
    with held_by_another_process(database):
        await assert_one_line_and_exit_2(
            database, command, "locked by another process", **platform_env(command, telegram)
        )


@contextlib.contextmanager
def read_only_file_system(folder: Path, database: Path) -> Iterator[None]:
    """A real read-only mount holding the database (root only): what a full or remounted disk gives."""
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.skipif(not can_mount(), reason="mounting a read-only file system needs root")
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
async def test_a_read_only_file_system_stops_every_command(
    tmp_path: Path, telegram: TelegramStub, command: tuple[str, ...]
) -> None:
    folder = tmp_path / "data"
    database = folder / "petition.sqlite3"
    with read_only_file_system(folder, database):
        await migrated(database)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        cause = "not writable" if command in (("run",), ("console",), ("check",)) else "cannot be opened"
        await assert_one_line_and_exit_2(database, command, cause, **platform_env(command, telegram))


# A stop signal always ends the process ------------------------------------------------------------


async def test_sigterm_ends_the_console_while_its_writes_wait_for_a_lock(tmp_path: Path) -> None:
    database = tmp_path / "data" / "petition.sqlite3"
    await migrated(database)
    process = await started(database, "console", stdin=asyncio.subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"/aide\n")
    await process.stdin.drain()
    await asyncio.wait_for(process.stdout.readline(), 30)  # it is up and answering
    with held_by_another_process(database):
        process.stdin.write(b"/langue en\n" * 3)  # each waits for the write lock
        await process.stdin.drain()
        await asyncio.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        # The write in flight gets its busy timeout; after the signal nothing new waits for the lock.
        code, output = await finished(process, STOPPED_WITHIN_SECONDS)
    assert code == 0, output  # a clean stop, not the watchdog's
    assert "Traceback" not in output
    assert output.count("bot.router: storage unavailable") == 1  # the line in flight; none taken after the signal


@pytest.mark.parametrize("command", [("run",), ("console",)], ids=" ".join)
async def test_sigterm_during_start_up_ends_the_process(
    tmp_path: Path, telegram: TelegramStub, command: tuple[str, ...]
) -> None:
    database = tmp_path / "data" / "petition.sqlite3"
    telegram.hold("getMe")  # a platform that never answers at start-up: the pre-flight waits for it
    process = await started(
        database, *command, stdin=asyncio.subprocess.PIPE, **platform_env(("run",), telegram), HEALTH_PORT=""
    )
    await asyncio.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    code, output = await finished(process, EXIT_WITHIN_SECONDS)
    assert code in (0, -signal.SIGTERM), output
    assert "Traceback" not in output


class _NeverStarts:
    name = "stuck"

    async def start(self) -> None:
        await asyncio.Event().wait()

    async def stop(self) -> None:
        raise AssertionError("a component that never started is not stopped")


async def test_a_stop_signal_during_a_component_start_stops_without_waiting_for_it() -> None:
    stop = asyncio.Event()
    started_parts: list[object] = []
    waiting = asyncio.create_task(_start_until_stopped([_NeverStarts()], started_parts, stop))  # type: ignore[list-item]
    await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(waiting, 5) is False
    assert started_parts == []
