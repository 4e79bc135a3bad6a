"""A subscribed Telegram group that removes the bot, or becomes a supergroup: its subscription follows.

The transport reports these updates to the core's real chat hooks (no recorder here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.subscriptions import SubscriptionRepository
from tests.conftest import FakeClock
from tests.telegram_harness import TelegramWorld
from tests.telegram_stub import User

ADMIN = User(501, "Claire", language_code="fr")
GROUP = -4100
SUPERGROUP = -1004100


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TelegramWorld]:
    async with TelegramWorld(tmp_path, clock, record_chat_events=False) as w:
        await w.start()
        w.stub.admins[GROUP] = {ADMIN.id}
        [answer] = await w.say(ADMIN, "/abonner", chat_id=GROUP, chat_type="group")
        assert "C'est noté" in answer.text
        yield w


async def kinds(world: TelegramWorld, chat_id: int) -> list[str]:
    assert world.bot is not None
    return await SubscriptionRepository(world.bot.services.db).kinds("telegram", str(chat_id))


async def test_a_group_that_removes_the_bot_is_no_longer_subscribed(world: TelegramWorld) -> None:
    assert await kinds(world, GROUP)
    await world.deliver(world.stub.membership_update(ADMIN, GROUP, "group", "member", "left"))
    assert await kinds(world, GROUP) == []


async def test_a_group_that_becomes_a_supergroup_keeps_its_subscription(world: TelegramWorld) -> None:
    before = await kinds(world, GROUP)
    update = world.stub.message_update(
        ADMIN, "", chat_id=GROUP, chat_type="group", extra={"migrate_to_chat_id": SUPERGROUP}
    )
    del update["message"]["text"]
    await world.deliver(update)
    assert await kinds(world, GROUP) == []
    assert await kinds(world, SUPERGROUP) == before
