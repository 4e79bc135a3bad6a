"""The bot on Telegram, end to end: python-telegram-bot over real HTTP against the local Bot API stand-in."""

from __future__ import annotations

import asyncio
import io
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import run
from bot.events import Chat, ChatKind
from bot.transports.console import ConsoleTransport, ConsoleUser
from tests.conftest import FakeClock, make_settings
from tests.telegram_harness import TelegramWorld, buttons
from tests.telegram_stub import BOT_ID, BOT_USERNAME, TOKEN, StoredMessage, TelegramStub, User

ALICE = User(111, "Alice", "Martin", language_code="fr")
BOB = User(222, "Bob", language_code="en-GB")
GROUP = -4001


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TelegramWorld]:
    async with TelegramWorld(tmp_path, clock) as w:
        await w.start()
        yield w


@pytest.fixture
async def webhook_world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TelegramWorld]:
    async with TelegramWorld(tmp_path, clock, telegram_mode="webhook") as w:
        await w.start()
        yield w


def texts(messages: list[StoredMessage]) -> str:
    return "\n".join(m.text for m in messages)


async def test_start_welcomes_the_supporter_with_a_menu_of_buttons(world: TelegramWorld) -> None:
    [welcome] = await world.say(ALICE, "/start")
    assert "Bienvenue" in welcome.text
    assert "<b>Bienvenue !</b>" in welcome.html  # content markup arrives as Telegram HTML
    labels = buttons(welcome)
    assert any("pétition" in label.lower() for label in labels)
    # One button per row, so long labels stay readable.
    assert all(len(row) == 1 for row in (welcome.reply_markup or {})["inline_keyboard"])
    assert world.stub.sent("sendMessage")[-1].params["parse_mode"] == "HTML"


async def test_the_telegram_language_sets_the_default_language(world: TelegramWorld) -> None:
    [welcome] = await world.say(BOB, "/start")
    assert "Welcome" in welcome.text


async def test_a_supporter_asks_a_question_and_sees_the_same_answer_as_on_the_console(
    world: TelegramWorld,
) -> None:
    question = "Qui héberge nos données de santé ?"
    received = await world.say(ALICE, question)
    assert received, "the supporter got no answer"

    assert world.bot is not None
    out = io.StringIO()
    console = ConsoleTransport(
        world.bot.services.for_transport(), world.bot.router, ConsoleUser("c1", language="fr"), out
    )
    await world.bot.router.dispatch(console.to_inbound(question), console)
    expected = out.getvalue().split("\n[1]")[0].strip()  # the console lists choices as [1] lines
    assert texts(received).strip() == expected


async def test_faq_buttons_work_and_a_double_press_is_answered_once(world: TelegramWorld) -> None:
    [menu] = await world.say(ALICE, "/faq")
    first_topic = buttons(menu)[0]

    shown = await world.press(ALICE, menu, first_topic, twice=True)

    assert len(shown) == 1, "a double press must not answer twice"
    assert buttons(shown[0]), "the topic lists its questions as buttons"
    # Both presses were answered (no endless spinner), and the pressed keyboard is gone.
    assert len(world.stub.sent("answerCallbackQuery")) == 2
    assert world.stub.messages[(menu.chat_id, menu.message_id)].reply_markup is None

    [answer] = await world.press(ALICE, shown[0], buttons(shown[0])[0])
    assert answer.text


async def test_an_update_delivered_twice_is_handled_once(world: TelegramWorld) -> None:
    before = set(world.stub.messages)
    await world.deliver(world.stub.message_update(ALICE, "/compteur"), duplicate=True)
    assert len([k for k in world.stub.messages if k not in before]) == 1


async def test_a_press_on_an_old_dialogue_message_is_answered_expired(world: TelegramWorld) -> None:
    [menu] = await world.say(ALICE, "/start")
    stale = world.stub.press_update(ALICE, menu, "d:oldnonce:yes")
    before = set(world.stub.messages)
    await world.deliver(stale)
    new = [m for k, m in world.stub.messages.items() if k not in before]
    assert "expiré" in texts(new)
    assert world.stub.sent("answerCallbackQuery"), "the press was answered"


async def test_an_unaddressed_group_message_is_ignored_and_a_mention_is_answered(world: TelegramWorld) -> None:
    chatter = await world.say(ALICE, "on se retrouve à 18 h ?", chat_id=GROUP, chat_type="group")
    assert chatter == []

    [mentioned] = await world.say(ALICE, f"@{BOT_USERNAME} /aide", chat_id=GROUP, chat_type="group")
    assert "Commandes" in mentioned.text
    asked = await world.say(ALICE, f"@{BOT_USERNAME} combien de signatures ?", chat_id=GROUP, chat_type="group")
    assert asked, "a message mentioning the bot is answered"


async def test_a_reply_to_the_bot_in_a_group_is_answered(world: TelegramWorld) -> None:
    [help_message] = await world.say(ALICE, "/aide", chat_id=GROUP, chat_type="supergroup")
    assert "Commandes" in help_message.text
    answered = await world.say(ALICE, "et le compteur ?", chat_id=GROUP, chat_type="supergroup", reply_to=help_message)
    assert answered


async def test_commands_for_another_bot_are_left_to_it(world: TelegramWorld) -> None:
    assert await world.say(ALICE, "/aide@OtherBot", chat_id=GROUP, chat_type="group") == []
    [mine] = await world.say(ALICE, f"/aide@{BOT_USERNAME}", chat_id=GROUP, chat_type="group")
    assert "Commandes" in mine.text


async def test_a_group_faq_menu_stays_usable_by_every_member(world: TelegramWorld) -> None:
    [menu] = await world.say(ALICE, "/faq", chat_id=GROUP, chat_type="group")
    first, second = buttons(menu)[:2]
    assert len(await world.press(ALICE, menu, first)) == 1
    assert menu.reply_markup is not None, "a group keyboard is shared: it stays after one press"
    assert len(await world.press(BOB, menu, second)) == 1
    assert len(world.stub.sent("answerCallbackQuery")) == 2


async def test_a_group_that_becomes_a_supergroup_is_followed(world: TelegramWorld) -> None:
    update = world.stub.message_update(
        ALICE, "", chat_id=GROUP, chat_type="group", extra={"migrate_to_chat_id": -1001234567890}
    )
    del update["message"]["text"]
    await world.deliver(update)
    [(old, new_id)] = world.events.migrated
    assert (old.id, new_id) == (str(GROUP), "-1001234567890")
    assert world.stub.sent("sendMessage") == []


async def test_the_bot_removed_from_a_group_or_blocked_is_reported_to_the_core(world: TelegramWorld) -> None:
    await world.deliver(world.stub.membership_update(ALICE, GROUP, "group", "member", "member"))
    assert world.events.gone == []  # added: nothing to forget

    await world.deliver(world.stub.membership_update(ALICE, GROUP, "group", "member", "left"))
    await world.deliver(world.stub.membership_update(ALICE, ALICE.id, "private", "member", "kicked"))
    assert [(c.id, c.is_group) for c in world.events.gone] == [(str(GROUP), True), (str(ALICE.id), False)]


async def test_a_group_admin_check_asks_telegram_once_a_minute(world: TelegramWorld) -> None:
    assert world.transport is not None
    world.stub.admins[GROUP] = {ALICE.id}
    group = Chat("telegram", str(GROUP), ChatKind.GROUP)
    assert await world.transport.is_chat_admin(group, str(ALICE.id))
    assert not await world.transport.is_chat_admin(group, str(BOB.id))
    assert await world.transport.is_chat_admin(group, str(ALICE.id))
    assert len(world.stub.sent("getChatMember")) == 2  # the repeat came from the cache


async def test_command_menus_are_published_in_french_and_english(world: TelegramWorld) -> None:
    calls = world.stub.sent("setMyCommands")
    default = next(c for c in calls if not c.params.get("language_code") and not c.params.get("scope"))
    english = next(c for c in calls if c.params.get("language_code") == "en" and not c.params.get("scope"))
    fr_names = [c["command"] for c in default.params["commands"]]
    en_names = [c["command"] for c in english.params["commands"]]
    assert "aide" in fr_names and "help" in en_names
    assert all(c["description"] for c in default.params["commands"])


async def test_the_bot_link_and_username_come_from_telegram(world: TelegramWorld) -> None:
    assert world.bot is not None
    assert world.bot.services.outbounds["telegram"] is world.transport
    assert (
        world.transport is not None and world.transport.chat_link("sign") == f"https://t.me/{BOT_USERNAME}?start=sign"
    )
    assert world.transport is not None and world.transport.api.id == BOT_ID


# Webhook mode ---------------------------------------------------------------------


async def test_webhook_mode_registers_the_webhook_with_its_secret(webhook_world: TelegramWorld) -> None:
    [call] = webhook_world.stub.sent("setWebhook")
    assert call.params["secret_token"] == "s3cret-token_value"
    assert "callback_query" in call.params["allowed_updates"]


async def test_a_webhook_call_with_the_right_secret_is_answered(webhook_world: TelegramWorld) -> None:
    [welcome] = await webhook_world.say(ALICE, "/start")
    assert "Bienvenue" in welcome.text


@pytest.mark.parametrize("secret", ["wrong", ""])
async def test_a_webhook_call_with_a_wrong_or_missing_secret_is_refused(
    webhook_world: TelegramWorld, secret: str
) -> None:
    update = webhook_world.stub.message_update(ALICE, "/start")
    assert await webhook_world.stub.post_webhook(update, secret=secret) == 403
    assert webhook_world.stub.sent("sendMessage") == []


async def test_a_webhook_double_press_is_answered_once(webhook_world: TelegramWorld) -> None:
    [menu] = await webhook_world.say(ALICE, "/faq")
    shown = await webhook_world.press(ALICE, menu, buttons(menu)[0], twice=True)
    assert len(shown) == 1
    assert menu.reply_markup is None  # the pressed keyboard was removed


async def test_run_serves_telegram_until_stopped(tmp_path: Path) -> None:
    """`petition-bot run` with a token: Telegram in the process's loop, stopped cleanly by SIGTERM."""
    stub = await TelegramStub().start()
    try:
        settings = make_settings(tmp_path, telegram_bot_token=TOKEN, telegram_api_url=stub.api_url)
        running = asyncio.create_task(run(settings))
        await stub.wait_for(lambda: bool(stub.sent("getUpdates")))
        stub.push(stub.message_update(ALICE, "/start"))
        await stub.wait_for(lambda: bool(stub.sent("sendMessage")))
        assert "Bienvenue" in stub.last_message(ALICE.id).text
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 5)
    finally:
        await stub.close()
