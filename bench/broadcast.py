"""A broadcast to 10 000 chats through the real outbox, pacer and Telegram transport.

The Bot API stand-in (tests/telegram_stub.py, extended here to enforce limits) runs
in its own process, as Telegram does, and answers 429 (retry_after 1 s) whenever
more than LIMIT messages arrive within one second, or a chat gets more than one
message per second; 2 % of the chats have blocked the bot (403). The rate is
scaled up from Telegram's (30/s limit, 25/s configured) so the run takes seconds.
While the broadcast runs, users keep sending /compteur and the stand-in measures
the time from each update being offered to the bot to its reply arriving.

Baseline, measured in the same run: the same interactive replies with no broadcast.
Printed: achieved rate / configured rate, 429s provoked, lost, duplicated, and the
p50/p99 reply latency (idle baseline, then during the broadcast).
Targets (issue 6): ≥ 95 % of the configured rate, 0 × 429, 0 lost, 0 duplicated,
reply p99 under 250 ms.

With `--postgres`, the same broadcast runs again with the database on PostgreSQL (a
throwaway local server): one leader sends, whatever the number of instances, so
this is the figure a PostgreSQL deployment gets, next to SQLite's in the same run.

Run: .venv/bin/python -m bench.broadcast [--destinations 10000] [--rate 250] [--limit 300] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot import broadcast
from bot.app import build_bot
from bot.config import load_settings
from bot.transports.telegram import TelegramTransport
from storage import broadcasts as store
from storage.outbox import OutboxRepository
from storage.subscriptions import FOLLOWERS
from tests.telegram_stub import TOKEN, TelegramStub, User, _ApiError

TEXT = "Bench: la pétition a besoin de vous"
FIRST_CHAT = 1_000_000
FIRST_USER = 9_000_000
INTERACTIVE_USERS = 300
INTERACTIVE_PER_SECOND = 20


class LimitedStandin(TelegramStub):
    """The stand-in, plus Telegram's limits on sendMessage and latency bookkeeping for replies."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.window: collections.deque[float] = collections.deque()
        self.last_to_chat: dict[int, float] = {}
        self.too_many = 0
        self.broadcast_calls: list[tuple[float, int, bool]] = []  # (time, chat, accepted)
        self.pushed: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.latencies: list[float] = []

    async def _m_send_message(self, p: dict[str, Any]) -> Any:
        now = time.monotonic()
        chat = int(p["chat_id"])
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        last = self.last_to_chat.get(chat)
        if len(self.window) >= self.limit or (last is not None and now - last < 1.0):
            self.too_many += 1
            raise _ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self.window.append(now)
        self.last_to_chat[chat] = now
        try:
            result = await super()._m_send_message(p)
        except _ApiError:
            if p.get("text") == TEXT:
                self.broadcast_calls.append((now, chat, False))
            raise
        if p.get("text") == TEXT:
            self.broadcast_calls.append((now, chat, True))
        elif chat >= FIRST_USER and self.pushed[chat]:
            self.latencies.append(now - self.pushed[chat].popleft())
        return result

    # Control endpoints for the bench process ------------------------------------

    async def control_push(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = User(int(body["user"]), "Bench")
        self.pushed[user.id].append(time.monotonic())
        self.push(self.message_update(user, str(body["text"])))
        return web.json_response({"ok": True})

    async def control_block(self, request: web.Request) -> web.Response:
        self.blocked.update(int(c) for c in (await request.json())["chats"])
        return web.json_response({"ok": True})

    async def control_reset_latencies(self, request: web.Request) -> web.Response:
        self.latencies = []
        return web.json_response({"ok": True})

    async def control_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "too_many": self.too_many,
                "broadcast_calls": self.broadcast_calls,
                "latencies": self.latencies,
                "pending_replies": sum(len(q) for q in self.pushed.values()),
            }
        )

    async def start(self) -> LimitedStandin:
        app = web.Application()
        app.router.add_post("/control/push", self.control_push)
        app.router.add_post("/control/block", self.control_block)
        app.router.add_post("/control/reset", self.control_reset_latencies)
        app.router.add_get("/control/stats", self.control_stats)
        app.router.add_route("*", "/bot{token}/{method}", self._endpoint)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return self


async def serve_standin(limit: int) -> None:
    standin = await LimitedStandin(limit).start()
    print(standin.base, flush=True)
    await asyncio.Event().wait()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Users:
    """People talking to the bot during the run, through the stand-in's control endpoint."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.n = 0

    async def talk(self, seconds: float | None, stop: asyncio.Event | None = None) -> int:
        sent = 0
        start = time.monotonic()
        while (seconds is None or time.monotonic() - start < seconds) and not (stop and stop.is_set()):
            user = FIRST_USER + self.n % INTERACTIVE_USERS
            self.n += 1
            async with self.session.post(f"{self.base}/control/push", json={"user": user, "text": "/compteur"}):
                pass
            sent += 1
            await asyncio.sleep(1 / INTERACTIVE_PER_SECOND)
        return sent

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(f"{self.base}/control/stats") as response:
            return dict(await response.json())

    async def wait_replies(self, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            if not (await self.stats())["pending_replies"] or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.05)


async def run(destinations: int, rate: float, limit: int, blocked_share: float, url: str = "") -> None:
    standin = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.broadcast", "--standin", "--limit", str(limit), stdout=asyncio.subprocess.PIPE
    )
    assert standin.stdout is not None
    base = (await standin.stdout.readline()).decode().strip()
    folder = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    settings = load_settings(
        env_file=None,
        database_path=folder / "bench.sqlite3",
        database_url=url or None,
        pseudonym_key="bench-key-0123456789abcdef0123456789",
        telegram_bot_token=TOKEN,
        telegram_api_url=f"{base}/bot",
        broadcast_rate_telegram=rate,
        quiet_hours="",
        log_level="WARNING",
    )
    bot = await build_bot(settings)
    chats = [FIRST_CHAT + i for i in range(destinations)]
    blocked = set(chats[:: round(1 / blocked_share)]) if blocked_share else set()
    now = dt.datetime.now(dt.UTC).isoformat()
    async with bot.services.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO contacts (pseudonym, transport, chat_id, language, created_at, active)"
            " VALUES (?, 'telegram', ?, 'fr', ?, 1)",
            [(f"bench{c}", str(c), now) for c in chats],
        )
    transport = TelegramTransport(bot.services.for_transport(), bot.router, poll_timeout=1)
    outbox = bot.services.outbox
    async with aiohttp.ClientSession() as session:
        users = Users(session, base)
        async with session.post(f"{base}/control/block", json={"chats": sorted(blocked)}):
            pass
        await transport.start()
        try:
            # Baseline: replies with nothing else going on.
            await users.talk(3.0)
            await users.wait_replies()
            idle = list((await users.stats())["latencies"])
            async with session.post(f"{base}/control/reset"):
                pass

            await outbox.start()
            started = time.monotonic()
            moment = dt.datetime.now(dt.UTC)
            async with bot.services.db.transaction() as tx:
                await broadcast.enqueue(
                    tx,
                    bot.services,
                    store.NewBroadcast(store.MESSAGE, FOLLOWERS, {"markup": TEXT}, "bench", "bench", moment, moment),
                    moment,
                )
            outbox.wake()
            stop = asyncio.Event()
            talking = asyncio.create_task(users.talk(None, stop))
            repo = OutboxRepository(bot.services.db)
            while True:
                if (await repo.progress(1)).finished:
                    break
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - started
            stop.set()
            await talking
            await users.wait_replies()
            stats = await users.stats()
            progress = await repo.progress(1)
        finally:
            await outbox.stop()
            await transport.stop(grace=0)
            await bot.close()
            standin.terminate()
            await standin.wait()

    calls = stats["broadcast_calls"]
    times = [c[0] for c in calls]
    span = max(times) - min(times) if len(times) > 1 else float("nan")
    achieved = (len(calls) - 1) / span if span else float("nan")
    received = collections.Counter(c[1] for c in calls if c[2])
    expected = set(chats) - blocked
    lost = len(expected - set(received))
    duplicated = sum(n - 1 for n in received.values())
    during = stats["latencies"]
    print(f"database: {'PostgreSQL (local throwaway server)' if url else 'SQLite (WAL)'}")
    print(f"destinations: {destinations} ({len(blocked)} have blocked the bot: 403)")
    print(f"configured rate: {rate:g}/s (stand-in limit {limit}/s, 1/s per chat)")
    print(f"achieved rate:   {achieved:.1f}/s = {achieved / rate:.1%} of configured (whole run {elapsed:.1f} s)")
    print(f"429s provoked:   {stats['too_many']}")
    print(
        f"lost: {lost}   duplicated: {duplicated}   outbox: sent={progress.sent} gone={progress.gone} "
        f"failed={progress.failed}"
    )
    print(
        f"reply latency idle (baseline):   p50 {percentile(idle, 0.5) * 1000:.1f} ms  "
        f"p99 {percentile(idle, 0.99) * 1000:.1f} ms  (n={len(idle)})"
    )
    print(
        f"reply latency during broadcast:  p50 {percentile(during, 0.5) * 1000:.1f} ms  "
        f"p99 {percentile(during, 0.99) * 1000:.1f} ms  (n={len(during)})"
    )
    targets = achieved / rate >= 0.95 and stats["too_many"] == 0 and lost == 0 and duplicated == 0
    targets = targets and percentile(during, 0.99) < 0.25
    print("targets met" if targets else "TARGETS MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--destinations", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=250.0, help="configured broadcast rate (25/s scaled ×10)")
    parser.add_argument("--limit", type=int, default=300, help="stand-in limit per second (30/s scaled ×10)")
    parser.add_argument("--blocked", type=float, default=0.02)
    parser.add_argument("--postgres", action="store_true", help="then the same on PostgreSQL")
    parser.add_argument("--standin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with contextlib.suppress(KeyboardInterrupt):
        if args.standin:
            asyncio.run(serve_standin(args.limit))
        else:
            asyncio.run(run(args.destinations, args.rate, args.limit, args.blocked))
            if args.postgres:
                from tests.postgres import PostgresServer

                server = PostgresServer()
                server.start()
                try:
                    print()
                    asyncio.run(run(args.destinations, args.rate, args.limit, args.blocked, server.new_database()))
                finally:
                    server.stop()


if __name__ == "__main__":
    main()
