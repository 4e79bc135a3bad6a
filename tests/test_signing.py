"""Signing stories: a supporter signs once, whatever they press, whenever they press it."""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot.app import Bot, build_bot
from bot.config import Settings
from bot.events import Chat as EventChat
from bot.events import ChatKind, Sender
from tests.conftest import Chat, FakeClock, make_settings, says
from tests.outbox_fakes import RecordingPlatform

NNBSP = "\u202f"


async def rows(bot: Bot, sql: str) -> list[tuple[object, ...]]:
    async with bot.services.db.read() as tx:
        return [tuple(r) for r in await tx.fetchall(sql)]


async def signature_count(bot: Bot) -> int:
    return await bot.services.signatures.count()


async def reach_confirmation(me: Chat, name_choice: int = 2) -> str:
    """/signer, then a name choice (1 = platform name, 2 = initials): the summary with Je signe / Annuler."""
    await me.say("/signer")
    return await me.press(name_choice)


async def test_a_supporter_signs_with_a_typed_name_and_gets_a_receipt(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="501", name="Jeanne Dupont")
    intro = await me.say("/signer")
    assert "Nous contestons l'avis de la CNIL" in intro  # the three demands, in short
    assert "Ce que je conserve" in intro and "Pourquoi" in intro and "Combien de temps" in intro
    assert "/confidentialite" in intro
    assert "[1] Mon nom : Jeanne Dupont" in intro
    assert "[2] Anonyme (initiales : J. D.)" in intro
    assert "[3] Un autre nom" in intro

    assert "Écrivez le nom" in await me.press(3)
    summary = await me.say("Jeanne D.")
    assert "Vous signez « SORTONS NOS DONNÉES DE SANTÉ DE CHEZ MICROSOFT ! » sous le nom « Jeanne D. »" in summary
    # Consent is never pre-selected: the user must press one of two explicit choices.
    assert "[1] ✅ Je signe" in summary and "[2] Annuler" in summary

    done = await me.press(1)
    assert "votre signature est enregistrée" in done
    assert "29 novembre 2026 à 11:00" in done  # the receipt's date, in Paris time
    assert "version du texte de consentement : 2026-11-1" in done
    assert "le nom « Jeanne D. »" in done
    assert f"Signatures au total : 18{NNBSP}883 (dont 1 par ce bot)" in done
    assert "J'ai signé la pétition" in done  # the share text
    assert "[1] Oui, tenez-moi au courant" in done and "[2] Non merci" in done
    assert await rows(bot, "SELECT name, consent_version FROM signatures") == [("Jeanne D.", "2026-11-1")]


async def test_signing_with_the_platform_name_or_initials(chat: Callable[..., Chat], bot: Bot) -> None:
    jeanne = chat(id="1", name="Jeanne Dupont")
    assert "sous le nom « Jeanne Dupont »" in await reach_confirmation(jeanne, 1)
    await jeanne.press(1)
    anonymous = chat(id="2", name="Marc-Antoine de la Tour")
    assert "sous le nom « M. D. L. »" in await reach_confirmation(anonymous, 2)
    await anonymous.press(1)
    names = sorted(str(r[0]) for r in await rows(bot, "SELECT name FROM signatures"))
    assert names == ["Jeanne Dupont", "M. D. L."]


async def test_a_user_without_display_name_signs_anonymous(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="3", name="")
    intro = await me.say("/signer")
    assert "Mon nom" not in intro and "[1] Anonyme (initiales : Anonyme)" in intro
    assert "sous le nom « Anonyme »" in await me.press(1)


async def test_the_count_shows_published_and_bot_signatures_and_their_sum(chat: Callable[..., Chat]) -> None:
    me = chat(id="10", name="Ana")
    await reach_confirmation(me)
    await me.press(1)
    count = await me.say("/compteur")
    assert f"18{NNBSP}883 signatures au total" in count
    assert f"Pétition publiée : 18{NNBSP}882" in count
    assert "Signatures recueillies par ce bot : 1" in count


async def test_already_signed_says_when_and_offers_withdrawal(chat: Callable[..., Chat]) -> None:
    me = chat(id="11", name="Ana")
    await reach_confirmation(me)
    await me.press(1)
    again = await me.say("/signer")
    assert "Vous avez déjà signé le 29 novembre 2026 sous le nom « A. »" in again
    assert "[1] Retirer ma signature" in again
    assert "Voulez-vous vraiment retirer" in await me.press(1)


async def test_a_confirm_pressed_twice_gives_one_signature_and_the_same_receipt(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="12", name="Ana")
    await reach_confirmation(me)
    press = me.transport.to_inbound("1")
    await bot.router.dispatch(press, me.transport)
    await bot.router.dispatch(press, me.transport)
    seen = me.new_output()
    assert seen.count("votre signature est enregistrée") == 2  # the second press gets the first one's answer
    assert "expiré" not in seen
    assert seen.count("voulez-vous recevoir les nouvelles") == 2  # and the question that followed it
    assert await signature_count(bot) == 1


async def test_a_hundred_concurrent_confirms_give_one_signature_and_one_count(tmp_path: Path, clock: FakeClock) -> None:
    # The flood guard would otherwise (rightly) silence the 21st press of the minute.
    bot = await build_bot(make_settings(tmp_path, flood_max_per_minute=1000), clock)
    me = Chat(bot, Chat.user(id="13", name="Ana"))
    await reach_confirmation(me)
    press = me.transport.to_inbound("1")
    await asyncio.gather(*(bot.router.dispatch(press, me.transport) for _ in range(100)))
    seen = me.new_output()
    assert seen.count("votre signature est enregistrée") == 100  # each press answered as the one that signed
    assert "expiré" not in seen
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(1,)]
    assert await signature_count(bot) == 1
    assert await rows(bot, "SELECT signed, withdrawn FROM daily_counts") == [(1, 0)]
    await bot.close()


async def test_two_devices_in_two_chats_sign_once(chat: Callable[..., Chat], bot: Bot) -> None:
    phone = chat(id="14", name="Ana")
    laptop = chat(id="14", name="Ana")
    laptop.transport.chat = EventChat("console", "another-room", ChatKind.PRIVATE)
    await reach_confirmation(phone)
    await reach_confirmation(laptop)
    assert "votre signature est enregistrée" in await phone.press(1)
    assert "Vous avez déjà signé" in await laptop.press(1)
    assert await signature_count(bot) == 1


async def test_a_restart_mid_dialogue_resumes_at_the_same_step(settings: Settings, clock: FakeClock) -> None:
    bot = await build_bot(settings, clock)
    me = Chat(bot, Chat.user(id="15", name="Ana"))
    await reach_confirmation(me)
    press = me.transport.to_inbound("1")
    await bot.close()

    restarted = await build_bot(settings, clock)
    again = Chat(restarted, Chat.user(id="15", name="Ana"))
    await restarted.router.dispatch(press, again.transport)
    assert "votre signature est enregistrée" in again.new_output()
    assert await signature_count(restarted) == 1
    await restarted.close()


async def test_a_press_on_an_expired_dialogue_is_told_it_expired(
    chat: Callable[..., Chat], bot: Bot, clock: FakeClock
) -> None:
    me = chat(id="16", name="Ana")
    await reach_confirmation(me)
    clock.advance(16 * 60)
    assert "Cette question a expiré" in await me.press(1)
    assert await signature_count(bot) == 0


async def test_cancel_ends_the_dialogue_at_any_step(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="17", name="Ana")
    await me.say("/signer")
    assert "C'est annulé" in await me.say("/annuler")
    await me.say("/signer")
    await me.press(3)
    assert "C'est annulé" in await me.say("/annuler")
    await reach_confirmation(me)
    stale = me.transport.to_inbound("1")
    assert "vous n'avez pas signé" in await me.press(2)  # the Annuler choice
    await bot.router.dispatch(stale, me.transport)
    assert "a expiré" in me.new_output()
    assert await signature_count(bot) == 0
    # The dialogue is over: its row only remembers how it ended (no name), for a re-delivered press.
    assert await rows(bot, "SELECT active, data FROM dialogues") == [(0, "{}")]


async def test_commands_win_over_the_name_step(chat: Callable[..., Chat]) -> None:
    me = chat(id="18", name="Ana")
    await me.say("/signer")
    await me.press(3)
    assert "signatures au total" in await me.say("/compteur")  # not taken as a name
    assert "Vous signez" in await me.say("Ana B.")


async def test_a_confirmation_from_another_user_is_expired(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="19", name="Ana")
    await reach_confirmation(me)
    press = me.transport.to_inbound("1")
    intruder = replace(press, sender=Sender("666", "Mallory"))
    await bot.router.dispatch(intruder, me.transport)
    assert "a expiré" in me.new_output()
    assert await signature_count(bot) == 0
    await bot.router.dispatch(press, me.transport)  # the real user's dialogue is intact
    assert "votre signature est enregistrée" in me.new_output()


async def test_in_a_group_signer_points_to_a_private_chat(chat: Callable[..., Chat], bot: Bot) -> None:
    """The console has no link to give (on Telegram the answer links to the bot: test_telegram_signing.py)."""
    group = chat(id="20", name="Ana", group="g1")
    assert says(bot, "sign_in_private_no_link") in await group.say("/signer")
    assert await rows(bot, "SELECT COUNT(*) FROM dialogues") == [(0,)]


async def test_the_share_text_carries_a_running_platforms_deep_link(chat: Callable[..., Chat], bot: Bot) -> None:
    telegram = RecordingPlatform()
    telegram.link = "https://t.me/petition_test_bot"
    bot.services.outbounds["telegram"] = telegram
    me = chat(id="21", name="Ana")
    await reach_confirmation(me)
    assert "Signez-la, vous aussi : https://t.me/petition_test_bot?start=sign" in await me.press(1)


async def test_without_a_link_the_share_text_says_how_to_sign_here(chat: Callable[..., Chat]) -> None:
    """The shipped campaign has no petition address yet (a placeholder): nothing made up is shared."""
    me = chat(id="23", name="Ana")
    await reach_confirmation(me)
    receipt = await me.press(1)
    assert "Signez-la, vous aussi, en écrivant /signer à ce bot." in receipt
    assert "example" not in receipt and "http" not in receipt.split("transférez-leur ce message")[1]


async def test_start_sign_opens_the_signing_dialogue(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="22", name="Ana").say("/start sign")
    assert "Sous quel nom voulez-vous signer" in seen


async def test_english_speakers_sign_in_english(chat: Callable[..., Chat]) -> None:
    me = chat(id="23", name="John Smith", language="en")
    intro = await me.say("/sign")
    assert "What I keep if you sign" in intro and "[2] Anonymous (initials: J. S.)" in intro
    assert "You are signing" in await me.press(2)
    assert "Thank you, your signature is saved." in await me.press(1)


async def test_news_opt_in_after_signing_is_a_separate_consent(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="24", name="Ana")
    await reach_confirmation(me)
    await me.press(1)
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]  # signing alone keeps no address
    assert "vous recevrez les nouvelles" in await me.press(1)
    assert await rows(bot, "SELECT transport, chat_id, language, active FROM contacts") == [("console", "24", "fr", 1)]


async def test_news_declined_after_signing_keeps_no_address(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="25", name="Ana")
    await reach_confirmation(me)
    await me.press(1)
    assert "vous ne recevrez pas de nouvelles" in await me.press(2)
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_withdraw_then_sign_again(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="26", name="Ana")
    await reach_confirmation(me)
    await me.press(1)
    await me.say("/retirer")
    assert "Votre signature est retirée" in await me.press(1)
    assert await signature_count(bot) == 0
    await reach_confirmation(me)
    assert "votre signature est enregistrée" in await me.press(1)
    assert await signature_count(bot) == 1
    assert await rows(bot, "SELECT signed, withdrawn FROM daily_counts") == [(2, 1)]


async def test_a_follower_who_signs_is_not_asked_about_news_again(chat: Callable[..., Chat]) -> None:
    me = chat(id="27", name="Ana")
    await me.say("/suivre")
    await reach_confirmation(me)
    done = await me.press(1)
    assert "votre signature est enregistrée" in done and "Oui, tenez-moi au courant" not in done
