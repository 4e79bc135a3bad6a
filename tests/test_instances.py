"""Three `petition-bot run` processes on one PostgreSQL database behave as one bot.

Telegram runs in webhook mode behind a small round-robin load balancer (aiohttp,
in this file), so consecutive updates reach different instances; the Bot API is
the local stand-in (`tests/telegram_stub.py`); the database is the session's real
PostgreSQL server. The stories: one supporter pressing "Je signe" 100 times at
once across the three instances signs once; two admins crossing a milestone on
two instances at the same moment announce it once; `kill -9` of the leader in the
middle of a 2,000-group broadcast hands the outbox to another instance within
15 s, with nothing lost and no more duplicates than the deliveries in flight.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg
import pytest
from aiohttp import web

from tests.ops_helpers import ROOT, clean_environment, free_port
from tests.postgres import PostgresServer
from tests.telegram_harness import button_data, buttons
from tests.telegram_stub import StoredMessage, TelegramStub, User

SECRET = "webhook-secret_0123"
HOOK_PATH = "/telegram/hook"
ADMINS = (User(8001, "Admin", "Un"), User(8002, "Admin", "Deux"))
FAILOVER_LIMIT = 15.0
BROADCAST_GROUPS = 2000


class RoundRobin:
    """A load balancer: each POST goes to the next instance; a dead instance is skipped, as health checks would."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._next = itertools.cycle(range(len(ports)))
        self.served: collections.Counter[int] = collections.Counter()
        self.runner: web.AppRunner | None = None
        self.session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> RoundRobin:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application()
        app.router.add_post(HOOK_PATH, self._forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}{HOOK_PATH}"
        return self

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith(("content-type", "x-telegram"))}
        assert self.session is not None
        for _ in self.ports:
            index = next(self._next)
            try:
                url = f"http://127.0.0.1:{self.ports[index]}{HOOK_PATH}"
                async with self.session.post(url, data=body, headers=headers) as response:
                    self.served[index] += 1
                    return web.Response(status=response.status)
            except aiohttp.ClientConnectionError:
                continue
        return web.Response(status=502)


class Instances:
    """The three processes, their health ports and their logs."""

    def __init__(self, tmp_path: Path, url: str, stub: TelegramStub, count: int = 3) -> None:
        self.tmp_path = tmp_path
        self.url = url
        self.stub = stub
        self.hook_ports = [free_port() for _ in range(count)]
        self.health_ports = [free_port() for _ in range(count)]
        self.processes: list[asyncio.subprocess.Process | None] = [None] * count
        self.proxy = RoundRobin(self.hook_ports)
        self.http = httpx.AsyncClient(timeout=10)

    def log(self, i: int) -> str:
        return (self.tmp_path / f"instance{i}.log").read_text(errors="replace")

    async def start(self) -> None:
        await self.proxy.start()
        await asyncio.gather(*(self._start(i) for i in range(len(self.processes))))

    async def _start(self, i: int) -> None:
        for _ in range(3):
            if await self._try_start(i):
                return
            # Another program on this shared machine took a port between our pick and the bind: new ports.
            self.hook_ports[i], self.health_ports[i] = free_port(), free_port()
        raise AssertionError(f"instance {i} could not bind its ports: {self.log(i)[-2000:]}")

    async def _try_start(self, i: int) -> bool:
        env = clean_environment(
            DATABASE_URL=self.url,
            DATABASE_PATH=str(self.tmp_path / f"instance{i}" / "petition.sqlite3"),  # its data folder only
            TELEGRAM_BOT_TOKEN=self.stub.token,
            TELEGRAM_API_URL=self.stub.api_url,
            TELEGRAM_MODE="webhook",
            TELEGRAM_WEBHOOK_URL=self.proxy.url,
            TELEGRAM_WEBHOOK_PORT=str(self.hook_ports[i]),
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            HEALTH_PORT=str(self.health_ports[i]),
            ADMINS=",".join(f"telegram:{a.id}" for a in ADMINS),
            QUIET_HOURS="00:00-00:00",  # an empty value means the default window (22:00-08:00)
            BROADCAST_RATE_TELEGRAM="200",
            COUNT_SOURCE_URL=f"http://127.0.0.1:{free_port()}/petition",  # nothing there: no internet in tests
        )
        log = (self.tmp_path / f"instance{i}.log").open("wb")
        self.processes[i] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--env-file", str(self.tmp_path / "none.env"), "run",
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while (await self.health(i)) is None:
            assert time.monotonic() < deadline, f"instance {i} did not start: {self.log(i)[-2000:]}"
            if self.processes[i].returncode is not None:  # type: ignore[union-attr]
                assert "already in use" in self.log(i) or "already taken" in self.log(i), self.log(i)[-2000:]
                return False
            await asyncio.sleep(0.2)
        return True

    async def health(self, i: int) -> dict[str, Any] | None:
        with contextlib.suppress(httpx.HTTPError):
            response = await self.http.get(f"http://127.0.0.1:{self.health_ports[i]}/healthz")
            if response.status_code == 200:
                return dict(response.json())
        return None

    async def leaders(self) -> list[int]:
        states = await asyncio.gather(*(self.health(i) for i in range(len(self.processes))))
        return [i for i, state in enumerate(states) if state is not None and state["leader"]]

    async def metric(self, i: int, name: str) -> float:
        text = (await self.http.get(f"http://127.0.0.1:{self.health_ports[i]}/metrics")).text
        found = re.search(rf"^{name} (\S+)$", text, re.M)
        assert found, name
        return float(found.group(1))

    async def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            if process is not None:
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
        await self.http.aclose()
        await self.proxy.close()


@pytest.fixture
async def three(tmp_path: Path, postgres: PostgresServer) -> AsyncIterator[Instances]:
    url = postgres.new_database()
    stub = await TelegramStub().start()
    instances = Instances(tmp_path, url, stub)
    try:
        await instances.start()
        yield instances
    finally:
        await instances.stop()
        await stub.close()
        postgres.drop_database(url)


async def say(stub: TelegramStub, user: User, text: str, chat_id: int | None = None, **kw: Any) -> list[StoredMessage]:
    """A message through the load balancer; the messages this chat received while it was handled."""
    where = chat_id if chat_id is not None else user.id
    before = set(stub.messages)
    assert await stub.post_webhook(stub.message_update(user, text, chat_id=chat_id, **kw)) == 200
    return [m for k, m in sorted(stub.messages.items()) if k not in before and m.chat_id == where]


async def press(stub: TelegramStub, user: User, message: StoredMessage, label: str) -> list[StoredMessage]:
    before = set(stub.messages)
    assert await stub.post_webhook(stub.press_update(user, message, button_data(message, label))) == 200
    return [m for k, m in sorted(stub.messages.items()) if k not in before and m.chat_id == message.chat_id]


def with_button(messages: list[StoredMessage], label: str) -> StoredMessage:
    return next(m for m in messages if any(label in b for b in buttons(m)))


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql).fetchall())


async def test_one_leader_and_100_presses_of_je_signe_across_three_instances_sign_once(three: Instances) -> None:
    stub = three.stub
    leaders = await three.leaders()
    assert len(leaders) == 1
    for i in range(3):
        assert await three.metric(i, "petition_bot_leader") == (1.0 if i in leaders else 0.0)

    camille = User(7001, "Camille", "Durand")
    names = with_button(await say(stub, camille, "/signer"), "Mon nom")
    [summary] = await press(stub, camille, names, "Mon nom")
    assert "Je signe" in " ".join(buttons(summary))
    served_before = dict(three.proxy.served)
    presses = [stub.press_update(camille, summary, button_data(summary, "Je signe")) for _ in range(100)]
    statuses = await asyncio.gather(*(stub.post_webhook(update) for update in presses))
    assert set(statuses) == {200}
    spread = [three.proxy.served[i] - served_before.get(i, 0) for i in range(3)]
    assert min(spread) >= 30, spread  # each instance took its share of the presses

    assert query(three.url, "SELECT COUNT(*) FROM signatures") == [(1,)]
    assert query(three.url, "SELECT value FROM counters WHERE name = 'signatures'") == [(1,)]
    receipts = [m for m in stub.chat_messages(camille.id) if "votre signature est enregistrée" in m.text]
    # Each instance lets one press of a burst through (its double-press guard is in memory); a press on a
    # completed step repeats that step's answer: at most one receipt per instance, one signature in all.
    assert 1 <= len(receipts) <= 3


async def test_a_milestone_crossed_on_two_instances_at_once_is_announced_once(three: Instances) -> None:
    stub = three.stub
    group = -7001
    stub.admins[group] = {ADMINS[0].id}
    [subscribed] = await say(stub, ADMINS[0], "/abonner jalons", chat_id=group, chat_type="group")
    assert "les objectifs franchis" in subscribed.text
    served_before = dict(three.proxy.served)
    # Both admins set the published count past 19 000 at the same moment, through two instances.
    answers = await asyncio.gather(*(say(stub, admin, "/compteur_officiel 19000") for admin in ADMINS))
    # Each is told the count is set, or that the other instance saved it a moment before (already so, or
    # changed meanwhile): never an error.
    told = ("Compteur officiel mis à jour", "rien n'a changé", "a changé entre-temps")
    assert all(any(t in m.text for t in told for m in a) for a in answers), [[m.text for m in a] for a in answers]
    assert sum(1 for i in range(3) if three.proxy.served[i] > served_before.get(i, 0)) == 2

    def announcements() -> list[StoredMessage]:
        return [m for m in stub.chat_messages(group) if "signatures !" in m.text]

    await stub.wait_for(lambda: len(announcements()) >= 1, timeout=30)
    await asyncio.sleep(3)  # time for a second announcement to arrive, if there were one
    [announced] = announcements()
    assert re.search(r"19\D000 signatures !", announced.text)
    assert query(three.url, "SELECT kind, COUNT(*) FROM broadcasts GROUP BY kind") == [("milestone", 1)]
    assert query(three.url, "SELECT milestone, status FROM milestones ORDER BY milestone") == [(19000, "announced")]


async def test_kill_9_of_the_leader_mid_broadcast_another_takes_over_nothing_lost(three: Instances) -> None:
    stub = three.stub
    groups = [str(-1_000_000 - g) for g in range(BROADCAST_GROUPS)]
    with psycopg.connect(three.url) as conn:
        conn.cursor().executemany(
            "INSERT INTO subscriptions (transport, chat_id, kind, language, created_at, active)"
            " VALUES ('telegram', %s, 'milestones', 'fr', '2026-11-29T10:00:00.000000+00:00', 1)",
            [(g,) for g in groups],
        )
    admin = ADMINS[1]
    prompt = with_button(await say(stub, admin, "/diffuser"), "Les deux")
    await press(stub, admin, prompt, "Les deux")
    text = "Rassemblement samedi à 14 h"
    shown = await say(stub, admin, text)
    started = await press(stub, admin, shown[-1], "Envoyer")
    assert any("lancée" in m.text for m in started)

    def received() -> list[str]:
        sent = stub.sent("sendMessage")
        return [
            str(c.params["chat_id"])
            for c in sent
            if c.params.get("text") == text and c.params["chat_id"] != str(admin.id)
        ]

    await stub.wait_for(lambda: len(received()) >= BROADCAST_GROUPS // 3, timeout=60)
    [leader] = await three.leaders()
    process = three.processes[leader]
    assert process is not None
    process.send_signal(signal.SIGKILL)
    await process.wait()
    killed_at = time.monotonic()
    sent_before = len(received())
    assert sent_before < BROADCAST_GROUPS  # really killed mid-way

    while not (new := await three.leaders()):
        assert time.monotonic() - killed_at < FAILOVER_LIMIT, "no instance took over in time"
        await asyncio.sleep(0.1)
    took = time.monotonic() - killed_at
    assert new[0] != leader
    await stub.wait_for(lambda: set(received()) >= set(groups), timeout=90)
    await asyncio.sleep(1)

    counts = collections.Counter(received())
    duplicated = sum(n - 1 for n in counts.values())
    recovered = re.search(r"outbox: (\d+) deliveries were in flight", three.log(new[0]))
    in_flight = int(recovered.group(1)) if recovered else 0
    print(f"killed after {sent_before} sends; new leader in {took:.1f} s; in flight {in_flight}; dup {duplicated}")
    assert set(counts) == set(groups)  # nothing lost
    assert duplicated <= in_flight  # at most the deliveries in flight at the kill
    assert took < FAILOVER_LIMIT
    statuses = dict(query(three.url, "SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
    assert statuses == {"sent": BROADCAST_GROUPS}
