"""Routing order and dialogue state: commands beat steps, stale presses expire, restarts resume."""

import contextlib
import enum
from collections.abc import AsyncIterator

from bot import dialogue
from bot.app import Bot
from bot.config import Settings
from bot.context import Context
from bot.dialogue import Option
from bot.markup import plain
from bot.router import Router
from handlers import build_routes
from storage.dialogues import Dialogue, Done
from tests.conftest import Chat, FakeClock, opened_bot, says


class Step(enum.Enum):
    COLOUR = "quiz.colour"
    WORD = "quiz.word"


async def _colour_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    await dialogue.go(ctx, QUIZ, d, Step.WORD, {"colour": value})


async def _word_typed(ctx: Context, d: Dialogue, text: str) -> None:
    await dialogue.close(ctx, d, "done")
    await ctx.reply(plain(f"done: {d.data.get('colour')} {text}"))


async def _replay_word(ctx: Context, done: Done) -> None:
    await ctx.reply(plain("done, again"))


# A two-step test dialogue: pick a colour, then type a word.
QUIZ = dialogue.Flow.declare(
    "quiz",
    {
        Step.COLOUR: dialogue.Step(
            prompt=lambda ctx, d: plain("colour?"),
            options=lambda ctx, d: [Option("red", "Red"), Option("blue", "Blue")],
            on_choice=_colour_chosen,
        ),
        Step.WORD: dialogue.Step(
            prompt=lambda ctx, d: plain(f"chose {d.data['colour']}; now a word?"),
            on_text=_word_typed,
            replay=_replay_word,
        ),
    },
)


async def start_quiz(ctx: Context) -> None:
    await dialogue.start(ctx, QUIZ, Step.COLOUR)


@contextlib.asynccontextmanager
async def quiz_bot(settings: Settings, clock: FakeClock) -> AsyncIterator[Bot]:
    async with opened_bot(settings, clock) as bot:
        routes = build_routes()
        routes.flow(QUIZ)
        routes.command("quiz", handler=start_quiz)
        bot.router = Router(routes, bot.services)
        yield bot


async def test_a_dialogue_goes_step_by_step(settings: Settings, clock: FakeClock) -> None:
    async with quiz_bot(settings, clock) as bot:
        me = Chat(bot, Chat.user())
        assert "[1] Red" in await me.say("/quiz")
        assert "chose red" in await me.press(1)
        assert "done: red tea" in await me.say("tea")


async def test_a_command_wins_over_the_dialogue_step(settings: Settings, clock: FakeClock) -> None:
    async with quiz_bot(settings, clock) as bot:
        me = Chat(bot, Chat.user())
        await me.say("/quiz")
        await me.press("Blue")
        assert says(bot, "count") in await me.say("/compteur")
        assert says(bot, "cancelled") in await me.say("/annuler")
        assert "done" not in await me.say("tea")


async def test_a_choice_pressed_twice_moves_the_dialogue_once(settings: Settings, clock: FakeClock) -> None:
    async with quiz_bot(settings, clock) as bot:
        me = Chat(bot, Chat.user())
        await me.say("/quiz")
        first = me.transport.to_inbound("1")
        await bot.router.dispatch(first, me.transport)
        await bot.router.dispatch(first, me.transport)
        out = me.new_output()
        # The second press: the same answer, not "expired".
        assert out.count("chose red") == 2 and says(bot, "expired_choice") not in out
        second = me.transport.to_inbound("tea")
        assert "done: red tea" in await me.say("tea")
        await bot.router.dispatch(second, me.transport)  # the dialogue is over: typed text is a question again
        assert "done" not in me.new_output()


async def test_a_restart_mid_dialogue_resumes_at_the_same_step(settings: Settings, clock: FakeClock) -> None:
    async with quiz_bot(settings, clock) as bot:
        me = Chat(bot, Chat.user())
        await me.say("/quiz")
        await me.press(2)

    async with quiz_bot(settings, clock) as again:
        me = Chat(again, Chat.user())
        assert "done: blue coffee" in await me.say("coffee")


async def test_an_expired_dialogue_answers_a_late_press_with_expired(settings: Settings, clock: FakeClock) -> None:
    async with quiz_bot(settings, clock) as bot:
        me = Chat(bot, Chat.user())
        await me.say("/quiz")
        clock.advance(16 * 60)
        assert says(bot, "expired_choice") in await me.press(1)


async def test_dialogue_state_holds_no_platform_id(settings: Settings, clock: FakeClock) -> None:
    async with quiz_bot(settings, clock) as bot:
        me = Chat(bot, Chat.user(id="424242", name="Zoé"))
        await me.say("/quiz")
        async with bot.services.db.read() as tx:
            rows = await tx.fetchall("SELECT * FROM dialogues")
        assert len(rows) == 1
        assert all("424242" not in str(value) for value in tuple(rows[0]))
