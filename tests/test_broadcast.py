"""Admin broadcasts told as stories: audience, text, preview, Envoyer, progress, audit; and every refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bot.app import Bot
from bot.digest import send_digest
from bot.outbox import Outbox
from storage.audit import AuditRepository
from storage.broadcasts import BroadcastRepository
from storage.count_history import CountHistoryRepository
from tests.conftest import Chat, FakeClock
from tests.outbox_fakes import ADMIN, RecordingPlatform, admin_world

ADMIN_COMMANDS = (
    "/diffuser",
    "/programmer 2030-01-01 10:00",
    "/diffusions",
    "/annuler_diffusion 1",
    "/compteur_officiel 20000",
    "/broadcast",
)


@pytest.fixture
def admins() -> frozenset[tuple[str, str]]:
    return frozenset({ADMIN})


@pytest.fixture
async def platform(bot: Bot) -> RecordingPlatform:
    return await admin_world(bot, {"g1": "", "g2": "jalons"}, ("console", "f1", "fr"))


def outbox(bot: Bot) -> Outbox:
    return bot.services.outbox


async def prepare(admin: Chat, text: str, audience: str = "Les groupes abonnés") -> str:
    assert "À qui l'envoyer" in await admin.say("/diffuser")
    assert "Écrivez maintenant le message" in await admin.press(audience)
    return await admin.say(text)


async def test_an_admin_previews_then_sends_a_broadcast_to_groups(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat]
) -> None:
    admin = chat()
    seen = await prepare(admin, "La pétition passe à la télévision **ce soir** : [regardez](https://example.org/tv)")
    assert "voici exactement ce que recevront les destinataires" in seen
    assert "La pétition passe à la télévision ce soir : regardez (https://example.org/tv)" in seen
    assert "Envoyer ce message à 2 destinataire(s) (groupes abonnés), maintenant ?" in seen
    assert platform.delivered == []  # nothing leaves before Envoyer
    assert "Diffusion n° 1 lancée vers 2 destinataire(s)" in await admin.press("Envoyer")
    await outbox(bot).drain()
    assert sorted(d.chat.id for d in platform.delivered) == ["g1", "g2"]
    received = platform.to("g1")[0].reply.text
    assert received.plain == "La pétition passe à la télévision ce soir : regardez"
    assert [s.link for s in received.spans if s.link] == ["https://example.org/tv"]
    sent, progress = platform.edits[-1]
    assert sent.chat.id == "1" and "Diffusion terminée" in progress.text.plain and "Envoyés : 2" in progress.text.plain
    audit = await AuditRepository(bot.services.db).recent()
    assert [(a.action, a.who) for a in audit] == [("broadcast.send", bot.services.pseudonyms.user("console", "1")[:10])]
    assert "1" not in audit[0].who.split()  # a pseudonym, never the platform id


async def test_a_broadcast_to_both_reaches_groups_and_followers(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat]
) -> None:
    admin = chat()
    assert "3 destinataire(s)" in await prepare(admin, "Merci à tous !", "Les deux")
    await admin.press("Envoyer")
    await outbox(bot).drain()
    assert sorted(d.chat.id for d in platform.delivered) == ["f1", "g1", "g2"]


async def test_pressing_envoyer_twice_sends_one_broadcast(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat]
) -> None:
    admin = chat()
    await prepare(admin, "Une seule fois")
    press = admin.transport.to_inbound("Envoyer")
    await bot.router.dispatch(press, admin.transport)
    await bot.router.dispatch(press, admin.transport)
    # The second press is answered as the first one was; nothing is created twice.
    assert admin.new_output().count("Diffusion n° 1 lancée vers 2 destinataire(s)") == 2
    await outbox(bot).drain()
    assert len(platform.delivered) == 2
    assert len(await BroadcastRepository(bot.services.db).recent()) == 1


async def test_an_empty_text_is_refused(platform: RecordingPlatform, chat: Callable[..., Chat]) -> None:
    assert "Le message est vide" in await prepare(chat(), "   ")


async def test_a_text_over_the_platform_limit_is_refused_with_its_length(
    platform: RecordingPlatform, chat: Callable[..., Chat]
) -> None:
    seen = await prepare(chat(), "a" * 5000)
    assert "trop long (5000 caractères ; au plus 4096)" in seen


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Venez **nombreux", "un ** ouvre du gras"),
        ("Venez __nombreux", "un __ ouvre de l'italique"),
        ("Voir [le site](example.org)", "doit commencer par https://"),
        ("Voir [le site](https://example.org", "un lien est incomplet"),
    ],
)
async def test_broken_markup_is_refused_with_the_reason(
    platform: RecordingPlatform, chat: Callable[..., Chat], text: str, reason: str
) -> None:
    admin = chat()
    seen = await prepare(admin, text)
    assert "Je ne peux pas diffuser ce message tel quel" in seen and reason in seen
    assert "Aperçu" in await admin.say("Venez **nombreux**")  # the dialogue waits for a corrected text


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_anyone_else_gets_the_unknown_command_answer(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat], command: str
) -> None:
    stranger = chat(id="7")
    unknown = await stranger.say("/nimporte")
    assert await stranger.say(command) == unknown
    assert await AuditRepository(bot.services.db).recent() == []


async def test_a_broadcast_scheduled_for_later_waits_for_its_time(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat], clock: FakeClock
) -> None:
    admin = chat()
    assert "À qui l'envoyer" in await admin.say("/programmer 2026-11-29 20:30")
    await admin.press(1)
    assert "le 29 novembre 2026 à 20:30 ?" in await admin.say("Rendez-vous ce soir")
    assert "programmée pour le 29 novembre 2026 à 20:30" in await admin.press("Envoyer")
    await outbox(bot).drain()
    assert platform.delivered == []
    assert "programmée" in await admin.say("/diffusions")
    clock.current = dt.datetime(2026, 11, 29, 19, 30, tzinfo=dt.UTC)  # 20:30 in Paris
    await outbox(bot).drain()
    assert len(platform.delivered) == 2
    assert "terminée · 2/2 envoyés" in await admin.say("/diffusions")


@pytest.mark.parametrize(
    ("args", "answer"),
    [("2026-11-28 10:00", "est déjà passé"), ("demain soir", "pas compris la date"), ("", "pas compris la date")],
)
async def test_a_schedule_in_the_past_or_unparsable_is_refused(
    platform: RecordingPlatform, chat: Callable[..., Chat], args: str, answer: str
) -> None:
    assert answer in await chat().say(f"/programmer {args}")


async def test_an_admin_cancels_a_scheduled_broadcast(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat], clock: FakeClock
) -> None:
    admin = chat()
    await admin.say("/programmer 2026-11-30 09:00")
    await admin.press(1)
    await admin.say("Demain matin")
    await admin.press("Envoyer")
    assert "Diffusion n° 1 arrêtée : 2 messages ne seront pas envoyés" in await admin.say("/annuler_diffusion 1")
    assert "déjà terminée ou annulée" in await admin.say("/annuler_diffusion 1")
    assert "pas de diffusion n° 9" in await admin.say("/annuler_diffusion 9")
    assert "Indiquez le numéro" in await admin.say("/annuler_diffusion")
    clock.advance(3 * 86400)
    await outbox(bot).drain()
    assert platform.delivered == []
    assert "annulée" in await admin.say("/diffusions")
    actions = [a.action for a in await AuditRepository(bot.services.db).recent()]
    assert actions == ["broadcast.cancel", "broadcast.schedule"]


async def test_an_admin_sets_the_official_count_and_a_milestone_is_announced(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat]
) -> None:
    admin = chat()
    assert "Compteur officiel mis à jour : 19\u202f050 signatures" in await admin.say("/compteur_officiel 19 050")
    assert (await bot.services.counts.totals()).official == 19_050
    history = await CountHistoryRepository(bot.services.db).since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert [(p.official, p.source) for p in history] == [(19_050, "admin")]
    await outbox(bot).drain()
    assert sorted(d.chat.id for d in platform.delivered) == ["f1", "g1", "g2"]  # g2 chose milestones; f1 follows
    assert "« beaucoup » n'est pas un nombre entier" in await admin.say("/compteur_officiel beaucoup")
    assert "Indiquez le nombre" in await admin.say("/compteur_officiel")
    assert [a.action for a in await AuditRepository(bot.services.db).recent()] == ["count.official"]


async def test_the_daily_digest_goes_to_groups_that_chose_it_with_a_chart(
    bot: Bot, platform: RecordingPlatform, clock: FakeClock
) -> None:
    history = CountHistoryRepository(bot.services.db)
    await history.add(clock.now() - dt.timedelta(days=1), 18_700, 0, "poll")
    await bot.services.counts.set_official(18_900, clock.now())
    await history.add(clock.now(), 18_900, 0, "poll")
    assert await send_digest(bot.services) is not None
    assert await send_digest(bot.services) is None  # once a day
    await outbox(bot).drain()
    assert [d.chat.id for d in platform.delivered] == ["g1"]
    digest = platform.delivered[0].reply
    assert "Signatures au total : 18\u202f900" in digest.text.plain
    assert "Depuis ce matin : +200" in digest.text.plain
    assert "Prochain objectif : 19\u202f000" in digest.text.plain
    assert digest.image is not None and digest.image.png.startswith(b"\x89PNG")


async def test_the_progress_message_is_edited_at_most_every_two_seconds(
    bot: Bot, platform: RecordingPlatform, chat: Callable[..., Chat]
) -> None:
    admin = chat()
    await prepare(admin, "Progression")
    await admin.press("Envoyer")
    for _ in range(5):
        await outbox(bot).report_progress()
    assert len(platform.edits) == 1  # the first report, then nothing until 2 s have passed
    assert "Diffusion en cours" in platform.edits[0][1].text.plain and "Restants : 2" in platform.edits[0][1].text.plain
    await outbox(bot).drain()
    assert len(platform.edits) == 2 and "Diffusion terminée" in platform.edits[-1][1].text.plain


async def test_admin_commands_are_used_in_a_private_chat(
    platform: RecordingPlatform, chat: Callable[..., Chat]
) -> None:
    group_admin = chat(group="g1", admin=True)
    for command in ("/diffuser", "/diffusions", "/compteur_officiel 19000"):
        assert "conversation privée" in await group_admin.say(command)
