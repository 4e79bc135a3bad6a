"""SIGTERM, as systemd sends it on `systemctl stop` or an upgrade: handlers finish, the data stays whole, exit 0.

The bot runs as a real process (`petition-bot console` for a dialogue, `petition-bot
run` against the local Bot API stand-in for a broadcast); the test then opens the
same database to check what a restart would find, and starts the bot again.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import io
import signal
import sqlite3
from pathlib import Path

from bot import broadcast
from bot.app import build_bot
from bot.events import Chat, Inbound, Sender
from bot.router import Router, Routes
from bot.transports.console import ConsoleTransport, ConsoleUser
from storage import broadcasts as store
from storage.subscriptions import GROUPS, SubscriptionRepository
from tests.conftest import make_settings, opened_bot
from tests.ops_helpers import ConsoleProcess, bot_process, clean_environment, free_port
from tests.telegram_stub import TelegramStub

GROUPS_COUNT = 300


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def test_sigterm_with_a_dialogue_open_exits_0_and_the_next_start_resumes_it(tmp_path: Path) -> None:
    database = tmp_path / "data" / "petition.sqlite3"
    admin = await ConsoleProcess.start(database, "--admin")
    await admin.say("/diffuser", until="[4] Annuler")
    await admin.say("1", until="Écrivez maintenant le message")
    code, err = await admin.terminate()  # while the dialogue waits for the message
    assert code == 0, err
    assert "Traceback" not in err

    assert integrity(database) == "ok"
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM dialogues").fetchone()[0] == 1

    again = await ConsoleProcess.start(database, "--admin")
    seen = await again.say("Tenez bon, on y est presque !", until="diffusion abandonnée")
    assert "Personne ne recevrait ce message" in seen  # the dialogue's next step, not a question's answer
    code, err = await again.terminate()
    assert code == 0, err


async def test_a_handler_in_flight_finishes_before_the_stop_and_a_stuck_one_is_bounded(tmp_path: Path) -> None:
    """The router's drain: what is being handled gets its time; a stuck handler does not hold the stop forever."""
    async with opened_bot(make_settings(tmp_path)) as bot:
        release = asyncio.Event()
        entered = asyncio.Event()
        finished: list[str] = []

        async def slow(ctx: object) -> None:
            entered.set()
            await release.wait()
            finished.append("answered")

        router = Router(Routes(free_text=slow), bot.services)
        console = ConsoleTransport(bot.services.for_transport(), router, ConsoleUser(), output=io.StringIO())
        event = Inbound(Chat("console", "1"), Sender("1"), "une question", addressed=True)
        handling = asyncio.create_task(router.dispatch(event, console))
        await asyncio.wait_for(entered.wait(), 5)
        assert router.in_flight == 1

        draining = asyncio.create_task(router.drain(5.0))
        # The drain can only end when the handler does: given a few turns of the loop, it must still wait.
        for _ in range(10):
            await asyncio.sleep(0)
        assert not draining.done()
        release.set()
        assert await draining == 0
        assert finished == ["answered"] and handling.done()

        release.clear()
        entered.clear()
        stuck = asyncio.create_task(router.dispatch(event, console))
        await asyncio.wait_for(entered.wait(), 5)
        assert await router.drain(0.1) == 1  # bounded: reported, not waited for
        stuck.cancel()


async def test_sigterm_during_a_broadcast_exits_0_and_the_next_start_sends_the_rest_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    bot = await build_bot(settings)
    repo = SubscriptionRepository(bot.services.db)
    groups = [str(-1001000000000 - i) for i in range(GROUPS_COUNT)]
    now = dt.datetime.now(dt.UTC)
    for chat_id in groups:
        await repo.subscribe("telegram", chat_id, ("milestones",), "fr", now)
    bot.services.outbounds["telegram"] = object()  # type: ignore[assignment]  # only its name matters here
    async with bot.services.db.transaction() as tx:
        new = store.NewBroadcast(store.MESSAGE, GROUPS, {"markup": "Tenez bon !"}, "term", "test", now, now)
        created = await broadcast.enqueue(tx, bot.services, new, now)
    assert created is not None and created[1] == GROUPS_COUNT
    await bot.close()

    stub = await TelegramStub().start()
    env = clean_environment(
        DATABASE_PATH=str(settings.database_path),
        TELEGRAM_BOT_TOKEN=stub.token,
        TELEGRAM_API_URL=stub.api_url,
        BROADCAST_RATE_TELEGRAM="100",
        QUIET_HOURS="",
        COUNT_SOURCE_URL=f"http://127.0.0.1:{free_port()}/petition",  # nothing there: no internet in tests
    )

    def received() -> list[str]:
        return [str(c.params["chat_id"]) for c in stub.sent("sendMessage")]

    async def start() -> asyncio.subprocess.Process:
        return await bot_process(
            str(tmp_path / "none.env"),
            "run",
            stdout=asyncio.subprocess.DEVNULL,
            env=env,
        )

    try:
        process = await start()
        await stub.wait_for(lambda: len(received()) >= GROUPS_COUNT // 3, timeout=60)
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        before_restart = len(received())
        assert before_restart < GROUPS_COUNT  # really stopped mid-way

        assert integrity(settings.database_path) == "ok"
        with sqlite3.connect(settings.database_path) as conn:
            statuses = dict(conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())
        assert set(statuses) <= {"sent", "pending"}  # nothing left half-claimed
        assert statuses["sent"] == len(set(received()))  # every send the platform got is recorded

        process = await start()
        await stub.wait_for(lambda: set(received()) >= set(groups), timeout=60)
        await asyncio.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
    finally:
        await stub.close()

    counts = collections.Counter(received())
    assert set(counts) == set(groups)  # nothing lost
    assert max(counts.values()) == 1  # a graceful stop repeats nothing
    with sqlite3.connect(settings.database_path) as conn:
        rows = dict(conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())
    assert rows == {"sent": GROUPS_COUNT}
