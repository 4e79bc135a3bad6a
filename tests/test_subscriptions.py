"""Group subscriptions: only a group's admins subscribe it; subscriptions follow a migrated group or end with it."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import Bot
from bot.events import Chat as Where
from bot.events import ChatKind
from storage.subscriptions import SubscriptionRepository
from tests.conftest import Chat
from tests.outbox_fakes import add_followers


async def kinds(bot: Bot, chat_id: str) -> list[str]:
    return await SubscriptionRepository(bot.services.db).kinds("console", chat_id)


async def test_a_group_admin_subscribes_the_group_to_both_by_default(bot: Bot, chat: Callable[..., Chat]) -> None:
    seen = await chat(group="g1", admin=True).say("/abonner")
    assert "ce groupe recevra les objectifs franchis et le point quotidien" in seen
    assert await kinds(bot, "g1") == ["daily", "milestones"]


async def test_a_group_admin_chooses_milestones_or_the_daily_digest(bot: Bot, chat: Callable[..., Chat]) -> None:
    admin = chat(group="g1", admin=True)
    assert "les objectifs franchis" in await admin.say("/abonner jalons")
    assert await kinds(bot, "g1") == ["milestones"]
    english = chat(group="g2", admin=True, language="en")
    assert "the daily digest" in await english.say("/subscribe daily")
    assert await kinds(bot, "g2") == ["daily"]


async def test_a_member_who_is_not_admin_is_refused(bot: Bot, chat: Callable[..., Chat]) -> None:
    member = chat(group="g1", id="2")
    assert "Seuls les administrateurs de ce groupe" in await member.say("/abonner")
    assert await kinds(bot, "g1") == []
    await chat(group="g1", admin=True).say("/abonner")
    assert "Seuls les administrateurs de ce groupe" in await member.say("/desabonner")
    assert await kinds(bot, "g1") == ["daily", "milestones"]


async def test_subscribing_is_for_groups(bot: Bot, chat: Callable[..., Chat]) -> None:
    assert "s'utilise dans un groupe" in await chat(admin=True).say("/abonner")


async def test_an_unknown_kind_is_explained(bot: Bot, chat: Callable[..., Chat]) -> None:
    seen = await chat(group="g1", admin=True).say("/abonner tout_le_reste")
    assert "/abonner jalons" in seen
    assert await kinds(bot, "g1") == []


async def test_a_group_admin_unsubscribes(bot: Bot, chat: Callable[..., Chat]) -> None:
    admin = chat(group="g1", admin=True)
    assert "n'était abonné à rien" in await admin.say("/desabonner")
    await admin.say("/abonner")
    assert "ne recevra plus d'annonces" in await admin.say("/desabonner")
    assert await kinds(bot, "g1") == []


async def test_a_group_that_removed_the_bot_is_unsubscribed(bot: Bot, chat: Callable[..., Chat]) -> None:
    await chat(group="g1", admin=True).say("/abonner")
    await bot.services.chat_events.chat_gone(Where("console", "g1", ChatKind.GROUP))
    assert await kinds(bot, "g1") == []


async def test_a_follower_who_blocked_the_bot_is_no_longer_a_recipient(bot: Bot) -> None:
    await add_followers(bot, ("console", "u1", "fr"), ("console", "u2", "fr"))
    await bot.services.chat_events.chat_gone(Where("console", "u1"))
    async with bot.services.db.read() as tx:
        rows = await tx.fetchall("SELECT chat_id FROM contacts WHERE active = 1")
    assert [r["chat_id"] for r in rows] == ["u2"]


async def test_a_group_that_became_a_supergroup_keeps_its_subscriptions(bot: Bot, chat: Callable[..., Chat]) -> None:
    await chat(group="-42", admin=True).say("/abonner jalons")
    await bot.services.chat_events.chat_migrated(Where("console", "-42", ChatKind.GROUP), "-100042")
    assert await kinds(bot, "-42") == []
    assert await kinds(bot, "-100042") == ["milestones"]
