"""A supporter discovers the petition through the console chat: welcome, help, text, timeline, FAQ, count."""

from collections.abc import Callable

from bot.app import Bot
from tests.conftest import Chat, FakeClock


async def test_a_newcomer_is_welcomed_with_choices(chat: Callable[..., Chat]) -> None:
    me = chat()
    seen = await me.say("/start")
    assert "Bienvenue" in seen and "SORTONS NOS DONNÉES DE SANTÉ DE CHEZ MICROSOFT" in seen
    assert "[1] 📜 La pétition" in seen


async def test_pressing_a_welcome_choice_runs_that_command(chat: Callable[..., Chat]) -> None:
    me = chat()
    await me.say("/start")
    seen = await me.press(1)
    assert "Nous contestons formellement" in seen


async def test_the_petition_is_shown_in_full(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("/petition")
    assert "Depuis 2019 la plus grande opacité" in seen
    assert "1/ Nous contestons formellement" in seen
    assert "3/ En attendant" in seen
    assert "18\u202f882" in seen


async def test_the_timeline_lists_dated_facts_in_order(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("/chronologie")
    assert seen.index("2019") < seen.index("Novembre 2023") < seen.index("31 décembre 2024")
    assert "OVHcloud, NumSpot et Cloud Temple" in seen


async def test_the_faq_leads_from_topic_to_answer_with_its_source(chat: Callable[..., Chat]) -> None:
    me = chat()
    topics = await me.say("/faq")
    assert "[1]" in topics
    questions = await me.press(1)
    assert "[1]" in questions
    answer = await me.press(1)
    assert "Source :" in answer


async def test_the_count_shows_published_bot_and_total(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("/compteur")
    assert "18\u202f882 signatures au total" in seen
    assert "Pétition publiée : 18\u202f882 (au moment de la publication)" in seen  # the source gives no date
    assert "Prochain objectif : 19\u202f000" in seen


async def test_the_count_is_dated_once_it_is_updated(chat: Callable[..., Chat], bot: Bot, clock: FakeClock) -> None:
    await bot.services.counts.set_official(19_020, clock.now())
    assert "Pétition publiée : 19\u202f020 (mis à jour le 29 novembre 2026)" in await chat().say("/compteur")
    assert "Published petition: 19,020 (updated November 29, 2026)" in await chat(language="en").say("/count")


async def test_english_speakers_get_english(chat: Callable[..., Chat]) -> None:
    seen = await chat(language="en").say("/count")
    assert "18,882 signatures in all" in seen
    help_text = await chat(language="en").say("/help")
    assert "/timeline" in help_text and "/chronologie" not in help_text


async def test_the_chosen_language_is_remembered(chat: Callable[..., Chat]) -> None:
    me = chat()
    prompt = await me.say("/langue")
    assert "[2] English" in prompt
    assert "English" in await me.press("English")
    assert "Commands" in await me.say("/aide")
    assert "français" in await me.say("/language fr")
    assert "Commandes" in await me.say("/help")


async def test_bang_commands_and_bot_suffix_work_like_slash_commands(chat: Callable[..., Chat]) -> None:
    me = chat()
    assert "Commandes" in await me.say("!aide")
    assert "Commandes" in await me.say("/aide@petition_bot")
    assert "signatures au total" in await me.say("/COMPTEUR")


async def test_a_command_for_another_bot_is_left_alone_in_a_group(chat: Callable[..., Chat]) -> None:
    group = chat(group="g1")
    group.bot.router.set_username("console", "petition_bot")
    assert await group.say("/aide@other_bot") == ""
    assert "Commandes" in await group.say("/aide@petition_bot")


async def test_in_a_group_only_addressed_messages_are_answered(chat: Callable[..., Chat]) -> None:
    group = chat(group="g1")
    assert await group.say("qui héberge les données de santé ?") == ""
    assert await group.say("/inconnue") == ""
    assert "Commandes" in await group.say("/aide")
    assert "Microsoft" in await group.say("@bot qui héberge les données de santé ?")
