"""Signing throughput: whole dialogues through the router against bare inserts, in the same run.

- ours: 1 000 supporters, 100 at a time, each completes the whole dialogue through
  the real router and handlers on a real SQLite file (WAL): `/signer`, the name
  choice (initials), **Je signe** — three dispatches, the confirm being the
  transaction that closes the dialogue, inserts the row and moves the counters;
- baseline: the same number of single-row `INSERT … ON CONFLICT DO NOTHING`
  transactions through aiosqlite (one connection, `BEGIN IMMEDIATE`, WAL), with 100
  concurrent callers.

Then the count read at 10⁶ signatures: the table is filled to a million rows and
the bot's count (`SignatureRepository.count`, one key lookup) is timed next to
`SELECT COUNT(*)` (a scan), both through aiosqlite, and the bare SQL lookup in the
sqlite3 module without the thread hop.
Targets (issue 3): ≥ 500 completed dialogues/s; count read < 0.1 ms at 10⁶; no
"database is locked", no duplicate row.

With `--postgres`, the same dialogues on PostgreSQL (a throwaway server started
by the tests' helper, on this machine), by 1 and then 3 instances: separate
processes on one database, each taking its share of the supporters, started
together; the rate is all dialogues over the slowest instance's time. They are
printed next to SQLite's single instance, measured in the same run.

Run: .venv/bin/python -m bench.signing [--supporters 1000] [--concurrency 100] [--rows 1000000] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import aiosqlite
import psycopg

from bot.app import build_bot
from bot.config import load_settings
from bot.events import Chat, ChatKind, Inbound, Reply, Sender, Sent
from storage.signatures import SignatureRepository


class Recorder:
    """An outbound port that keeps the last reply per chat, so the bench can press its choices."""

    def __init__(self) -> None:
        self.last: dict[str, Reply] = {}
        self.receipts = 0

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        self.last[chat.id] = reply
        if "signature est enregistrée" in reply.text.plain:
            self.receipts += 1
        return Sent(chat, "1")

    async def edit(self, sent: Sent, reply: Reply) -> None:
        return None

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        return False

    def chat_link(self, start: str | None = None) -> str | None:
        return None


class Failures(logging.Handler):
    """Counts storage failures the router or the handlers logged (locked, full)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "storage unavailable" in message or "not saved" in message or "locked" in message:
            self.count += 1


def _press(recorder: Recorder, chat: Chat, sender: Sender, suffix: str) -> Inbound:
    reply = recorder.last[chat.id]
    choice = next(c for c in reply.choices if c.payload.endswith(suffix))
    return Inbound(chat, sender, choice=choice.payload)


async def ours(
    folder: Path, supporters: int, concurrency: int, url: str = "", first: int = 0, go: asyncio.Event | None = None
) -> tuple[float, int, int, int]:
    settings = load_settings(
        env_file=None,
        database_path=folder / "ours.sqlite3",
        database_url=url or None,
        pseudonym_key="bench-pseudonym-key-0123456789abcdef",
        flood_max_per_minute=10_000,
        log_level="WARNING",
    )
    bot = await build_bot(settings)
    recorder = Recorder()
    failures = Failures()
    logging.getLogger().addHandler(failures)
    gate = asyncio.Semaphore(concurrency)
    if go is not None:
        await go.wait()  # every instance is built: start together

    async def supporter(i: int) -> None:
        async with gate:
            chat = Chat("console", f"u{i}", ChatKind.PRIVATE)
            sender = Sender(f"u{i}", f"Supporter {i}", "fr")
            await bot.router.dispatch(Inbound(chat, sender, text="/signer", addressed=True), recorder)
            await bot.router.dispatch(_press(recorder, chat, sender, ":anonymous"), recorder)
            await bot.router.dispatch(_press(recorder, chat, sender, ":yes"), recorder)

    started = time.perf_counter()
    await asyncio.gather(*(supporter(i) for i in range(first, first + supporters)))
    elapsed = time.perf_counter() - started
    logging.getLogger().removeHandler(failures)
    if url:  # one of several instances: the totals are checked by the parent
        await bot.close()
        return supporters / elapsed, supporters, 0, failures.count
    async with bot.services.db.read() as tx:
        row = await tx.fetchone("SELECT COUNT(*) AS n, COUNT(DISTINCT pseudonym) AS d FROM signatures")
        counter = await tx.fetchone("SELECT value FROM counters WHERE name = 'signatures'")
    assert row is not None and counter is not None
    duplicates = int(row["n"]) - int(row["d"])
    if int(counter["value"]) != int(row["n"]) or recorder.receipts != supporters:
        raise SystemExit(f"inconsistent: rows={row['n']} counter={counter['value']} receipts={recorder.receipts}")
    await bot.close()
    return supporters / elapsed, int(row["n"]), duplicates, failures.count


async def baseline(folder: Path, supporters: int, concurrency: int) -> float:
    conn = await aiosqlite.connect(folder / "baseline.sqlite3", isolation_level=None)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("CREATE TABLE t (pseudonym TEXT PRIMARY KEY, name TEXT, consent_version TEXT, signed_at TEXT)")
    lock = asyncio.Lock()
    gate = asyncio.Semaphore(concurrency)

    async def insert(i: int) -> None:
        async with gate, lock:
            await conn.execute("BEGIN IMMEDIATE")
            await conn.execute(
                "INSERT INTO t VALUES (?, ?, ?, ?) ON CONFLICT (pseudonym) DO NOTHING",
                (f"{i:064x}", "S. B.", "v1", "2026-11-29T10:00:00+00:00"),
            )
            await conn.execute("COMMIT")

    started = time.perf_counter()
    await asyncio.gather(*(insert(i) for i in range(supporters)))
    elapsed = time.perf_counter() - started
    await conn.close()
    return supporters / elapsed


async def count_read(folder: Path, rows: int, repeat: int = 2_000) -> tuple[float, float, float]:
    """Milliseconds per read at `rows` signatures: the bot's counter, COUNT(*) and the bare lookup."""
    path = folder / "ours.sqlite3"
    sync = sqlite3.connect(path, isolation_level=None)
    sync.execute("BEGIN")
    sync.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO signatures (pseudonym, name, consent_version, signed_at)"
        " SELECT printf('%064x', i + 1000000000), 'S. B.', 'v1', '2026-11-29T10:00:00+00:00' FROM n",
        (rows,),
    )
    sync.execute("UPDATE counters SET value = (SELECT COUNT(*) FROM signatures) WHERE name = 'signatures'")
    sync.execute("COMMIT")
    started = time.perf_counter()
    for _ in range(repeat):
        sync.execute("SELECT value FROM counters WHERE name = ?", ("signatures",)).fetchone()
    bare_ms = (time.perf_counter() - started) * 1000 / repeat
    sync.close()

    from storage.db import SqliteDatabase

    db = await SqliteDatabase.open(path)
    repo = SignatureRepository(db)
    total = await repo.count()
    assert total >= rows, total
    started = time.perf_counter()
    for _ in range(repeat):
        await repo.count()
    counter_ms = (time.perf_counter() - started) * 1000 / repeat
    started = time.perf_counter()
    for _ in range(5):
        async with db.read() as tx:
            await tx.fetchone("SELECT COUNT(*) FROM signatures")
    scan_ms = (time.perf_counter() - started) * 1000 / 5
    await db.close()
    return counter_ms, scan_ms, bare_ms


async def instance(url: str, first: int, supporters: int, concurrency: int) -> None:
    """One instance as its own process: build, say ready, wait for the go line, sign, print the time."""
    go = asyncio.Event()
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as tmp:
        task = asyncio.create_task(ours(Path(tmp), supporters, concurrency, url, first, go))
        await asyncio.sleep(0)
        while not go.is_set() and not task.done():
            print("ready", flush=True)
            await loop.run_in_executor(None, sys.stdin.readline)
            go.set()
        rate, _, _, failures = await task
    print(f"{supporters / rate:.6f} {failures}", flush=True)


async def on_postgres(supporters: int, concurrency: int, instances: int, url: str) -> tuple[float, int, int]:
    """Completed dialogues/s with `instances` processes sharing the database; also rows and duplicates."""
    share = supporters // instances
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.signing",
            "--instance",
            url,
            str(k * share),
            str(share),
            str(concurrency),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for k in range(instances)
    ]
    for p in procs:
        assert p.stdout is not None and (await p.stdout.readline()).strip() == b"ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        await p.stdin.drain()
    times = []
    for p in procs:
        out, _ = await p.communicate()
        times.append(float(out.split()[0]))
    with psycopg.connect(url) as conn:
        n, distinct = conn.execute("SELECT COUNT(*), COUNT(DISTINCT pseudonym) FROM signatures").fetchone()  # type: ignore[misc]
    return share * instances / max(times), int(n), int(n) - int(distinct)


async def postgres_figures(supporters: int, concurrency: int, sqlite_rate: float) -> None:
    from tests.postgres import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        print("PostgreSQL (local throwaway server, same machine):")
        for instances in (1, 3):
            url = server.new_database()
            rate, rows, duplicates = await on_postgres(supporters, concurrency, instances, url)
            print(
                f"  {instances} instance(s): {rate:8.0f} completed dialogues/s"
                f" ({rate / sqlite_rate:.2f}x SQLite with one); rows {rows}, duplicates {duplicates}"
            )
    finally:
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--supporters", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL with 1 and 3 instances")
    parser.add_argument("--instance", nargs=4, help=argparse.SUPPRESS)  # URL FIRST COUNT CONCURRENCY: a worker
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.instance:
        url, first, count, concurrency = args.instance
        await instance(url, int(first), int(count), int(concurrency))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base_rate = await baseline(folder, args.supporters, args.concurrency)
        rate, rows, duplicates, failures = await ours(folder, args.supporters, args.concurrency)
        print(f"supporters: {args.supporters}, {args.concurrency} at a time, SQLite WAL")
        print(f"ours      : {rate:8.0f} completed dialogues/s (3 dispatches each; target >= 500)")
        print(f"baseline  : {base_rate:8.0f} single-row INSERT … ON CONFLICT DO NOTHING transactions/s")
        print(f"ratio     : {rate / base_rate:8.2%} of the baseline")
        print(f"rows      : {rows}, duplicates: {duplicates}, storage failures (locked/full): {failures}")
        if args.postgres:
            await postgres_figures(args.supporters, args.concurrency, rate)
        counter_ms, scan_ms, bare_ms = await count_read(folder, args.rows)
        print(f"count read at {args.rows + rows:,} signatures:")
        print(f"  bot counter via aiosqlite : {counter_ms:.4f} ms (target < 0.1 ms)")
        print(f"  same lookup, bare sqlite3 : {bare_ms:.4f} ms")
        print(f"  SELECT COUNT(*) (a scan)  : {scan_ms:.4f} ms")


if __name__ == "__main__":
    asyncio.run(main())
