"""Matrix reply path: our transport and router against a bare matrix-nio echo bot, same Synapse, same run.

Both bots talk to one throwaway Synapse on 127.0.0.1 (`tests/synapse.py`, raised
rate limits), each in direct chats with the same kind of matrix-nio users:

- ours: `MatrixTransport` + the real router and handlers on a temporary SQLite
  database, answering `!compteur` (a database read and a rendered HTML notice),
  with its sync token stored after every sync;
- bare: a matrix-nio `AsyncClient` with `sync_forever` and one callback that
  sends a constant `m.notice`: the same round trips, no bot logic.

Printed: message→reply latency p50/p99 (one user, one message at a time, from
sending to the reply reaching the user's client) and replies/s (many users
sending at once), then ours/bare ratios. Target (issue 5): p99 within 1.5x of
the bare echo bot.

Run: .venv/bin/python -m bench.matrix [--round-trips 200] [--users 10] [--messages 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
)

from bot.app import build_bot
from bot.config import load_settings
from bot.transports.matrix import MatrixTransport
from tests.synapse import Account, Synapse

COMMAND = "!compteur"


@dataclass
class Result:
    name: str
    p50_ms: float
    p99_ms: float
    rate: float  # replies/s with many users at once


class User:
    """A supporter's client: sends a message, notes when each reply arrives."""

    def __init__(self, synapse: Synapse, account: Account) -> None:
        self.account = account
        self.client = AsyncClient(synapse.url, account.user_id, device_id=account.device_id)
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.arrivals: dict[str, asyncio.Queue[float]] = defaultdict(asyncio.Queue)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async def on_notice(room: MatrixRoom, event: RoomMessageNotice) -> None:
            self.arrivals[room.room_id].put_nowait(time.perf_counter())

        self.client.add_event_callback(on_notice, RoomMessageNotice)
        first = await self.client.sync(timeout=0)
        every = {"room": {"timeline": {"limit": 100}}}
        self._task = asyncio.create_task(
            self.client.sync_forever(timeout=30_000, since=first.next_batch, sync_filter=every)
        )

    async def open_dm(self, bot_id: str) -> str:
        response = await self.client.room_create(
            is_direct=True, invite=[bot_id], preset=RoomPreset.trusted_private_chat
        )
        assert isinstance(response, RoomCreateResponse), response
        for _ in range(400):
            members = await self.client.joined_members(response.room_id)
            if bot_id in [m.user_id for m in getattr(members, "members", [])]:
                return str(response.room_id)
            await asyncio.sleep(0.025)
        raise RuntimeError("the bot did not join")

    async def send(self, room_id: str, text: str) -> None:
        await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def round_trip(self, room_id: str) -> float:
        started = time.perf_counter()
        await self.send(room_id, COMMAND)
        arrived = await asyncio.wait_for(self.arrivals[room_id].get(), 30)
        return arrived - started

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


class EchoBot:
    """The baseline: stock matrix-nio, one callback, a constant notice."""

    def __init__(self, synapse: Synapse, account: Account) -> None:
        self.user_id = account.user_id
        config = AsyncClientConfig(max_limit_exceeded=0)
        self.client = AsyncClient(synapse.url, account.user_id, device_id=account.device_id, config=config)
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
            if event.sender != self.user_id:
                content = {"msgtype": "m.notice", "body": "18 882 signatures", "format": "org.matrix.custom.html"}
                content["formatted_body"] = "<strong>18 882</strong> signatures"
                await self.client.room_send(room.room_id, "m.room.message", content)

        async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
            if event.state_key == self.user_id and event.membership == "invite":
                await self.client.join(room.room_id)

        self.client.add_event_callback(on_text, RoomMessageText)
        self.client.add_event_callback(on_invite, InviteMemberEvent)
        first = await self.client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 0}}})
        # The server's default timeline limit (10 per room and sync) would drop messages of a burst.
        every = {"room": {"timeline": {"limit": 100}}}
        self._task = asyncio.create_task(
            self.client.sync_forever(timeout=30_000, since=first.next_batch, sync_filter=every)
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


async def measure(name: str, synapse: Synapse, bot_id: str, round_trips: int, users: int, messages: int) -> Result:
    people = [User(synapse, synapse.register("fan")) for _ in range(users)]
    for person in people:
        await person.start()
    rooms = [await person.open_dm(bot_id) for person in people]
    try:
        for _ in range(10):  # warm-up: connections, caches
            await people[0].round_trip(rooms[0])
        latencies = [await people[0].round_trip(rooms[0]) for _ in range(round_trips)]

        started = time.perf_counter()
        for _ in range(messages):
            await asyncio.gather(*(p.send(r, COMMAND) for p, r in zip(people, rooms, strict=True)))
        for person, room in zip(people, rooms, strict=True):
            for _ in range(messages):
                await asyncio.wait_for(person.arrivals[room].get(), 60)
        rate = users * messages / (time.perf_counter() - started)
    finally:
        for person in people:
            await person.stop()
    cuts = statistics.quantiles(latencies, n=100)
    return Result(name, statistics.median(latencies) * 1000, cuts[98] * 1000, rate)


async def main(round_trips: int, users: int, messages: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        synapse = Synapse(Path(tmp) / "synapse")
        synapse.start()
        try:
            echo = EchoBot(synapse, synapse.register("echo"))
            await echo.start()
            try:
                bare = await measure("bare nio echo", synapse, echo.user_id, round_trips, users, messages)
            finally:
                await echo.stop()

            account = synapse.register("bot")
            settings = load_settings(
                env_file=None,
                database_path=Path(tmp) / "data" / "petition.sqlite3",
                pseudonym_key="bench-pseudonym-key-0123456789abcdef",
                flood_max_per_minute=10_000,
                matrix_homeserver=synapse.url,
                matrix_user_id=account.user_id,
                matrix_access_token=account.access_token,
                matrix_device_id=account.device_id,
            )
            bot = await build_bot(settings)
            transport = MatrixTransport(bot.services.for_transport(), bot.router)
            await transport.start()
            try:
                ours = await measure("ours (!compteur)", synapse, account.user_id, round_trips, users, messages)
            finally:
                await transport.stop()
                await bot.close()
        finally:
            synapse.stop()

    print(f"{'':18} {'p50 ms':>8} {'p99 ms':>8} {'replies/s':>10}")
    for r in (bare, ours):
        print(f"{r.name:18} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {r.rate:10.1f}")
    print(
        f"{'ours / bare':18} {ours.p50_ms / bare.p50_ms:7.2f}x {ours.p99_ms / bare.p99_ms:7.2f}x "
        f"{ours.rate / bare.rate:9.2f}x   (target: p99 within 1.5x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.round_trips, args.users, args.messages))
