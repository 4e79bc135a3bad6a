"""Signing on Telegram: the deep link, inline buttons, an impatient double press on "Je signe", withdrawal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.telegram_harness import TelegramWorld, buttons
from tests.telegram_stub import BOT_USERNAME, StoredMessage, User

ALICE = User(111, "Alice", "Martin", language_code="fr")
EVE = User(666, "<b>Eve</b>", '</a><a href="x">', language_code="fr")


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TelegramWorld]:
    async with TelegramWorld(tmp_path, clock) as w:
        await w.start()
        yield w


async def bot_signatures(world: TelegramWorld) -> int:
    assert world.bot is not None
    return (await world.bot.services.counts.totals()).bot


def with_button(messages: list[StoredMessage], label: str) -> StoredMessage:
    return next(m for m in messages if any(label in b for b in buttons(m)))


async def test_a_supporter_signs_from_the_deep_link_with_a_double_press_then_withdraws(
    world: TelegramWorld,
) -> None:
    opened = await world.say(ALICE, "/start sign")  # what t.me/<bot>?start=sign sends
    names = with_button(opened, "Mon nom")
    assert "Mon nom : Alice Martin" in buttons(names)

    [summary] = await world.press(ALICE, names, "Mon nom")
    assert "sous le nom « Alice Martin »" in summary.text

    signed = await world.press(ALICE, summary, "Je signe", twice=True)
    receipts = [m for m in signed if "votre signature est enregistrée" in m.text]
    assert len(receipts) == 1, "a double press signs once and thanks once"
    assert await bot_signatures(world) == 1
    assert any(f"https://t.me/{BOT_USERNAME}?start=sign" in m.text for m in signed), "the share text has the link"

    news = with_button(signed, "Non merci")
    await world.press(ALICE, news, "Non merci")

    asked = await world.say(ALICE, "/retirer")
    [done] = await world.press(ALICE, with_button(asked, "Oui, retirer"), "Oui, retirer")
    assert "Votre signature est retirée" in done.text
    assert await bot_signatures(world) == 0


async def test_signing_in_a_group_points_to_a_private_chat(world: TelegramWorld) -> None:
    [answer] = await world.say(ALICE, "/signer", chat_id=-4001, chat_type="group")
    assert f"https://t.me/{BOT_USERNAME}?start=sign" in answer.html
    assert await bot_signatures(world) == 0


async def test_markup_in_a_telegram_name_is_shown_as_typed_never_interpreted(world: TelegramWorld) -> None:
    opened = await world.say(EVE, "/signer")
    names = with_button(opened, "Mon nom")
    [summary] = await world.press(EVE, names, "Mon nom")
    assert '« <b>Eve</b> </a><a href="x"> »' in summary.text  # the stand-in parsed the HTML strictly
    assert "&lt;b&gt;Eve&lt;/b&gt;" in summary.html


async def test_a_supporter_signs_typing_words_instead_of_pressing(world: TelegramWorld) -> None:
    await world.say(ALICE, "/signer")
    [summary] = await world.say(ALICE, "mon nom")
    assert "sous le nom « Alice Martin »" in summary.text
    assert buttons(summary) == ["✅ Je signe", "Annuler"]
    signed = await world.say(ALICE, "je signe")
    assert any("votre signature est enregistrée" in m.text for m in signed)
    assert buttons(signed[-1]) == ["Oui, tenez-moi au courant", "Non merci"]
    [followed] = await world.say(ALICE, "oui")
    assert "vous recevrez les nouvelles" in followed.text
    assert await bot_signatures(world) == 1
    assert world.bot is not None
    contact = await world.bot.services.contacts.get(world.bot.services.pseudonyms.user("telegram", str(ALICE.id)))
    assert contact is not None and contact.chat_id == str(ALICE.id)


async def test_a_question_at_the_confirmation_is_answered_then_the_buttons_come_again(world: TelegramWorld) -> None:
    await world.say(ALICE, "/signer")
    await world.say(ALICE, "anonyme")
    answered = await world.say(ALICE, "c'est quoi le Health Data Hub ?")
    assert "Source" in answered[0].text
    assert "Pour signer sous le nom « A. M. »" in answered[-1].text
    assert buttons(answered[-1]) == ["✅ Je signe", "Annuler"], "the question's buttons are offered again, last"
    assert await bot_signatures(world) == 0
    [receipt, *_] = await world.press(ALICE, answered[-1], "Je signe")
    assert "votre signature est enregistrée" in receipt.text


async def test_withdrawing_by_typing_oui(world: TelegramWorld) -> None:
    await world.say(ALICE, "/signer")
    await world.say(ALICE, "anonyme")
    await world.say(ALICE, "oui")
    await world.say(ALICE, "non merci")
    [asked] = await world.say(ALICE, "/retirer")
    assert buttons(asked) == ["Oui, retirer ma signature", "Non, garder ma signature"]
    [done] = await world.say(ALICE, "oui")
    assert "Votre signature est retirée" in done.text
    assert await bot_signatures(world) == 0


async def test_a_link_as_a_name_is_refused_and_the_button_comes_with_the_refusal(world: TelegramWorld) -> None:
    await world.say(ALICE, "/signer")
    await world.say(ALICE, "un autre nom")
    [refused] = await world.say(ALICE, "https://example.org/alice")
    assert "Un lien ou une adresse ne peut pas servir de nom" in refused.text
    assert buttons(refused) == ["Annuler"]
    [digits] = await world.say(ALICE, "42")
    assert "il n'y a que des chiffres" in digits.text
    [summary] = await world.say(ALICE, "Alice M.")
    assert "sous le nom « Alice M. »" in summary.text


async def test_help_in_a_group_lists_what_works_in_a_group(world: TelegramWorld) -> None:
    [group] = await world.say(ALICE, "/aide", chat_id=-4001, chat_type="group")
    assert "/abonner" in group.text and "/compteur" in group.text
    assert "/signer —" not in group.text and "/retirer" not in group.text
    [private] = await world.say(ALICE, "/aide")
    assert "/signer —" in private.text and "/abonner" not in private.text
