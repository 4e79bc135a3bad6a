"""Telegram reply path: our transport and router against PTB's bare dispatch, in the same run.

Both sides talk real HTTP on 127.0.0.1 to the same local Bot API stand-in
(`tests/telegram_stub.py`), with long polling:

- ours: `TelegramTransport` + the real router and handlers on a temporary SQLite
  database, answering `/compteur` (a database read and a rendered reply);
- bare reply: a stock PTB `Application` (its `Updater`, `MessageHandler`) whose
  handler sends a constant reply: the same HTTP round trips, no bot logic;
- bare no-op: the same application with a handler that does nothing (dispatch only).

Printed: updates/s for a burst of updates, and p50/p99 message→reply latency (from
the update being queued to the reply reaching the API) at a steady 50 updates/s.
Targets (issue 4): ours ≥ 50 % of the bare reply rate; p99 < 50 ms at 50 updates/s.

Run: .venv/bin/python -m bench.telegram [--burst 600] [--steady 250]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import build_bot
from bot.config import load_settings
from bot.transports.telegram import TelegramTransport
from tests.telegram_stub import TOKEN, TelegramStub, User

COMMAND = "/compteur"


@dataclass
class Result:
    name: str
    rate: float  # updates/s over the burst
    p50_ms: float
    p99_ms: float


def _users(n: int, offset: int) -> list[User]:
    # Many distinct supporters, as in a real burst (and so the per-user flood guard stays out of the way).
    return [User(offset + i, f"U{i}", language_code="fr") for i in range(n)]


async def _burst(stub: TelegramStub, n: int, replies: Callable[[], int]) -> float:
    start_count = replies()
    users = _users(n, 10_000)
    started = time.perf_counter()
    for user in users:
        stub.push(stub.message_update(user, COMMAND))
    await stub.wait_for(lambda: replies() - start_count >= n, timeout=120)
    return n / (time.perf_counter() - started)


async def _steady(
    stub: TelegramStub, n: int, per_second: float, reply_times: Callable[[int], float | None]
) -> list[float]:
    """Latency per update: queued at a steady rate, measured until its reply reaches the API."""
    users = _users(n, 500_000)
    queued: list[tuple[int, float]] = []
    started = time.perf_counter()
    for i, user in enumerate(users):
        await asyncio.sleep(max(0.0, started + i / per_second - time.perf_counter()))
        queued.append((user.id, time.monotonic()))
        stub.push(stub.message_update(user, COMMAND))
    await stub.wait_for(lambda: all(reply_times(uid) is not None for uid, _ in queued), timeout=120)
    return [(reply_times(uid) or 0.0) - at for uid, at in queued]


def _reply_times(stub: TelegramStub) -> Callable[[int], float | None]:
    """When each chat's first reply reached the API (indexed incrementally: the bench must stay cheap)."""
    seen: dict[int, float] = {}
    read = 0

    def first_reply(chat_id: int) -> float | None:
        nonlocal read
        calls = stub.calls
        for call in calls[read:]:
            if call.method == "sendMessage":
                seen.setdefault(int(call.params["chat_id"]), call.at)
        read = len(calls)
        return seen.get(chat_id)

    return first_reply


def _reply_count(stub: TelegramStub) -> Callable[[], int]:
    """How many replies reached the API (counted incrementally, as cheap as the baseline's counter)."""
    count = read = 0

    def replies() -> int:
        nonlocal count, read
        calls = stub.calls
        count += sum(1 for call in calls[read:] if call.method == "sendMessage")
        read = len(calls)
        return count

    return replies


def _summary(name: str, rate: float, latencies: list[float]) -> Result:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))] if ms else float("nan")
    return Result(name, rate, statistics.median(ms) if ms else float("nan"), p99)


async def bench_ours(burst: int, steady: int) -> Result:
    stub = await TelegramStub().start()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            env_file=None,
            database_path=Path(folder) / "bench.sqlite3",
            pseudonym_key="bench-pseudonym-key-0123456789abcdef",
            telegram_bot_token=TOKEN,
            telegram_api_url=stub.api_url,
            flood_max_per_minute=10_000,
        )
        bot = await build_bot(settings)
        transport = TelegramTransport(bot.services.for_transport(), bot.router)
        await transport.start()
        try:
            rate = await _burst(stub, burst, _reply_count(stub))
            latencies = await _steady(stub, steady, 50.0, _reply_times(stub))
        finally:
            await transport.stop()
            await bot.close()
            await stub.close()
    return _summary("ours: transport + router + SQLite", rate, latencies)


async def bench_bare(burst: int, steady: int, *, reply: bool) -> Result:
    stub = await TelegramStub().start()
    handled = 0

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal handled
        if reply and update.effective_message is not None:
            await update.effective_message.reply_text("ok")
        handled += 1

    app: Application[Any, Any, Any, Any, Any, Any] = ApplicationBuilder().token(TOKEN).base_url(stub.api_url).build()
    app.add_handler(MessageHandler(filters.ALL, answer))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=30)
        try:
            rate = await _burst(stub, burst, lambda: handled)
            latencies = await _steady(stub, steady, 50.0, _reply_times(stub)) if reply else []
        finally:
            await app.updater.stop()
            await app.stop()
            await stub.close()
    name = "PTB bare, constant reply" if reply else "PTB bare, no-op handler"
    return _summary(name, rate, latencies)


async def main(burst: int, steady: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    runs: list[Callable[[], Awaitable[Result]]] = [
        lambda: bench_bare(burst, steady, reply=False),
        lambda: bench_bare(burst, steady, reply=True),
        lambda: bench_ours(burst, steady),
    ]
    results = [await run() for run in runs]
    noop, bare, ours = results
    print(f"burst of {burst} updates; latency over {steady} updates at 50/s (real HTTP on 127.0.0.1)\n")
    print(f"{'path':40} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for r in results:
        print(f"{r.name:40} {r.rate:10.0f} {r.p50_ms:8.1f} {r.p99_ms:8.1f}")
    print()
    print(f"ours / bare reply rate : {ours.rate / bare.rate:6.0%}   (target >= 50 %)")
    print(f"ours / bare no-op rate : {ours.rate / noop.rate:6.0%}")
    print(f"ours p99 at 50/s       : {ours.p99_ms:6.1f} ms (target < 50 ms; bare reply p99 {bare.p99_ms:.1f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=600)
    parser.add_argument("--steady", type=int, default=250)
    args = parser.parse_args()
    asyncio.run(main(args.burst, args.steady))
