"""`petition-bot admin stats|export|backup|purge`: the operator's tools, run beside the bot.

Every command works on the live database while the bot runs: reads go through
their own connection in WAL mode, the backup uses SQLite's online backup API.
The export holds names and dates only (no pseudonym, no id): it is what the
organisers hand in with the petition. Files written here hold personal data, so
they are created with mode 0600.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from bot import retention
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import load_content
from bot.pseudonyms import KEY_FILE
from storage.contacts import ContactRepository
from storage.db import Database, SqliteDatabase, open_database
from storage.signatures import SignatureRepository, SignedName
from storage.subscriptions import GROUPS, SubscriptionRepository

TRANSPORTS = ("telegram", "matrix", "console")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser("admin", help="operator tools: stats, export, backup, purge")
    tools = admin.add_subparsers(dest="admin_command", required=True)
    tools.add_parser("stats", help="signatures (in all and per day), followers, subscribed groups")
    export = tools.add_parser("export", help="names and dates of signatures (no pseudonym, no id)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--output", type=Path, default=None, help="write to this file (mode 0600) instead of stdout")
    backup = tools.add_parser("backup", help="a consistent copy of the database, safe while the bot runs")
    backup.add_argument("path", type=Path)
    purge = tools.add_parser("purge", help="delete personal data once the retention period is over")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    move = tools.add_parser(
        "import-sqlite", help="copy a SQLite database file into the (empty) PostgreSQL database of DATABASE_URL"
    )
    move.add_argument("path", type=Path, help="the SQLite file, e.g. /var/lib/petition-bot/petition.sqlite3")


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    db = await open_database(settings.database_path, settings.postgres_url)
    try:
        yield db
    finally:
        await db.close()


async def run(
    args: argparse.Namespace, settings: Settings, out: TextIO | None = None, clock: Clock | None = None
) -> int:
    """Run one admin command; returns the process exit code."""
    out = out or sys.stdout
    command = args.admin_command
    if command == "import-sqlite":
        return await _import_sqlite(settings, args.path, out)
    if command == "backup" and settings.postgres_url:
        print(pg_dump_advice(settings.postgres_url, args.path), file=sys.stderr)
        return 2
    if command == "backup" and args.path.exists():
        print(f"petition-bot: {args.path} already exists; choose a new file", file=sys.stderr)
        return 2
    async with _database(settings) as db:
        if command == "stats":
            await _stats(db, settings, out)
        elif command == "export":
            await _export(db, settings, args.format, args.output, out)
        elif command == "backup":
            await db.backup(args.path)
            os.chmod(args.path, 0o600)
            print(f"backup written to {args.path}", file=out)
        elif command == "purge":
            campaign = load_content(settings.campaign_folder).campaign
            now = (clock or SystemClock()).now()
            report = await retention.purge(db, campaign, now, dry_run=args.dry_run)
            _print_purge(report, out)
    return 0


async def _stats(db: Database, settings: Settings, out: TextIO) -> None:
    signatures = SignatureRepository(db, settings.zone)
    print(f"signatures: {await signatures.count()}", file=out)
    print(f"followers: {await ContactRepository(db).active_count()}", file=out)
    print(f"groups: {await SubscriptionRepository(db).count(GROUPS, TRANSPORTS)}", file=out)
    days = await signatures.per_day()
    if days:
        print("per day (signed, withdrawn):", file=out)
        for day in days:
            print(f"  {day.day.isoformat()}  {day.signed}  {day.withdrawn}", file=out)


def _csv_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_export(rows: list[SignedName], fmt: str) -> str:
    if fmt == "json":
        items = [{"name": r.name, "signed_at": r.signed_at.isoformat()} for r in rows]
        return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "signed_at"])
    for r in rows:
        writer.writerow([_csv_cell(r.name), r.signed_at.isoformat()])
    return buffer.getvalue()


async def _export(db: Database, settings: Settings, fmt: str, output: Path | None, out: TextIO) -> None:
    text = render_export(await SignatureRepository(db, settings.zone).names(), fmt)
    if output is None:
        out.write(text)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: make it private too
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    print(f"export written to {output}", file=out)


def _import_problem(settings: Settings, path: Path) -> str | None:
    if not settings.postgres_url:
        return "set DATABASE_URL to the PostgreSQL database to copy into"
    if not path.is_file():
        return f"{path} is not a file: give the SQLite database to copy"
    key_file = path.parent / KEY_FILE
    key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    if key_file.is_file() and key_file.read_bytes().strip() != key.encode():
        return (
            f"PSEUDONYM_KEY is not the key in {key_file}: set PSEUDONYM_KEY to that file's content on every"
            " instance first, or every signer becomes a stranger to the bot"
        )
    return None


async def _import_sqlite(settings: Settings, path: Path, out: TextIO) -> int:
    """The move to PostgreSQL: the whole SQLite database copied into an empty PostgreSQL one."""
    from storage.copy import copy_sqlite_to_postgres
    from storage.postgres import PostgresDatabase, describe

    problem = _import_problem(settings, path)
    if problem is not None:
        print(f"petition-bot: {problem}", file=sys.stderr)
        return 2
    source = await SqliteDatabase.open(path)
    try:
        target = await PostgresDatabase.open(settings.postgres_url)
        try:
            copied = await copy_sqlite_to_postgres(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    tables = ", ".join(f"{table} {n}" for table, n in copied.tables.items() if n)
    print(f"copied {copied.total} rows into {describe(settings.postgres_url)}: {tables}", file=out)
    return 0


def pg_dump_advice(url: str, path: Path) -> str:
    """`admin backup` copies SQLite files; a PostgreSQL database is backed up by its own tool."""
    from storage.postgres import describe

    return (
        "petition-bot: the database is PostgreSQL (DATABASE_URL): back it up with pg_dump, e.g.\n"
        f"  pg_dump --format=custom --file={path} '{describe(url)}'\n"
        "(the password from ~/.pgpass or PGPASSWORD; see docs/OPERATIONS.md, backups)"
    )


def _print_purge(report: retention.PurgeReport, out: TextIO) -> None:
    if not report.due:
        print(f"nothing to purge before {report.purge_date.isoformat()}", file=out)
        return
    rows = report.rows
    verb = "would delete" if report.dry_run else "deleted"
    print(
        f"{verb}: {rows.signatures} signatures, {rows.contacts} contacts, "
        f"{rows.dialogues} dialogues, {rows.preferences} preferences, {rows.deliveries} deliveries to private chats",
        file=out,
    )
