"""`petition-bot admin …` as the operator runs it, on the bot's live database."""

import argparse
import asyncio
import csv
import datetime as dt
import io
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import admin_cli
from bot.app import Bot
from bot.config import Settings
from storage.db import open_database
from storage.signatures import SignatureRepository
from tests.conftest import TEST_KEY, Chat, FakeClock, make_settings
from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
HEX64 = re.compile(r"[0-9a-f]{64}")


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
    environment.update({"DATABASE_PATH": str(settings.database_path), "PSEUDONYM_KEY": TEST_KEY})
    if settings.postgres_url:
        environment["DATABASE_URL"] = settings.postgres_url
    return subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", str(settings.database_path.parent / "missing.env"), "admin", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
    )


async def two_signers(chat: Callable[..., Chat]) -> None:
    ana = chat(id="111222333", name="Ana Lopez")
    await ana.say("/signer")
    await ana.press(1)
    await ana.press(1)
    await ana.press(1)  # news: yes
    bob = chat(id="444555666", name="Bob")
    await bob.say("/signer")
    await bob.press(3)
    await bob.say("=SUM(A1:A9)")
    await bob.press(1)
    await bob.press(2)  # news: no


async def test_stats_counts_signatures_per_day_followers_and_groups(
    chat: Callable[..., Chat], bot: Bot, settings: Settings
) -> None:
    await two_signers(chat)
    result = cli(settings, "stats")
    assert result.returncode == 0, result.stderr
    assert "signatures: 2" in result.stdout
    assert "followers: 1" in result.stdout
    assert "groups: 0" in result.stdout
    assert "2026-11-29  2  0" in result.stdout


async def test_export_csv_and_json_hold_names_and_dates_only(
    chat: Callable[..., Chat], bot: Bot, settings: Settings
) -> None:
    await two_signers(chat)
    result = cli(settings, "export", "--format", "csv")
    assert result.returncode == 0, result.stderr
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == ["name", "signed_at"]
    assert sorted(r[0] for r in table[1:]) == ["'=SUM(A1:A9)", "Ana Lopez"]  # no spreadsheet formula
    as_json = cli(settings, "export", "--format", "json")
    items = json.loads(as_json.stdout)
    assert all(set(item) == {"name", "signed_at"} for item in items) and len(items) == 2
    for out in (result.stdout, as_json.stdout):
        assert not HEX64.search(out) and "111222333" not in out and "444555666" not in out


async def test_export_to_a_file_is_private_to_the_operator(
    chat: Callable[..., Chat], bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    await two_signers(chat)
    target = tmp_path / "export.json"
    result = cli(settings, "export", "--format", "json", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 2


@pytest.mark.sqlite_only
async def test_backup_is_consistent_while_the_bot_keeps_signing(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    repo = SignatureRepository(bot.services.db)
    now = bot.services.clock.now()
    for i in range(300):
        await repo.sign(f"before{i}", f"Name {i}", "v1", now)
    stop = asyncio.Event()

    async def keep_signing() -> int:
        i = 0
        while not stop.is_set():
            await repo.sign(f"during{i}", f"Name {i}", "v1", now)
            i += 1
            await asyncio.sleep(0)
        return i

    writer = asyncio.create_task(keep_signing())
    await asyncio.sleep(0.05)
    target = tmp_path / "backups" / "copy.sqlite3"
    out = io.StringIO()
    code = await admin_cli.run(argparse.Namespace(admin_command="backup", path=target), settings, out)
    stop.set()
    written_during = await writer
    assert code == 0 and "backup written" in out.getvalue()
    assert written_during > 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = copy.execute("SELECT COUNT(*) FROM signatures").fetchone()[0]
        counter = copy.execute("SELECT value FROM counters WHERE name = 'signatures'").fetchone()[0]
    finally:
        copy.close()
    assert rows == counter and rows >= 300  # a consistent snapshot: the counter matches its rows
    again = await admin_cli.run(argparse.Namespace(admin_command="backup", path=target), settings, io.StringIO())
    assert again == 2  # never overwrites a file


async def test_purge_dry_run_and_purge(chat: Callable[..., Chat], bot: Bot, settings: Settings) -> None:
    await two_signers(chat)
    early = cli(settings, "purge", "--dry-run")
    assert early.returncode == 0, early.stderr
    assert "nothing to purge before 2027-09-28" in early.stdout

    later = FakeClock(dt.datetime(2027, 10, 1, tzinfo=dt.UTC))
    out = io.StringIO()
    await admin_cli.run(argparse.Namespace(admin_command="purge", dry_run=True), settings, out, later)
    assert "would delete: 2 signatures, 1 contacts, 2 dialogues, 0 preferences" in out.getvalue()
    out = io.StringIO()
    await admin_cli.run(argparse.Namespace(admin_command="purge", dry_run=False), settings, out, later)
    assert "deleted: 2 signatures, 1 contacts" in out.getvalue()
    db = await open_database(settings.database_path, settings.postgres_url)
    try:
        async with db.read() as tx:
            assert (await tx.fetchone("SELECT COUNT(*) FROM signatures"))[0] == 0  # type: ignore[index]
    finally:
        await db.close()


async def test_backup_on_postgresql_points_to_pg_dump_without_the_password(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    settings = make_settings(tmp_path, database_url=postgres.url("anything"))
    result = cli(settings, "backup", str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 2
    assert "pg_dump --format=custom" in result.stderr and f"127.0.0.1:{postgres.port}/anything" in result.stderr
    assert postgres.app_password not in result.stderr + result.stdout
    assert not (tmp_path / "copy.sqlite3").exists()
