"""Odd input gets a clear answer and never crashes the bot."""

from collections.abc import Callable

from tests.conftest import Chat, FakeClock


async def test_an_empty_line_gets_a_hint(chat: Callable[..., Chat]) -> None:
    assert "Je n'ai pas reçu de texte" in await chat().say("   ")


async def test_a_ten_thousand_character_message_is_refused_politely(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("pourquoi " * 1250)
    assert "trop long" in seen and "1000" in seen


async def test_control_and_invisible_characters_are_ignored(chat: Callable[..., Chat]) -> None:
    me = chat()
    seen = await me.say("/ai\u200bde\u0007")
    assert "Commandes" in seen
    seen = await me.say("\u202equi héberge\u200d les données\u2066 de santé ?\x00")
    assert "Microsoft" in seen


async def test_html_and_markdown_in_a_question_are_not_echoed_as_markup(chat: Callable[..., Chat]) -> None:
    me = chat()
    seen = await me.say("<b>**qui</b>** héberge [les données](javascript:alert(1)) de santé ?")
    assert "javascript" not in seen
    if "Microsoft" not in seen:  # the unknown words ("javascript") make it unsure: the first choice answers
        assert "[1] Qui héberge" in seen
        seen = await me.press(1)
    assert "Microsoft" in seen


async def test_an_unknown_command_points_to_help(chat: Callable[..., Chat]) -> None:
    assert "/aide" in await chat().say("/nimportequoi")


async def test_a_choice_from_an_old_message_is_answered_expired(chat: Callable[..., Chat]) -> None:
    me = chat()
    inbound = me.transport.to_inbound("x")
    from dataclasses import replace

    stale = replace(inbound, text="", choice="d:deadbeef:yes")
    await me.bot.router.dispatch(stale, me.transport)
    assert "a expiré" in me.new_output()
    unknown = replace(inbound, text="", choice="nosuchprefix:1")
    await me.bot.router.dispatch(unknown, me.transport)
    assert "a expiré" in me.new_output()


async def test_a_flooding_user_is_told_once_then_ignored(chat: Callable[..., Chat], clock: FakeClock) -> None:
    me = chat()

    async def say(text: str) -> str:
        """As a platform's user (the console's own user is the operator, never limited)."""
        from dataclasses import replace

        await me.bot.router.dispatch(replace(me.transport.to_inbound(text), local=False), me.transport)
        return me.new_output()

    for _ in range(20):
        assert await say("/compteur")
    assert "pause" in await say("/compteur")
    assert await say("/compteur") == ""
    clock.advance(61)
    assert "signatures au total" in await say("/compteur")


async def test_the_console_user_is_never_flood_limited(chat: Callable[..., Chat]) -> None:
    me = chat()
    for _ in range(60):
        assert "signatures au total" in await me.say("/compteur")
