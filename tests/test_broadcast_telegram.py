"""Broadcasts through the real Telegram transport and the local Bot API stand-in: 403, 429, admins, migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.outbox import Outbox
from storage.outbox import OutboxRepository
from storage.subscriptions import SubscriptionRepository
from tests.conftest import FakeClock
from tests.outbox_fakes import add_followers
from tests.telegram_harness import TelegramWorld
from tests.telegram_stub import User

ADMIN = User(111, "Alice", language_code="fr")
MEMBER = User(222, "Bob", language_code="fr")
ADMIN_ID = "telegram:111"
GROUPS = [-5001, -5002, -5003]
FOLLOWERS = [301, 302, 303, 304]


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TelegramWorld]:
    async with TelegramWorld(tmp_path, clock, record_chat_events=False, admins=ADMIN_ID) as w:
        await w.start()
        assert w.bot is not None
        for group in GROUPS:
            w.stub.admins[group] = {ADMIN.id}
        yield w


def outbox(world: TelegramWorld) -> Outbox:
    assert world.bot is not None
    return world.bot.services.outbox


async def subscribe_all(world: TelegramWorld) -> None:
    for group in GROUPS:
        [answer] = await world.say(ADMIN, "/abonner", chat_id=group, chat_type="group")
        assert "C'est noté" in answer.text
    assert world.bot is not None
    await add_followers(world.bot, *(("telegram", str(f), "fr") for f in FOLLOWERS))


async def broadcast(world: TelegramWorld, text: str, audience: str = "Les deux") -> int:
    [prompt] = await world.say(ADMIN, "/diffuser")
    [ask_text] = await world.press(ADMIN, prompt, audience)
    assert "Écrivez maintenant" in ask_text.text
    shown = await world.say(ADMIN, text)
    assert shown[1].text == text.replace("**", "")  # the preview, as recipients will see it
    [started] = await world.press(ADMIN, shown[-1], "Envoyer")
    assert "lancée" in started.text
    broadcast_id = int(started.text.split("n° ")[1].split()[0])
    await outbox(world).drain()
    return broadcast_id


async def test_a_group_admin_subscribes_and_a_member_is_refused(world: TelegramWorld) -> None:
    [refused] = await world.say(MEMBER, "/abonner", chat_id=GROUPS[0], chat_type="group")
    assert "Seuls les administrateurs" in refused.text
    [accepted] = await world.say(ADMIN, "/abonner jalons", chat_id=GROUPS[0], chat_type="group")
    assert "les objectifs franchis" in accepted.text
    assert world.bot is not None
    assert await SubscriptionRepository(world.bot.services.db).kinds("telegram", str(GROUPS[0])) == ["milestones"]


async def test_a_broadcast_reaches_groups_and_followers_and_a_403_marks_the_chat_inactive(
    world: TelegramWorld,
) -> None:
    await subscribe_all(world)
    world.stub.blocked.add(FOLLOWERS[1])
    broadcast_id = await broadcast(world, "Grande **mobilisation** samedi")
    for chat_id in [*GROUPS, FOLLOWERS[0], FOLLOWERS[2], FOLLOWERS[3]]:
        message = world.stub.last_message(chat_id)
        assert message.text == "Grande mobilisation samedi" and "<b>mobilisation</b>" in message.html
    assert world.bot is not None
    statuses = await OutboxRepository(world.bot.services.db).statuses(broadcast_id)
    assert statuses[("telegram", str(FOLLOWERS[1]))][0] == "gone"
    async with world.bot.services.db.read() as tx:
        row = await tx.fetchone("SELECT active FROM contacts WHERE chat_id = ?", (str(FOLLOWERS[1]),))
    assert row is not None and row["active"] == 0
    progress = world.stub.last_message(ADMIN.id)
    assert "Diffusion terminée" in progress.text and "Envoyés : 6 · Échecs : 1" in progress.text


async def test_a_429_stops_every_send_on_telegram_for_retry_after_then_the_same_delivery_is_retried(
    world: TelegramWorld,
) -> None:
    await subscribe_all(world)
    text = "Pause puis reprise"
    [prompt] = await world.say(ADMIN, "/diffuser")
    await world.press(ADMIN, prompt, "Les deux")
    shown = await world.say(ADMIN, text)
    await world.press(ADMIN, shown[-1], "Envoyer")
    world.stub.rate_limit("sendMessage", 1)  # the first delivery is answered 429, retry_after 1 s
    await outbox(world).drain()
    attempts = [
        c
        for c in world.stub.sent("sendMessage")
        if c.params.get("text") == text and c.params["chat_id"] != str(ADMIN.id)  # not the preview
    ]
    assert len(attempts) == len(GROUPS) + len(FOLLOWERS) + 1  # one 429, then each once
    refused_at = attempts[0].at
    assert all(c.at >= refused_at + 1.0 for c in world.stub.sent() if c.at > refused_at and c.method == "sendMessage")
    delivered = [m for chat in [*GROUPS, *FOLLOWERS] for m in world.stub.chat_messages(chat) if m.text == text]
    assert sorted(m.chat_id for m in delivered) == sorted([*GROUPS, *FOLLOWERS])
    assert outbox(world).stats.rate_limited == 1


async def test_on_telegram_point_shows_the_digest_with_its_chart_as_a_photo(world: TelegramWorld) -> None:
    await world.say(ADMIN, "/abonner", chat_id=GROUPS[0], chat_type="group")
    shown = await world.say(ADMIN, "/point")
    photos = [m for m in shown if m.kind == "photo"]
    assert len(photos) == 1 and "Signatures au total : 18\u202f882" in photos[0].text
    assert "le recevront à 18:00" in shown[-1].text
    [sent] = await world.press(ADMIN, shown[-1], "Envoyer maintenant")
    assert "Point quotidien envoyé maintenant à 1 groupe(s)" in sent.text
    await outbox(world).drain()
    [digest] = [m for m in world.stub.chat_messages(GROUPS[0]) if m.kind == "photo"]
    assert "La pétition aujourd'hui" in digest.text and digest.silent
    refused = await world.say(MEMBER, "/point")
    assert "photo" not in [m.kind for m in refused]
