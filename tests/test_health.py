"""`/healthz` and `/metrics` over real HTTP while supporters talk to the bot.

The bot runs its real components (scheduler, health server) on a real SQLite
file; the petition page it polls is a local copy served on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot import broadcast
from bot.app import Bot, Component, build_bot, components
from bot.config import SettingsError
from bot.health import HealthServer, is_healthy
from bot.transports.console import ConsoleUser
from storage import broadcasts as store
from storage.subscriptions import GROUPS
from tests.conftest import Chat, make_settings
from tests.ops_helpers import free_port
from tests.telegram_stub import TelegramStub, User

FIXTURES = Path(__file__).parent / "fixtures"
SUPPORTER_ID = "731234567"
SUPPORTER_NAME = "Zoé Confidentielle"
QUESTION = "qui héberge les données de santé ?"
GROUP_ID = "-1009876543210"


class PetitionPage:
    def __init__(self) -> None:
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> PetitionPage:
        app = web.Application()
        page = (FIXTURES / "petition_fr.html").read_text(encoding="utf-8")

        async def serve(_: web.Request) -> web.Response:
            return web.Response(text=page, content_type="text/html")

        app.router.add_get("/petition", serve)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/petition"
        return self


class Running:
    """A bot whose components are started, and an HTTP client for its health server."""

    def __init__(self, bot: Bot, parts: list[Component], port: int) -> None:
        self.bot = bot
        self.parts = parts
        self.base = f"http://127.0.0.1:{port}"
        self.http = httpx.AsyncClient(timeout=10)

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(self.base + path)

    async def metrics(self) -> dict[str, float]:
        """Each sample line `name{labels} value`, keyed by `name{labels}`."""
        text = (await self.get("/metrics")).text
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                samples[key] = float(value)
        return samples

    def chat(self, **user: object) -> Chat:
        return Chat(self.bot, ConsoleUser(**user))  # type: ignore[arg-type]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    page = await PetitionPage().start()
    port = free_port()
    settings = make_settings(tmp_path, health_port=port, count_source_url=page.url, quiet_hours="")
    bot = await build_bot(settings)
    started: list[Component] = []
    try:
        for part in components(bot):
            await part.start()
            started.append(part)
        world = Running(bot, started, port)
        try:
            yield world
        finally:
            await world.http.aclose()
    finally:
        for part in reversed(started):
            await part.stop()
        await bot.close()
        assert page.runner is not None
        await page.runner.cleanup()


async def test_healthz_is_ok_when_every_part_works_and_names_a_failing_part(running: Running) -> None:
    response = await running.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "leader": True,  # one instance on SQLite: always the leader
        "parts": {"database": True, "data folder": True, "leadership": True, "scheduler": True},
    }
    scheduler = next(p for p in running.parts if p.name == "scheduler")
    await scheduler.stop()
    response = await running.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["scheduler"]
    await scheduler.start()
    assert (await running.get("/healthz")).status_code == 200


async def test_healthz_names_the_database_when_it_takes_no_writes(running: Running) -> None:
    await running.bot.services.db.close()
    response = await running.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    await running.bot.services.db.connect()


async def test_metrics_move_with_a_story_and_carry_no_id_or_text(running: Running) -> None:
    before = await running.metrics()
    assert before.get('petition_bot_updates_handled_total{transport="console"}', 0) == 0
    assert before['petition_bot_signatures{source="official"}'] > 0
    assert before["petition_bot_count_poll_age_seconds"] < 60  # polled at start-up, from the local page
    assert before['petition_bot_component_up{component="scheduler"}'] == 1

    zoe = running.chat(id=SUPPORTER_ID, name=SUPPORTER_NAME, language="fr")
    assert "Bienvenue" in await zoe.say("/start")
    assert "Microsoft" in await zoe.say(QUESTION)
    assert "signatures au total" in await zoe.say("/compteur")
    group = running.chat(id=SUPPORTER_ID, name=SUPPORTER_NAME, group=GROUP_ID, admin=True)
    assert await group.say("/abonner")

    after = await running.metrics()
    assert after['petition_bot_updates_handled_total{transport="console"}'] == 4
    assert after['petition_bot_replies_sent_total{transport="console"}'] >= 4
    assert after['petition_bot_subscribed_groups{transport="console"}'] == 1
    assert after.get('petition_bot_errors_total{kind="handler"}', 0) == 0
    assert any(key.startswith("petition_bot_scheduler_job_lag_seconds{") for key in after)

    # an announcement to the subscribed group goes through the outbox
    services = running.bot.services
    services.outbounds["console"] = group.transport
    now = services.clock.now()
    async with services.db.transaction() as tx:
        new = store.NewBroadcast(store.MESSAGE, GROUPS, {"markup": "Tenez bon !"}, "health", "test", now, now)
        assert await broadcast.enqueue(tx, services, new, now) is not None
    services.outbox.wake()
    for _ in range(200):
        if (await running.metrics()).get('petition_bot_outbox_deliveries{status="sent"}') == 1:
            break
        await asyncio.sleep(0.05)
    assert (await running.metrics())['petition_bot_outbox_deliveries{status="sent"}'] == 1
    assert "Tenez bon" in group.new_output()

    text = (await running.get("/metrics")).text
    pseudonym = running.bot.services.pseudonyms.user("console", SUPPORTER_ID)
    for secret in (SUPPORTER_ID, GROUP_ID, GROUP_ID.lstrip("-"), "Zoé", "Confidentielle", "héberge", pseudonym[:10]):
        assert secret not in text
    labels = set(re.findall(r'(\w+)="', text))
    assert labels <= {"transport", "kind", "sender", "source", "status", "job", "component"}


async def test_a_handler_failure_is_counted_by_kind(running: Running) -> None:
    zoe = running.chat(id=SUPPORTER_ID)
    await zoe.say("/start")
    before = await running.metrics()
    await running.bot.services.db.close()  # the next message cannot be stored
    seen = await zoe.say("/compteur")
    await running.bot.services.db.connect()
    after = await running.metrics()
    key = 'petition_bot_errors_total{kind="storage"}'
    assert after[key] >= before.get(key, 0) + 1  # (a scheduled job may have met the closed database too)
    assert after.get('petition_bot_errors_total{kind="handler"}', 0) == 0
    assert seen  # the supporter was told something went wrong


async def test_a_component_without_a_health_probe_counts_as_healthy_while_it_runs() -> None:
    class Plain:
        name = "plain"

    class Flagged:
        name = "flagged"
        running = False

    class Probed:
        name = "probed"

        def healthy(self) -> bool:
            return False

    assert is_healthy(Plain())
    assert not is_healthy(Flagged())
    assert not is_healthy(Probed())


async def test_the_health_server_is_off_by_default(tmp_path: Path) -> None:
    bot = await build_bot(make_settings(tmp_path))
    try:
        assert not any(isinstance(part, HealthServer) for part in components(bot))
    finally:
        await bot.close()


async def test_over_telegram_healthz_names_the_transport_and_rate_limits_are_counted(tmp_path: Path) -> None:
    stub = await TelegramStub().start()
    page = await PetitionPage().start()
    port = free_port()
    settings = make_settings(
        tmp_path,
        health_port=port,
        count_source_url=page.url,
        telegram_bot_token=stub.token,
        telegram_api_url=stub.api_url,
    )
    bot = await build_bot(settings)
    parts = components(bot)
    for part in parts:
        await part.start()
    world = Running(bot, parts, port)
    try:
        response = await world.get("/healthz")
        assert response.status_code == 200
        assert response.json()["parts"]["telegram"] is True

        stub.rate_limit("sendMessage", retry_after=1)
        zoe = User(int(SUPPORTER_ID), "Zoé", "Confidentielle")
        stub.push(stub.message_update(zoe, "/compteur"))
        await stub.wait_for(lambda: len(stub.chat_messages(int(SUPPORTER_ID))) == 1, timeout=10)
        metrics = await world.metrics()
        assert metrics['petition_bot_rate_limit_answers_total{sender="telegram"}'] == 1
        assert metrics['petition_bot_updates_handled_total{transport="telegram"}'] == 1
        assert metrics['petition_bot_replies_sent_total{transport="telegram"}'] == 1

        telegram = next(p for p in parts if p.name == "telegram")
        await telegram.stop()
        response = await world.get("/healthz")
        assert response.status_code == 503 and response.json()["failing"] == ["telegram"]
    finally:
        await world.http.aclose()
        for part in reversed(parts):
            await part.stop()
        await bot.close()
        await stub.close()
        assert page.runner is not None
        await page.runner.cleanup()


async def test_a_port_taken_after_the_pre_flight_is_still_one_named_error(tmp_path: Path) -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        bot = await build_bot(make_settings(tmp_path, health_port=port))
        try:
            with pytest.raises(SettingsError, match=f"HEALTH_PORT: cannot listen on 127.0.0.1:{port}"):
                await HealthServer(bot.services, []).start()
        finally:
            await bot.close()
