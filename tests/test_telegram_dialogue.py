"""A confirm dialogue on Telegram: inline buttons, impatient double presses, a crash between press and reply.

The flow here is a stand-in with the shape of the signing dialogue (a question, a
"confirm" button, one effect); whatever the transport does, the effect happens once.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import dialogue
from bot.choices import NO, YES
from bot.context import Context
from bot.dialogue import Option
from bot.markup import plain
from bot.router import Router
from handlers import build_routes
from storage.dialogues import Dialogue, Done
from tests.conftest import FakeClock
from tests.telegram_harness import TelegramWorld, button_data, buttons
from tests.telegram_stub import User

ALICE = User(111, "Alice", language_code="fr")
EFFECTS = "test:pledges"


class Step(enum.Enum):
    CONFIRM = "pledge.confirm"


async def _chosen(ctx: Context, d: Dialogue, value: str) -> None:
    await dialogue.close(ctx, d, value)
    if value == "yes":
        kv = ctx.services.kv
        await kv.set(EFFECTS, str(int(await kv.get(EFFECTS) or 0) + 1))
    await _say(ctx, value)


async def _say(ctx: Context, value: str) -> None:
    if value == "yes":
        await ctx.reply(plain("Merci, c'est enregistré."))
    else:
        await ctx.say("cancelled")


async def _replay(ctx: Context, done: Done) -> None:
    await _say(ctx, done.outcome)


# /promettre → "Confirmer ?" [Oui] [Non] → one pledge recorded, once.
PLEDGE = dialogue.Flow.declare(
    "pledge",
    {
        Step.CONFIRM: dialogue.Step(
            prompt=lambda ctx, d: plain("Confirmer ?"),
            options=lambda ctx, d: [Option("yes", "Oui", YES), Option("no", "Non", NO)],
            on_choice=_chosen,
            replay=_replay,
        )
    },
)


async def start_pledge(ctx: Context) -> None:
    await dialogue.start(ctx, PLEDGE, Step.CONFIRM)


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TelegramWorld]:
    async with TelegramWorld(tmp_path, clock) as w:
        assert w.bot is not None
        routes = build_routes()
        routes.flow(PLEDGE)
        routes.command("promettre", handler=start_pledge)
        w.bot.router = Router(routes, w.bot.services)
        await w.start()
        yield w


async def pledges(world: TelegramWorld) -> int:
    assert world.bot is not None
    return int(await world.bot.services.kv.get(EFFECTS) or 0)


async def test_confirming_with_a_double_press_records_once(world: TelegramWorld) -> None:
    [question] = await world.say(ALICE, "/promettre")
    assert buttons(question) == ["Oui", "Non"]

    shown = await world.press(ALICE, question, "Oui", twice=True)

    assert [m.text for m in shown] == ["Merci, c'est enregistré."]
    assert await pledges(world) == 1
    assert question.reply_markup is None, "the answered question lost its buttons"


async def test_a_press_delivered_again_after_a_restart_gets_the_same_answer_and_changes_nothing(
    world: TelegramWorld,
) -> None:
    [question] = await world.say(ALICE, "/promettre")
    data = button_data(question, "Oui")
    await world.press(ALICE, question, "Oui")
    assert world.transport is not None
    await world.transport.stop()
    await world.start()  # the transport forgot which buttons were pressed

    before = set(world.stub.messages)
    await world.deliver(world.stub.press_update(ALICE, question, data))
    [late] = [m for k, m in world.stub.messages.items() if k not in before]
    assert late.text == "Merci, c'est enregistré."  # never "expired" for a step that succeeded
    assert await pledges(world) == 1


async def test_a_crash_between_the_press_and_the_reply_records_once(world: TelegramWorld) -> None:
    [question] = await world.say(ALICE, "/promettre")
    release = world.stub.hold("sendMessage")
    press = world.stub.push(world.stub.press_update(ALICE, question, button_data(question, "Oui")))
    await world.stub.wait_for(lambda: len(world.stub.sent("sendMessage")) == 2)  # the thank-you is on its way
    assert world.transport is not None
    await world.transport.stop(grace=0)  # the crash
    release.set()
    world.stub.hold("sendMessage").set()
    assert await pledges(world) == 1

    await world.start()
    await world.handled(press["update_id"])  # Telegram delivers the press again; handled once its batch is
    assert await pledges(world) == 1
