"""Data rights in chat: withdraw, see, erase, follow and stop news, read the privacy notice."""

import json
from collections.abc import Callable
from pathlib import Path

from bot.app import Bot, build_bot
from bot.transports.console import ConsoleUser
from tests.conftest import Chat, make_settings
from tests.ops_helpers import filled_campaign
from tests.outbox_fakes import RecordingPlatform


async def rows(bot: Bot, sql: str) -> list[tuple[object, ...]]:
    async with bot.services.db.read() as tx:
        return [tuple(r) for r in await tx.fetchall(sql)]


async def signed(me: Chat, news: bool = False) -> None:
    await me.say("/signer")
    await me.press(2)
    await me.press(1)
    await me.press(1 if news else 2)


async def test_withdrawal_asks_first_then_says_what_was_deleted(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="1", name="Jeanne Dupont")
    await signed(me)
    ask = await me.say("/retirer")
    assert "Voulez-vous vraiment retirer votre signature du 29 novembre 2026 (nom « J. D. »)" in ask
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(1,)]  # nothing happens before the answer
    done = await me.press("Oui, retirer ma signature")
    assert "Votre signature est retirée" in done
    assert "la signature au nom de « J. D. » du 29 novembre 2026" in done
    assert "Signatures au total : 18\u202f882" in done
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    assert await rows(bot, "SELECT value FROM counters") == [(0,)]
    assert "Signatures recueillies par ce bot : 0" in await me.say("/compteur")


async def test_withdrawal_can_be_declined(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="2", name="Ana")
    await signed(me)
    await me.say("/retirer")
    assert "Votre signature est conservée" in await me.press("Non, garder")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(1,)]


async def test_withdrawal_reminds_a_follower_that_news_continue(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="3", name="Ana")
    await signed(me, news=True)
    await me.say("/retirer")
    assert "Vous recevez toujours les nouvelles" in await me.press(1)
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]


async def test_my_data_is_a_readable_message_and_a_json_file(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="4", name="Ana")
    await signed(me, news=True)
    await me.say("/langue en")
    platform = RecordingPlatform()
    await bot.router.dispatch(me.transport.to_inbound("/mydata"), platform)
    reply = platform.delivered[-1].reply
    text = reply.text.plain
    assert "Your data" in text
    assert "signature: name “A.”, on November 29, 2026, consent text version 2026-11-1" in text
    assert "news: yes, on console" in text
    assert "chosen language: en" in text
    assert reply.document is not None and reply.document.name == "my-data.json"
    data = json.loads(reply.document.data)
    assert data["signature"]["name"] == "A."
    assert data["signature"]["consent_version"] == "2026-11-1"
    assert data["news_contact"]["chat_id"] == "4" and data["news_contact"]["active"] is True
    assert data["preferences"] == {"language": "en"}
    assert data["pseudonym"] == bot.services.pseudonyms.user("console", "4")


async def test_my_data_of_someone_unknown_says_nothing_is_kept(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="5").say("/mesdonnees")
    assert "Je ne conserve rien sur vous : ni signature, ni adresse pour les nouvelles" in seen
    assert "signature : aucune" not in seen  # one plain sentence, not "none" on every line
    assert "mes-donnees.json" in seen


async def test_forget_erases_every_trace_after_a_confirmation(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="6", name="Ana")
    await signed(me, news=True)
    await me.say("/langue fr")
    assert "effacer toutes vos données" in await me.say("/oublier")
    done = await me.press("Oui, tout effacer")
    assert "Toutes vos données sont effacées" in done
    assert "votre signature au nom de « A. »" in done
    assert "l'adresse de cette conversation" in done and "votre choix de langue" in done
    for table in ("signatures", "contacts", "dialogues", "preferences"):
        assert await rows(bot, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    assert await rows(bot, "SELECT value FROM counters") == [(0,)]
    assert await rows(bot, "SELECT signed, withdrawn FROM daily_counts") == [(1, 1)]  # anonymous totals only
    assert "aucune donnée" in await me.say("/oublier")


async def test_forget_can_be_declined_and_cancelled(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="7", name="Ana")
    await signed(me)
    await me.say("/oublier")
    assert "rien n'a changé" in await me.press(2)
    await me.say("/oublier")
    assert "C'est annulé" in await me.say("/annuler")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(1,)]


async def test_follow_and_unfollow_news(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="8", name="Ana")
    assert "vous recevrez les nouvelles" in await me.say("/suivre")
    assert "déjà" in await me.say("/suivre")
    assert await rows(bot, "SELECT transport, chat_id, active FROM contacts") == [("console", "8", 1)]
    assert "vous ne recevrez plus de nouvelles" in await me.say("/nepassuivre")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]
    assert "Vous ne recevez pas les nouvelles" in await me.say("/nepassuivre")
    # An English command name is answered in English, whatever the platform's language.
    assert "You are not receiving the petition's news" in await me.say("/unfollow")


async def test_a_follower_whose_chat_is_gone_is_shown_paused(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="9", name="Ana")
    await me.say("/follow")
    assert await bot.services.contacts.deactivate("console", "9") == 1
    assert await bot.services.contacts.active_count() == 0
    assert "suspendu" in await me.say("/mesdonnees")
    assert "vous recevrez les nouvelles" in await me.say("/suivre")  # back on
    assert await bot.services.contacts.active_count() == 1


async def test_personal_data_commands_point_to_a_private_chat_in_groups(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="10", name="Ana")
    await signed(me)
    group = chat(id="10", name="Ana", group="g1")
    for command in ("/mesdonnees", "/retirer", "/oublier"):
        seen = await group.say(command)
        assert "en message privé" in seen, command
        assert "A." not in seen
    assert "écrivez-moi en message privé" in await group.say("/suivre")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(1,)]


async def test_the_privacy_notice_says_what_the_campaign_has_not_named_yet(chat: Callable[..., Chat]) -> None:
    """The shipped content has placeholders for the controller and the contact: never shown as such."""
    seen = await chat(id="11").say("/confidentialite")
    assert "Responsable du traitement : pas encore désigné par la campagne." in seen
    assert "Adresse de contact : pas encore publiée." in seen
    assert "/oublier efface tout" in seen
    assert "compléter" not in seen and "example" not in seen and "placeholder" not in seen
    english = await chat(id="12", language="en").say("/privacy")
    assert "Data controller: not yet named by the campaign." in english


async def test_the_privacy_notice_names_controller_basis_retention_rights_and_cnil(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, campaign=str(filled_campaign(tmp_path / "campaign")))
    bot = await build_bot(settings)
    try:
        seen = await Chat(bot, ConsoleUser(id="11")).say("/confidentialite")
        english = await Chat(bot, ConsoleUser(id="12", language="en")).say("/privacy")
    finally:
        await bot.close()
    assert "Responsable du traitement : Collectif Santé Libre. Contact : dpo@collectif.test" in seen
    assert "(rectification, opposition, limitation) : dpo@collectif.test" in seen
    assert "article 9, paragraphe 2, point a" in seen
    assert "30 juin 2027" in seen and "90 jours" in seen and "28 septembre 2027" in seen
    assert "/mesdonnees" in seen and "/retirer" in seen and "/oublier" in seen
    assert "CNIL" in seen and "cnil.fr/fr/plaintes" in seen
    assert "Article 9(2)(a)" in english and "Complaints" in english


async def test_help_lists_the_new_commands(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("/aide")
    for line in ("/signer — Signer la pétition", "/retirer", "/mesdonnees", "/oublier", "/suivre", "/confidentialite"):
        assert line in seen


async def add_broadcast_deliveries(bot: Bot, *chats: tuple[str, str]) -> None:
    """A past broadcast that reached these (chat id, kind) destinations."""
    now = "2026-11-29T10:00:00.000000+00:00"
    async with bot.services.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO broadcasts (id, kind, audience, body, dedup_key, status, created_by, created_at, send_at)"
            " VALUES (1, 'message', 'both', '{}', 'test', 'done', 'admin', ?, ?)",
            (now, now),
        )
        for chat_id, kind in chats:
            await tx.execute(
                "INSERT INTO deliveries (broadcast_id, transport, chat_id, chat_kind, language, status,"
                " next_attempt_at, updated_at) VALUES (1, 'console', ?, ?, 'fr', 'sent', ?, ?)",
                (chat_id, kind, now, now),
            )


async def test_forget_also_erases_the_news_deliveries_to_that_chat(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="13", name="Ana")
    await signed(me, news=True)
    await add_broadcast_deliveries(bot, ("13", "private"), ("other", "private"), ("g1", "group"))
    await me.say("/oublier")
    await me.press(1)
    remaining = await rows(bot, "SELECT chat_id FROM deliveries ORDER BY chat_id")
    assert remaining == [("g1",), ("other",)]


async def test_my_data_counts_the_news_messages_sent_to_the_chat(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="14", name="Ana")
    await me.say("/suivre")
    await add_broadcast_deliveries(bot, ("14", "private"), ("g1", "group"))
    seen = await me.say("/mesdonnees")
    assert "messages de nouvelles envoyés à cette conversation (journal d'envoi) : 1" in seen
    assert '"news_messages_sent_here": 1' in seen
