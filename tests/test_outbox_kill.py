"""kill -9 in the middle of a broadcast: the next start resumes; nothing lost, at most the in-flight sent twice."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from bot import broadcast
from bot.app import build_bot
from storage import broadcasts as store
from storage.subscriptions import GROUPS, SubscriptionRepository
from tests.conftest import TEST_KEY, FakeClock, make_settings

CHILD = Path(__file__).parent / "outbox_child.py"
GROUPS_COUNT = 400


class Recorder:
    def __init__(self) -> None:
        self.received: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/deliver", self._deliver)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/deliver"

    async def _deliver(self, request: web.Request) -> web.Response:
        self.received.append((await request.json())["chat"])
        return web.Response(text="ok")


async def start_child(tmp_path: Path, url: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_PATH": str(tmp_path / "petition.sqlite3"),
        "PSEUDONYM_KEY": TEST_KEY,
        "BROADCAST_RATE_TELEGRAM": "200",
        "QUIET_HOURS": "",
        "PYTHONPATH": str(CHILD.parent.parent),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), url, env=env, stdout=asyncio.subprocess.PIPE, cwd=str(tmp_path)
    )
    assert child.stdout is not None
    assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"ready"
    return child


async def wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_broadcast_killed_mid_way_resumes_with_nothing_lost(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    bot = await build_bot(settings, FakeClock())
    repo = SubscriptionRepository(bot.services.db)
    groups = [f"-{1000 + i}" for i in range(GROUPS_COUNT)]
    for chat_id in groups:
        await repo.subscribe("console", chat_id, ("milestones",), "fr", bot.services.clock.now())
    bot.services.outbounds["console"] = object()  # type: ignore[assignment]  # only its name matters here
    now = dt_now()
    async with bot.services.db.transaction() as tx:
        created = await broadcast.enqueue(
            tx,
            bot.services,
            store.NewBroadcast(store.MESSAGE, GROUPS, {"markup": "Tenez bon !"}, "kill", "test", now, now),
            now,
        )
    assert created is not None and created[1] == GROUPS_COUNT
    await bot.close()

    recorder = Recorder()
    await recorder.start()
    try:
        child = await start_child(tmp_path, recorder.url)
        await wait_until(lambda: len(recorder.received) >= GROUPS_COUNT // 3)
        child.send_signal(signal.SIGKILL)
        await child.wait()
        received_before_restart = len(recorder.received)
        assert received_before_restart < GROUPS_COUNT  # really killed mid-way

        check = await build_bot(settings, FakeClock())
        async with check.services.db.read() as tx:
            row = await tx.fetchone("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'sending'")
        in_flight = int(row["n"]) if row else 0
        await check.close()

        child = await start_child(tmp_path, recorder.url)
        await wait_until(lambda: set(recorder.received) >= set(groups))
        await asyncio.sleep(0.3)
        child.terminate()
        await child.wait()
    finally:
        assert recorder.runner is not None
        await recorder.runner.cleanup()

    counts = collections.Counter(recorder.received)
    assert set(counts) == set(groups)  # nothing lost
    duplicated = sum(n - 1 for n in counts.values())
    print(f"killed after {received_before_restart}; in flight {in_flight}; duplicated {duplicated}")
    assert duplicated <= in_flight  # at most the deliveries in flight at the kill
    final = await build_bot(settings, FakeClock())
    async with final.services.db.read() as tx:
        rows = await tx.fetchall("SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status")
    await final.close()
    assert {r["status"]: r["n"] for r in rows} == {"sent": GROUPS_COUNT}


def dt_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
