"""Supporters type instead of pressing: words, yes and no, questions in the middle, and never a trap (console)."""

from collections.abc import Callable

import pytest

from bot.app import Bot
from tests.conftest import Chat


@pytest.fixture
def admins() -> frozenset[tuple[str, str]]:
    return frozenset({("console", "11"), ("console", "12")})  # the admins of the last two stories


async def rows(bot: Bot, sql: str) -> list[tuple[object, ...]]:
    async with bot.services.db.read() as tx:
        return [tuple(r) for r in await tx.fetchall(sql)]


async def signed_typing(me: Chat, name: str, yes: str) -> None:
    """The opening of other stories: signing asked for in words, a name typed, the yes typed."""
    await me.say("signer" if yes == "oui" else "sign me")
    await me.say(name)
    await me.say(yes)


async def at_the_summary(me: Chat, lang: str = "fr") -> None:
    """The opening of many stories: signing started and the initials chosen, the summary on screen."""
    await me.say("/signer" if lang == "fr" else "/sign")
    await me.say("anonyme" if lang == "fr" else "anonymous")


def last_choices(seen: str) -> list[str]:
    """The numbered list at the end of what the user saw: what "1" would press now."""
    block = seen.rstrip().split("\n\n")[-1]
    return [line for line in block.splitlines() if line.startswith("[")]


async def test_a_supporter_signs_typing_words_only_and_says_oui_to_the_news(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="1", name="Jeanne Dupont")
    await me.say("/signer")
    assert "sous le nom « Jeanne Dupont »" in await me.say("mon nom")
    done = await me.say("je signe")
    assert "votre signature est enregistrée" in done and "recevoir les nouvelles" in done
    assert "vous recevrez les nouvelles" in await me.say("oui")
    assert await rows(bot, "SELECT name FROM signatures") == [("Jeanne Dupont",)]
    assert await rows(bot, "SELECT transport, chat_id FROM contacts") == [("console", "1")]


async def test_asking_done_at_the_summary_cancels_nothing_and_shows_the_summary_again(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="done", language="en")
    await me.say("sign")
    await me.say("Sam")
    for asked in ("done?", "is that it?", "c'est bon ?"):
        again = await me.say(asked)
        assert "Cancelled" not in again and ("I sign" in again or "Je signe" in again), asked
        assert "signature: none" not in again, asked
    assert "your signature is saved" in await me.say("yes")
    assert await rows(bot, "SELECT name FROM signatures") == [("Sam",)]


async def test_a_name_corrected_in_a_sentence_or_given_oddly_is_the_one_saved(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    bernard = chat(id="bernard")
    await bernard.say("d'accord, je signe sous le nom de Bernard Lefèvre")
    fixed = await bernard.say("pardon je me suis trompé de nom, c'est Bernard Lefebvre")
    assert "sous le nom « Bernard Lefebvre »" in fixed
    await bernard.say("je signe")
    tom = chat(id="tom", language="en")
    await tom.say("sign as Tom Bakr")
    assert "with the name “Tom Baker”" in await tom.say("sorry, wrong name, it's Tom Baker")
    await tom.say("yes")
    lucas = chat(id="lucas")
    await lucas.say("slt jveux signer")
    assert "sous le nom « Lucas »" in await lucas.say("jsp mon nom c Lucas")
    await lucas.say("ui")
    group = chat(id="collectif")
    await group.say("ok je signe d'abord")
    assert "sous le nom « Collectif Santé Libre 35 »" in await group.say("Collectif Santé Libre 35")
    await group.say("je signe")
    names = sorted(n for (n,) in await rows(bot, "SELECT name FROM signatures"))
    assert names == ["Bernard Lefebvre", "Collectif Santé Libre 35", "Lucas", "Tom Baker"]


async def test_yes_and_no_in_the_words_people_use(chat: Callable[..., Chat], bot: Bot) -> None:
    for i, (yes, no) in enumerate([("Oui", "non merci"), ("ok", "nan"), ("d'accord !", "Non, pas maintenant")]):
        me = chat(id=f"2{i}", name="Ana")
        await at_the_summary(me)
        assert "votre signature est enregistrée" in await me.say(yes)
        assert "vous ne recevrez pas de nouvelles" in await me.say(no)
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(3,)]
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_an_english_speaker_answers_in_english_words(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="3", name="John Smith", language="en")
    await me.say("/sign")
    assert "with the name “J. S.”" in await me.say("anonymous")
    assert "your signature is saved" in await me.say("I sign")
    assert "you will receive news" in await me.say("yes please")


async def test_a_question_at_the_confirm_step_is_answered_then_the_choices_come_again(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="4", name="Ana")
    await me.say("/signer")
    await me.say("2")
    seen = await me.say("c'est quoi le Health Data Hub ?")
    assert "Source :" in seen  # answered from the petition
    assert "Pour signer sous le nom « A. », répondez Je signe ; sinon, Annuler." in seen
    assert last_choices(seen) == ["[1] ✅ Je signe", "[2] Annuler"]
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    assert "votre signature est enregistrée" in await me.say("1")


async def test_words_that_answer_none_of_the_choices_get_a_reply_then_the_choices_again(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="5", name="Ana")
    await me.say("/signer")
    await me.say("2")
    # "banane" and "oui et non" (both, so not an answer) ask nothing: the step again, saying it was not understood;
    # a pause ("bof") and "merci !" just bring the step back.
    unclear = "Je n'ai pas compris votre réponse."
    for typed, lead in (("banane", unclear), ("bof", "Reprenons."), ("merci !", "Reprenons."), ("oui et non", unclear)):
        seen = await me.say(typed)
        assert f"{lead} Pour signer sous le nom « A. »" in seen, typed
        assert last_choices(seen) == ["[1] ✅ Je signe", "[2] Annuler"], typed
        assert "Signer" not in seen, typed  # no main menu in the middle: the step's choices only
        assert "Avec plaisir" not in seen, typed
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    assert "votre signature est enregistrée" in await me.say("signer")  # another word for "Je signe"


async def test_the_name_step_answers_questions_and_refuses_links_commands_and_digits(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="6", name="Ana Lopez")
    await me.say("/signer")
    asked = await me.say("c'est quoi le HDH ?")
    assert "Source :" in asked and "Vous signez" not in asked
    assert last_choices(asked)[:2] == ["[1] Mon nom : Ana Lopez", "[2] Anonyme (initiales : A. L.)"]
    await me.say("un autre nom")
    assert "Un lien ou une adresse ne peut pas servir de nom" in await me.say("https://example.org/moi")
    assert "Un lien ou une adresse" in await me.say("www.exemple.fr")
    command = await me.say("compteur")
    assert "« compteur » est une commande, pas un nom" in command and "/compteur" in command
    assert "Je vous repose la question" in await me.say("aide")  # help with the step, which goes on
    digits = await me.say("12")
    assert "« 12 » n'est pas un nom : il n'y a que des chiffres" in digits
    assert last_choices(digits) == ["[1] Annuler"]  # every refusal offers the step's choices again
    assert "Vous signez" not in await me.say("je voudrais signer svp")  # a request, not a name
    assert "Vous signez" not in await me.say("merci")
    assert "sous le nom « Ana L. »" in await me.say("Ana L.")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_withdrawing_with_oui_and_keeping_with_non(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="7", name="Ana")
    await at_the_summary(me)
    await me.say("je signe")
    await me.say("non")
    await me.say("/retirer")
    assert "Votre signature est conservée" in await me.say("non")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(1,)]
    await me.say("/retirer")
    seen = await me.say("pourquoi ?")
    assert last_choices(seen) == ["[1] Oui, retirer ma signature", "[2] Non, garder ma signature"]
    assert "Votre signature est retirée" in await me.say("oui")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_saying_what_one_wants_starts_it_and_asks_to_confirm(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="9", name="Paul")
    assert "Sous quel nom voulez-vous signer" in await me.say("je veux signer")
    await me.say("mon nom")
    await me.say("oui")
    await me.say("non merci")
    assert "Voulez-vous vraiment retirer votre signature" in await me.say("je veux retirer ma signature")
    assert "Votre signature est conservée" in await me.say("non")
    assert "Voulez-vous vraiment effacer toutes vos données" in await me.say("supprimez toutes mes données svp")
    await me.say("oui")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    asked = await chat(id="10").say("comment retirer ma signature ?")  # asking how only explains
    assert "/retirer" in asked and "Voulez-vous vraiment" not in asked


async def test_asking_about_the_choices_gets_the_choices_again_not_an_faq_answer(chat: Callable[..., Chat]) -> None:
    me = chat(id="11", name="Admin", admin=True)
    await me.say("/diffuser")
    seen = await me.say("c'est quoi la différence ?")
    assert "Je vous repose la question" in seen and "Source" not in seen
    assert last_choices(seen)[-1] == "[4] Annuler"
    assert "Écrivez maintenant le message" in await me.say("les deux")


async def test_menu_labels_typed_without_their_emoji_press_them(chat: Callable[..., Chat]) -> None:
    me = chat(id="8", name="Ana")
    await me.say("/start")
    assert "SORTONS NOS DONNÉES" in await me.say("la pétition")
    assert "signatures au total" in await me.say("Compteur")
    assert "Questions fréquentes" in await me.say("questions")


async def test_a_command_typed_at_a_step_is_a_command_not_a_label(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="9", name="Ana")
    await me.say("/signer")
    await me.say("2")
    assert "C'est annulé. Rien n'a été enregistré." in await me.say("/annuler")  # not the "Annuler" choice
    assert await rows(bot, "SELECT COUNT(*) FROM dialogues WHERE active = 1") == [(0,)]


async def test_help_lists_what_works_in_a_private_chat_in_a_group_and_for_admins(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    private = await chat(id="10").say("/aide")
    assert "/signer" in private and "/retirer" in private and "/abonner" not in private
    assert "/diffuser" not in private and "Administration" not in private
    group = await chat(id="10", group="g1").say("/aide")
    assert "/abonner" in group and "/desabonner" in group and "/compteur" in group
    assert "/signer" not in group.split("Pour signer")[0] and "/retirer" not in group
    admin = await chat(id="11", admin=True).say("/aide")
    for command in ("/diffuser", "/programmer", "/diffusions", "/annuler_diffusion", "/compteur_officiel"):
        assert command in admin
    assert all(line.split(" — ")[1][0].isupper() for line in admin.splitlines() if " — " in line)


async def test_an_admin_typing_the_message_where_the_audience_is_asked_is_not_answered_an_faq(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    """Words that ask nothing and answer none of the choices bring the step back, saying so."""
    admin = chat(id="12", admin=True)
    await admin.say("/diffuser")
    seen = await admin.say("Bonjour à tous, merci pour vos signatures !")
    assert seen.startswith("Je n'ai pas compris votre réponse.")
    assert "Source" not in seen and "[1] Les groupes abonnés" in seen
    seen = await admin.say("on en est à combien de signatures")  # asks something: answered, then the step again
    assert "Prochain objectif" in seen and "Reprenons." in seen


async def test_non_at_the_name_step_cancels_and_nothing_is_kept(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="40", name="Léa")
    await me.say("je veux signer")
    assert "vous n'avez pas signé" in await me.say("non en fait")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_ok_hello_or_an_off_topic_question_at_a_step_bring_the_step_back_without_a_dangling_menu_prompt(
    chat: Callable[..., Chat],
) -> None:
    me = chat(id="41", name="Léa")
    await me.say("/signer")
    for typed in ("ok", "bonjour", "il fera beau demain à Paris ?"):
        seen = await me.say(typed)
        assert "Que voulez-vous faire" not in seen, typed
        assert "Sous quel nom voulez-vous signer" in seen, typed
        assert last_choices(seen)[-1] == "[4] Annuler", typed
    weather = await me.say("what can I expect from the weather tomorrow?")
    assert "I can't answer that" in weather and "What would you like to do" not in weather


async def test_a_question_about_the_petition_typed_for_a_name_is_answered_not_signed(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="42", name="Léa")
    await me.say("je veux signer")
    seen = await me.say("c quand que la cnil a validé")
    assert "sous le nom « c quand" not in seen and "Reprenons. Sous quel nom voulez-vous signer" in seen
    seen = await me.say("la cnil elle a fait quoi exactement")
    assert "Reprenons. Sous quel nom voulez-vous signer" in seen
    assert "sous le nom « Jeanne Martin »" in await me.say("Jeanne Martin")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_a_question_about_the_name_step_in_chat_spelling_is_explained_never_taken_as_a_name(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="30", name="Léa Martin")
    await me.say("jveux signer")
    help_seen = await me.say("c koi la diff entre anonyme et mon nom")
    assert "vos seules initiales" in help_seen and "Sous quel nom" not in help_seen.split("initiales")[0]
    assert "Vous signez" not in help_seen
    why = await me.say("pk vous voulez mon nom")
    assert "Le bot ne publie aucun nom" in why and "Vous signez" not in why
    assert "vos seules initiales" in await me.say("jcomprend pa")
    assert "sous le nom « L. M. »" in await me.say("anonyme")
    assert "rien n'est gardé" in await me.say("c quoi la diff")
    assert "votre signature est enregistrée" in await me.say("je signe")
    assert await rows(bot, "SELECT name FROM signatures") == [("L. M.",)]


async def test_signing_begun_in_english_goes_on_in_english_whatever_the_platform_language(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="31", name="Sam Lee", language="fr")
    assert "Which name do you want to sign with?" in await me.say("ok sign me up")
    assert "your initials only" in await me.say("whats the difference")
    assert "with the name “S. L.”" in await me.say("anonymous")
    assert "your signature is saved" in await me.say("yes i sign")
    assert "you will not receive news" in await me.say("no thanks")
    assert await rows(bot, "SELECT name FROM signatures") == [("S. L.",)]


async def test_a_supporter_who_signed_by_mistake_says_so_at_the_news_question_and_can_withdraw(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="32", name="Lou Bel")
    await me.say("/signer")
    await me.say("mon nom")
    assert "votre signature est enregistrée" in await me.say("je signe")
    asked = await me.say("oups je me suis trompé, je voulais pas signer en fait")
    assert "Voulez-vous vraiment retirer votre signature" in asked
    await me.say("oui")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_a_follower_says_in_words_they_want_no_more_news(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="33", name="Noé")
    await me.say("/suivre")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]
    assert "vous ne recevrez plus de nouvelles" in await me.say("je ne veux plus recevoir de nouvelles")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_a_name_typed_with_words_before_it_is_the_name_alone(chat: Callable[..., Chat], bot: Bot) -> None:
    for n, (typed, name) in enumerate(
        [
            ("Sous mon nom de jeune fille, Bernadette Lefèvre", "Bernadette Lefèvre"),
            ("Bon alors je signe avec mon nom Robert Lemaire", "Robert Lemaire"),
            ("je m'appelle Jean", "Jean"),
            ("je signe avec mes initiales", "C. D."),
        ]
    ):
        me = chat(id=f"34{n}", name="Claire Dumas")
        await me.say("/signer")
        assert f"sous le nom « {name} »" in await me.say(typed), typed
    english = chat(id="349", name="Claire Dumas")
    await english.say("/sign")
    assert "with the name “John Smith”" in await english.say("my name is John Smith")


async def test_en_fait_non_at_the_confirm_step_cancels(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="35", name="Marie Curie")
    await me.say("je veux signer")
    await me.say("Marie Curie")
    assert "C'est annulé" in await me.say("en fait non")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_an_english_command_is_answered_in_english_in_a_french_set_chat(chat: Callable[..., Chat]) -> None:
    me = chat(id="36", name="Sam", language="fr")
    assert "Your data" in await me.say("/mydata")
    assert "Vos données" in await me.say("/mesdonnees")


async def test_a_pause_at_the_name_step_is_never_taken_as_a_name(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="37", name="Ana Lopez")
    await me.say("/signer")
    for pause in ("attends", "euh attendez", "ok je continue"):
        seen = await me.say(pause)
        assert "Vous signez" not in seen and "Sous quel nom" in seen, pause
    assert "sous le nom « Dupont »" in await me.say("Dupont")
    assert "votre signature est enregistrée" in await me.say("oui c'est bon")
    assert await rows(bot, "SELECT name FROM signatures") == [("Dupont",)]


async def test_stop_alone_stops_the_news_in_the_chat_language(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="38", name="Noé")
    await me.say("/suivre")
    assert "vous ne recevrez plus de nouvelles" in await me.say("stop")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_an_english_question_typed_at_the_name_step_is_never_a_name(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="39", name="Sam Lee", language="en")
    await me.say("/sign")
    seen = await me.say("is this the official petition")
    assert "You are signing" not in seen and "Which name do you want to sign with?" in seen


async def test_hesitations_later_and_corrections_while_signing(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="40", name="Ana Lopez")
    await me.say("jveux signer")
    for pause in ("bof jsp", "je sais pas"):
        assert "Reprenons. Sous quel nom" in await me.say(pause), pause
    assert "« Association 34 »" in await me.say("Association 34")
    renamed = await me.say("non attends, mets plutôt mon nom : Claire Moreau")
    assert "sous le nom « Claire Moreau »" in renamed
    assert "votre signature est enregistrée" in await me.say("bon finalement je signe")
    assert "vous ne recevrez pas de nouvelles" in await me.say("plus tard")
    assert await rows(bot, "SELECT name FROM signatures") == [("Claire Moreau",)]
    assert "enregistrée sous le nom « Claire Moreau »" in await me.say("c'est bon, j'ai signé ?")
    english = chat(id="41", name="David Hughes")
    await english.say("/sign")
    assert "with the name “David Hughes”" in await english.say("ok just me then, David Hughes")


async def test_stopping_news_in_plain_words_after_a_no(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="42", name="Noé")
    await me.say("je veux être tenu au courant des nouvelles de la pétition")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]
    assert "vous ne recevrez plus de nouvelles" in await me.say("bon en fait non, arrêtez de m'envoyer des trucs")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_asking_whether_the_signature_went_through_shows_what_is_kept(chat: Callable[..., Chat]) -> None:
    me = chat(id="43", name="Lou")
    await me.say("/signer")
    await me.say("mon nom")
    await me.say("je signe")
    await me.say("non")
    assert "enregistrée sous le nom « Lou »" in await me.say("c'est bon j'ai signé ?")
    assert "recorded under the name “Lou”" in await me.say("did it work?")


async def test_why_not_typed_where_a_name_is_asked_keeps_the_dialogue_in_french(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="44", name="Lou")
    await me.say("/signer")
    again = await me.say("why not")  # a yes: the question again, in the dialogue's language
    assert "Sous quel nom" in again and "Which name" not in again
    assert await rows(bot, "SELECT COUNT(*) FROM dialogues") == [(1,)]
    await me.say("mon nom")
    assert "votre signature est enregistrée" in await me.say("why not")
    assert await rows(bot, "SELECT name FROM signatures") == [("Lou",)]


async def test_quiet_please_to_someone_who_follows_nothing_says_the_bot_only_answers(chat: Callable[..., Chat]) -> None:
    assert "je ne vous écris que lorsque vous m'écrivez" in await chat(id="45").say("tais-toi")
    assert "I only write when you write to me" in await chat(id="46", language="en").say("be quiet")


async def test_a_held_down_letter_is_still_a_yes_and_never_a_name(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="47", name="Josiane")
    await me.say("/signer")
    assert "Sous quel nom" in await me.say("ouii")
    assert "sous le nom « Josiane Marchand »" in await me.say("Josiane Marchand")
    assert "votre signature est enregistrée" in await me.say("ouiii")
    assert await rows(bot, "SELECT name FROM signatures") == [("Josiane Marchand",)]


async def test_help_or_a_question_mark_while_signing_explains_the_step(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="48", name="Lou")
    await me.say("/signer")
    for typed in ("help", "aide", "?"):
        seen = await me.say(typed)
        assert "« Anonyme », avec vos seules initiales" in seen and "interrompue" not in seen, typed
    assert await rows(bot, "SELECT COUNT(*) FROM dialogues") == [(1,)]


async def test_signing_said_in_passing_starts_signing(chat: Callable[..., Chat]) -> None:
    for i, typed in enumerate(("bon ok, je signe mais avec un pseudo", "nn en fait je re-signe")):
        assert "Sous quel nom voulez-vous signer ?" in await chat(id=f"49{i}").say(typed), typed
    assert "Which name do you want to sign with?" in await chat(id="50", language="en").say("cool. I'll sign too")
    assert "Which name" not in await chat(id="51", language="en").say("where do i sign")


async def test_withdrawing_in_plain_words_and_asking_what_is_kept_now(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="52", name="Marc Dubois")
    await me.say("/signer")
    await me.say("mon nom")
    await me.say("je signe")
    await me.say("non merci")
    assert "retirer votre signature" in await me.say("bon je retire ma signature")
    await me.say("oui")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    kept = await me.say("qu'est-ce que tu gardes encore ?")
    assert "Vos données" in kept and "Marc Dubois" not in kept


async def test_signing_with_the_name_in_the_same_message_goes_straight_to_the_summary(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="53", name="Jean")
    seen = await me.say("ok alors je signe en Jean-Pierre (retraité)")
    assert "accord explicite" in seen and "sous le nom « Jean-Pierre (retraité) »" in seen
    assert "votre signature est enregistrée" in await me.say("oui")
    assert await rows(bot, "SELECT name FROM signatures") == [("Jean-Pierre (retraité)",)]
    english = chat(id="54", name="Sam", language="en")
    assert "with the name “Sam Lee”" in await english.say("my name is Sam Lee, sign me up")
    assert "Sous quel nom voulez-vous signer ?" in await chat(id="55").say("/signer svp")


async def test_je_signe_typed_while_signing_does_not_start_again(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="56", name="Lou")
    await me.say("/signer")
    again = await me.say("Je signe")
    assert "Reprenons. Sous quel nom" in again and "accord explicite" not in again
    assert "sous le nom « Claire Moreau »" in await me.say("je signe sous Claire Moreau")
    assert "votre signature est enregistrée" in await me.say("oui")


async def test_a_returning_supporter_asks_where_they_stand(chat: Callable[..., Chat]) -> None:
    me = chat(id="57", name="Lou")
    await me.say("/signer")
    await me.say("mon nom")
    await me.say("je signe")
    await me.say("non merci")
    assert "enregistrée sous le nom « Lou »" in await me.say("c'est encore moi, j'ai déjà signé ou pas ?")
    assert "enregistrée sous le nom « Lou »" in await me.say("c bon c signé ?")
    await me.say("/oublier")
    await me.say("oui")
    assert "Je ne garde rien sur vous" in await me.say("c bon c effacé ?")


async def test_claire_and_a_name_with_a_description_are_names_not_questions(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="58", name="Lou")
    await me.say("/signer")
    await me.say("un autre nom")
    assert "sous le nom « Claire »" in await me.say("Claire")
    other = chat(id="59", name="Lou")
    await other.say("/signer")
    assert "sous le nom « Claire, infirmière »" in await other.say("Claire, infirmière")
    third = chat(id="60", name="Lou Bo")
    await third.say("/signer")
    assert "sous le nom « L. B. »" in await third.say("bon anonyme alors")


async def test_changing_ones_mind_at_the_news_question_is_heard(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="61", name="Lou")
    await me.say("/signer")
    await me.say("mon nom")
    await me.say("oui")
    assert "effacer toutes vos données" in await me.say("en fait jveux tt supprimer pk vous gardez mon nom")
    await me.say("oui")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]
    asked = await chat(id="62").say(
        "si on signe via le bot, vous conservez quelles données ? Et on peut tout effacer ?"
    )
    assert "effacer toutes vos données" not in asked


async def test_not_signing_but_wanting_the_news(chat: Callable[..., Chat], bot: Bot) -> None:
    seen = await chat(id="63").say("Bonjour, je ne veux pas signer mais j'aimerais être tenu au courant de l'évolution")
    assert "vous recevrez les nouvelles" in seen
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_consent_in_everyday_words_signs_and_doubt_cancels(chat: Callable[..., Chat], bot: Bot) -> None:
    for i, consent in enumerate(("j'accepte", "valide", "c'est ok pour moi", "d'acc", "I agree", "si si vas-y")):
        me = chat(id=f"64{i}", name="Paul Henri")
        await me.say("/signer")
        await me.say("mon nom")
        assert "votre signature est enregistrée" in await me.say(consent), consent
    for i, doubt in enumerate(("pas sûr finalement", "je préfère pas", "hmm no")):
        me = chat(id=f"65{i}", name="Paul Henri")
        await me.say("/signer")
        await me.say("mon nom")
        assert "vous n'avez pas signé" in await me.say(doubt), doubt
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(6,)]


async def test_a_new_name_typed_at_the_summary_replaces_the_first(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="66", name="Bench", language="en")
    await me.say("/sign")
    await me.say("my name")
    renamed = await me.say("Emily Clarke")
    assert "with the name “Emily Clarke”" in renamed and "Vous signez" not in renamed
    assert "your signature is saved" in await me.say("yes, sign it")
    assert await rows(bot, "SELECT name FROM signatures") == [("Emily Clarke",)]


async def test_wanting_to_sign_again_news_and_the_goal_in_plain_words(chat: Callable[..., Chat], bot: Bot) -> None:
    assert "Sous quel nom voulez-vous signer ?" in await chat(id="67").say("en fait non je veux re-signer")
    assert "Sous quel nom voulez-vous signer ?" in await chat(id="68").say("d'accord, vas-y signe")
    assert "you will receive news" in await chat(id="69", language="en").say("can you notify me when you reach 19000?")
    assert "Prochain objectif" in await chat(id="70").say("combien il en faut pour arriver à 20 000 ?")
    assert "Vos données" in await chat(id="71").say("qu'est ce que vous gardez sur moi maintenant ?")


async def test_a_pause_at_the_summary_is_not_a_no_and_parfait_is_a_yes(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="72", name="Marc Olivier")
    await me.say("/signer")
    await me.say("mon nom")
    for pause in ("no wait", "pas sûr"):
        assert "Reprenons. Pour signer sous le nom « Marc Olivier »" in await me.say(pause), pause
    assert "votre signature est enregistrée" in await me.say("parfait")
    assert "enregistrée sous le nom « Marc Olivier »" in await me.say("est ce que j ai signé du coup ?")


async def test_signing_in_other_words_and_consent_said_as_i_sign(chat: Callable[..., Chat], bot: Bot) -> None:
    for i, typed in enumerate(
        ("bonjour je voudrai signé la petition svp", "je suis la grand mère de Léa elle m a dit de signer ici")
    ):
        assert "Sous quel nom voulez-vous signer ?" in await chat(id=f"73{i}").say(typed), typed
    assert "Which name do you want to sign with?" in await chat(id="74", language="en").say("let's sign")
    me = chat(id="75", name="Mike R", language="en")
    await me.say("/sign")
    await me.say("my name")
    assert "your signature is saved" in await me.say("ok, and now I sign")
    again = chat(id="76", name="Emma L")
    await again.say("/signer")
    await again.say("annuler")
    assert "Sous quel nom voulez-vous signer ?" in await again.say("finalement si, je signe")
    assert await rows(bot, "SELECT name FROM signatures") == [("Mike R",)]


async def test_a_no_thanks_is_never_a_name_and_a_goodbye_ends_the_questions(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="77", name="Jeanine Morel")
    await me.say("/signer")
    assert "Reprenons. Sous quel nom" in await me.say("non merci pas de nouvelles")
    await me.say("mon nom")
    bye = await me.say("Au revoir et merci")
    assert "Au revoir" in bye and "Je signe" not in bye
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_stop_typed_after_a_finished_withdrawal_is_read_not_answered_expired(chat: Callable[..., Chat]) -> None:
    me = chat(id="78", name="Lou")
    await me.say("/signer")
    await me.say("mon nom")
    await me.say("je signe")
    await me.say("non")
    await me.say("je la retire")
    assert "Votre signature est retirée" in await me.say("oui")
    stop = await me.say("stop")
    assert "expiré" not in stop and "je ne vous écris que lorsque vous m'écrivez" in stop
    assert "expiré" in await me.say("2")  # a number still answers that its list is gone


async def test_anonymous_alone_after_asking_about_names_starts_signing(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="79", name="Léa Martin")
    await me.say("je peux signer sans donner mon vrai nom ?")
    # The consent text, then the summary under the initials: "anonyme" was the choice of name.
    started = await me.say("ok alors anonyme")
    assert "Ce que je conserve si vous signez" in started and "sous le nom « L. M. »" in started


async def test_withdrawing_in_words_at_the_news_question_withdraws(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="80", name="Karima")
    await at_the_summary(me)
    await me.say("je signe")
    asked = await me.say("en fait non je retire")
    assert "Voulez-vous vraiment retirer votre signature" in asked and "nouvelles" not in asked
    assert "Votre signature est retirée" in await me.say("oui")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_erasing_in_words_where_a_name_is_asked_is_not_a_trap(chat: Callable[..., Chat]) -> None:
    me = chat(id="81", name="Priya", language="en")
    await me.say("I want to sign")
    erased = await me.say("ok, delete everything about me please")
    assert "Back to where we were" not in erased and "nothing to erase" in erased
    assert "Which name" not in await me.say("yes")


async def test_a_correction_at_the_summary_changes_the_name_before_consent(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="82", name="Jean Dupont")
    await me.say("/signer")
    await me.say("Jean Dupont")
    assert "sous le nom « J. D. »" in await me.say("non je voulais dire anonyme")
    await me.say("oui")
    assert await rows(bot, "SELECT name FROM signatures") == [("J. D.",)]
    other = chat(id="83", name="Kevin Brown", language="en")
    await other.say("/sign")
    await other.say("my name")
    assert "with the name “K. B.”" in await other.say("sorry I meant my initials")
    cancelled = await other.say("no I changed my mind, don't sign")
    assert "you have not signed" in cancelled and "/unsign" not in cancelled
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(1,)]


async def test_a_command_typed_after_a_word_or_two_is_the_command(chat: Callable[..., Chat]) -> None:
    assert "Which name do you want to sign with?" in await chat(id="84", language="en").say("fine. /sign")
    assert "rien à effacer" in await chat(id="85").say("ok, /oublier")
    asked = await chat(id="86").say("jai tapé /signer par erreur comment jarrete")
    assert "Sous quel nom" not in asked and "/annuler" in asked


async def test_names_given_with_the_wish_to_sign_are_read_whole_and_only_the_name(chat: Callable[..., Chat]) -> None:
    given = {
        "I'd like to sign as Dr. Emily Hart": "“Dr. Emily Hart”",
        "I'd like to sign as Anonymous": "“B.”",
        "Cool, I'm signing now: Priya N.": "“Priya N.”",
        "je signe, au nom de Marc Dupont s'il vous plaît": "« Marc Dupont »",
        "ok je signe, mets Gérard L.": "« Gérard L. »",
        "je signe d'abord : Collectif Libre Santé": "« Collectif Libre Santé »",
        "Bon. Je signe alors. Je m'appelle Mme Odette Lefèvre.": "« Mme Odette Lefèvre »",
        "jveux signer mé anonyme": "« B. »",
    }
    for n, (typed, name) in enumerate(given.items()):
        assert name in await chat(id=f"87-{n}", name="Bench").say(typed), typed
    me = chat(id="88", name="Bench")
    await me.say("je veux signer")
    assert "« Hugo Marchand »" in await me.say("attends non, mets plutôt mon nom, Hugo Marchand")


async def test_a_formal_letter_confirms_erases_and_sees_data(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="89", name="Odette")
    await me.say("Bon. Je signe alors. Je m'appelle Mme Odette Lefèvre.")
    signed = await me.say("Oui, je confirme. Cordialement.")
    assert "votre signature est enregistrée" in signed and "« Mme Odette Lefèvre »" in signed
    await me.say("Non merci.")
    kept = await me.say("Je souhaiterais connaître les informations que vous détenez à mon sujet. Cordialement.")
    assert "/mesdonnees" in kept
    assert "Vos données" in await me.say("montre moi mes données")
    asked = await me.say("Je vous prie d'effacer l'ensemble de mes données. Cordialement.")
    assert "Voulez-vous vraiment effacer toutes vos données" in asked
    await me.say("non")
    assert "Avec plaisir" in await me.say("Je vous remercie.")
    other = chat(id="90", name="Bench")
    await other.say("je veux signer")
    await other.say("anonyme")
    assert "votre signature est enregistrée" in await other.say("Oui je confirme ma signature")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(2,)]


async def test_an_announced_question_is_awaited_and_a_name_alone_keeps_the_language(chat: Callable[..., Chat]) -> None:
    assert "posez votre question" in await chat(id="91").say("jai une question")
    assert "ask your question" in await chat(id="92").say("quick question")
    azure = await chat(id="93").say("Azure")
    assert "Vouliez-vous dire" in azure or "Votre question" in azure or "Microsoft" in azure
    assert "Did you mean" not in azure and "Is your question" not in azure


async def test_yes_where_a_name_is_asked_asks_for_the_name_without_resuming(chat: Callable[..., Chat]) -> None:
    me = chat(id="94", name="Sam Lee")
    await me.say("ok I'll sign it myself")
    again = await me.say("yes please :)")
    assert "Which name do you want to sign with?" in again and "Back to where we were" not in again
    assert "Sous quel nom voulez-vous signer" in await chat(id="95", name="Lou").say("Ok d'abord, j'signe")


async def test_cancelling_in_a_sentence_at_the_summary_cancels(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="96", name="Margaret Hughes", language="en")
    await me.say("I'd like to sign as Margaret Hughes")
    cancelled = await me.say("Oh dear, no, cancel that please, I want to ask my husband first")
    assert "you have not signed" in cancelled and "answer I sign" not in cancelled
    other = chat(id="97", name="Bench")
    await other.say("je veux signer")
    await other.say("anonyme")
    assert "vous n'avez pas signé" in await other.say("en fait non laisse tomber jsuis pas sur")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_a_new_name_in_a_sentence_at_the_summary_replaces_the_first(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="98", name="Bench", language="en")
    await me.say("my name is Tom Baker, sign me up")
    assert "“Thomas Baker”" in await me.say("wait, actually use my full name Thomas Baker")
    assert "“Alex”" in await me.say("wait no, make it just Alex")
    await me.say("yes")
    assert await rows(bot, "SELECT name FROM signatures") == [("Alex",)]


async def test_leaving_requests_in_sentences_are_done(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="99", name="Bench", language="en")
    await at_the_summary(me, "en")
    await me.say("I sign")
    asked = await me.say(
        "Hmm, on second thought I shouldn't sign as a journalist covering this. Please remove my signature."
    )
    assert "Do you really want to withdraw your signature" in asked
    fr = chat(id="100", name="Bench")
    await at_the_summary(fr)
    await fr.say("je signe")
    assert "Voulez-vous vraiment retirer" in await fr.say("ah merde en fait jveux pas etre dedans retire moi stp")
    follower = chat(id="101", name="Bench", language="en")
    await follower.say("/follow")
    assert "no longer receive news" in await follower.say("cool, then /unfollow just in case")
    erased = chat(id="102", name="Bench", language="en")
    await at_the_summary(erased, "en")
    await erased.say("I sign")
    assert "really want to erase all your data" in await erased.say("ok I changed my mind, then /forget")


async def test_a_letter_asking_to_sign_under_a_name_gets_the_summary(chat: Callable[..., Chat]) -> None:
    letter = await chat(id="103", name="Bench").say(
        "Madame, Monsieur, Je me permets de vous écrire afin de vous faire part de mon soutien à votre initiative. "
        "Je souhaiterais apposer ma signature à la présente pétition sous le nom de Docteur Bernard Martin. "
        "Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées."
    )
    assert "sous le nom « Docteur Bernard Martin »" in letter
    before = await chat(id="104", name="Bench", language="en").say(
        "Dear Sir or Madam, before I put my name to anything I always like to know who is behind it"
    )
    assert "Which name" not in before


async def test_asking_one_s_own_status_in_words(chat: Callable[..., Chat]) -> None:
    me = chat(id="105", name="Bench", language="en")
    await at_the_summary(me, "en")
    await me.say("I sign")
    await me.say("no thanks")
    worked = await me.say("did that work?")
    assert "recorded under the name “B.”" in worked and "extraterritorial" not in worked
    assert "Petition news: no" in await me.say("am I still subscribed to the news?")


async def test_yes_thats_correct_is_consent_never_a_name(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="106", name="Bench", language="en")
    await me.say("I'd like to sign please. My name is Margaret O'Brien.")
    assert "your signature is saved" in await me.say("Yes, that's correct.")
    other = chat(id="107", name="Bench", language="en")
    await other.say("I want to sign")
    again = await other.say("Yes, that's right.")
    assert "Which name do you want to sign with?" in again and "“Yes" not in again
    assert await rows(bot, "SELECT name FROM signatures") == [("Margaret O'Brien",)]


async def test_names_in_quotes_or_after_sign_me_up_as_are_the_name(chat: Callable[..., Chat]) -> None:
    assert "“Brussels Digital Rights”" in await chat(id="108", name="Bench").say(
        "great, sign me up as Brussels Digital Rights"
    )
    me = chat(id="109", name="Bench")
    await me.say("ok je signe, mais en anonyme")
    assert "sous le nom « Un dev sceptique »" in await me.say("non en fait mettez 'Un dev sceptique'")
    assoc = await chat(id="110", name="Bench").say("Je signe au nom de mon association « Libertés Numériques 34 »")
    assert "sous le nom « Libertés Numériques 34 »" in assoc
    en = chat(id="111", name="Tom Hill", language="en")
    await en.say("I want to sign")
    await en.say("Tom")
    assert "with the name “T. H.”" in await en.say("hmm wait, actually anonymous is better")


async def test_after_signing_an_aside_leaves_the_news_question_unanswered(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="112", name="Bench")
    await at_the_summary(me)
    await me.say("je signe")
    count = await me.say("c'est combien maintenant ?")
    assert "signatures au total" in count and "Voulez-vous recevoir" not in count and "Reprenons" not in count
    follows = chat(id="113", name="Bench")
    await at_the_summary(follows)
    await follows.say("je signe")
    noted = await follows.say("jveux etre au courant des news")
    assert "vous recevrez les nouvelles" in noted and "Reprenons" not in noted
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]


async def test_asking_for_the_news_in_words_follows(chat: Callable[..., Chat]) -> None:
    fr = await chat(id="114").say("Tenez-moi au courant des nouvelles s'il vous plaît")
    assert "vous recevrez les nouvelles de la pétition ici" in fr
    en = await chat(id="115", language="en").say("I want receive the news when more people sign")
    assert "you will receive news of the petition here" in en
    kept = await chat(id="116", language="en").say("what data do you keep about me")
    assert "receive news" not in kept


async def test_a_question_about_the_name_at_the_summary_keeps_the_name(chat: Callable[..., Chat]) -> None:
    me = chat(id="117", name="Bench", language="en")
    await me.say("I'd like to sign please")
    await me.say("Margaret Thornton")
    asked = await me.say("hmm actually wait, will my name be shown publicly somewhere?")
    assert "publishes no names" in asked and "with the name “Margaret Thornton”" in asked
    assert "“Bench”" not in asked


async def test_a_thumbs_up_or_a_check_mark_is_a_yes(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="118", name="Bench", language="en")
    await at_the_summary(me, "en")
    assert "your signature is saved" in await me.say("✅")
    other = chat(id="119", name="Bench")
    await at_the_summary(other)
    assert "votre signature est enregistrée" in await other.say("👍")
    thanks = await other.say("merci a+")
    assert "Avec plaisir" in thanks and "Voulez-vous recevoir" not in thanks
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(2,)]


async def test_a_mistyped_command_offers_the_command_meant(chat: Callable[..., Chat]) -> None:
    typo = await chat(id="120").say("/singer")
    assert "Vouliez-vous dire /signer ?" in typo and "/signer" in last_choices(typo)[-1]
    assert "Did you mean /unsign?" in await chat(id="121").say("/unsing")
    assert "Envoyez /aide pour la liste des commandes" in await chat(id="122").say("/xyz")


async def test_a_cancel_word_in_a_name_or_beside_a_yes_does_not_cancel(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="123", name="Bench")
    await me.say("je veux signer")
    assert "sous le nom « Marie Annule »" in await me.say("Marie Annule")
    other = chat(id="124", name="Bench", language="en")
    await other.say("I want to sign")
    await other.say("anonymous")
    assert "your signature is saved" in await other.say("I don't want to cancel, I sign")
    fr = chat(id="125", name="Bench")
    await fr.say("je veux signer")
    await fr.say("anonyme")
    assert "votre signature est enregistrée" in await fr.say("laisse tomber la question, je signe")
    assert "Which name do you want to sign with?" in await chat(id="126", name="Bench").say("no problem, sign me")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(2,)]


async def test_names_beginning_with_an_answer_word_or_in_quotes_are_names(chat: Callable[..., Chat], bot: Bot) -> None:
    for n, (typed, name) in enumerate((("Stop Martin", "Stop Martin"), ('"Jean Dupont"', "Jean Dupont"))):
        me = chat(id=f"127-{n}", name="Bench")
        await me.say("je veux signer")
        assert f"sous le nom « {name} »" in await me.say(typed), typed
    fixed = chat(id="128", name="Bench")
    await fixed.say("je veux signer")
    await fixed.say("Jean-Pierre Moreau")
    assert "« Jean-Pierre Moreaux »" in await fixed.say("non, plutôt Jean-Pierre Moreaux")
    refused = chat(id="129", name="Bench")
    await refused.say("je veux signer")
    assert "C'est annulé" in await refused.say("Non merci")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_the_news_offered_after_signing_are_explained(chat: Callable[..., Chat]) -> None:
    me = chat(id="130", name="Bench", language="en")
    await at_the_summary(me, "en")
    await me.say("yes of course")
    assert "signature goals reached" in await me.say("what news will you send me?")


async def test_a_name_typed_after_as_or_a_word_of_assent_is_read(chat: Callable[..., Chat], bot: Bot) -> None:
    en = chat(id="130", name="Bench", language="en")
    await en.say("fine sign me up")
    assert "with the name “B.”" in await en.say("as Anonymous")
    tom = chat(id="131", name="Bench", language="en")
    await tom.say("/sign")
    assert "with the name “Tom Baker”" in await tom.say("as Tom Baker")
    fr = chat(id="132", name="Bench")
    await fr.say("je veux signer")
    assert "sous le nom « B. »" in await fr.say("d'accord. Anonyme")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]  # nothing signed before the yes


async def test_requests_with_a_name_or_another_clause_are_done(chat: Callable[..., Chat], bot: Bot) -> None:
    assert "with the name “Tom Baker”" in await chat(id="140", name="Bench", language="en").say("/sign as Tom Baker")
    assert "sous le nom « Nadia K »" in await chat(id="141", name="Bench").say("/signer sous le nom Nadia K")
    wife = chat(id="142", name="Anne")
    await at_the_summary(wife)
    await wife.say("je signe")
    await wife.say("non merci")
    asked = await wife.say("en fait je voudrais retirer ma signature, mon mari dit que c'est pas sérieux")
    assert "retirer votre signature" in asked and "/retirer pour retirer" not in asked
    assert "Votre signature est retirée" in await wife.say("oui")
    news = chat(id="143", name="Paul")
    await news.say("arrêtez de m'envoyer des nouvelles svp")
    assert "vous recevrez les nouvelles" in await news.say("ah non en fait remettez-moi les nouvelles")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_a_person_writing_english_keeps_english_for_words_of_no_language(chat: Callable[..., Chat]) -> None:
    me = chat(id="150", name="Sam")  # the console gives no language hint: the default is French
    assert "Microsoft" in await me.say("who hosts the health data?")
    assert "All right! What would you like to do?" in await me.say("ok")
    numspot = await me.say("numspot")
    assert "Vous voulez dire" not in numspot and "Did you mean" in numspot
    fr = chat(id="151", name="Léa")
    await fr.say("qui héberge les données de santé ?")
    assert "D'accord ! Que voulez-vous faire ?" in await fr.say("ok")


async def test_several_requests_in_one_message_are_each_done(chat: Callable[..., Chat], bot: Bot) -> None:
    both = chat(id="152", name="Ann", language="en")
    reply = await both.say(
        "Good evening! I don't want to sign right now, but could you let me know when it reaches big "
        "milestones? Also how many people have signed so far?"
    )
    assert "signatures in all" in reply and "you will receive news of the petition" in reply
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]
    gp = await chat(id="153", name="Gus", language="en").say(
        "Hi, I'm a retired GP. How do I sign, and what's the count right now?"
    )
    assert "signatures in all" in gp and "✍️ Sign" in gp
    mother = chat(id="154", name="Odile")
    await at_the_summary(mother)
    await mother.say("je signe")
    await mother.say("non merci")
    asked = await mother.say(
        "Bonsoir, mon fils a signé pour moi sur son téléphone je crois, je voudrais retirer ma signature "
        "s'il vous plaît, je ne suis pas d'accord avec ça."
    )
    assert "Voulez-vous vraiment retirer votre signature" in asked and "Sous quel nom" not in asked
    erase = chat(id="155", name="Anna", language="en")
    await at_the_summary(erase, "en")
    await erase.say("I sign")
    await erase.say("no thanks")
    asked = await erase.say("Can you remove my signature and delete everything you have about me? Thanks.")
    assert "erase all your data" in asked


async def test_where_one_stands_undo_and_sms_names(chat: Callable[..., Chat], bot: Bot) -> None:
    assert "I keep nothing about you" in await chat(id="156", language="en").say("Where do I stand?")
    assert "Je ne garde rien sur vous" in await chat(id="157").say("Alors, où j'en suis maintenant ?")
    lea = chat(id="158", name="Bench")
    await lea.say("jveux signer")
    assert "sous le nom « lea »" in await lea.say("jsui lea")
    assert "votre signature est enregistrée" in await lea.say("ui")
    dave = chat(id="159", name="Bench", language="en")
    await signed_typing(dave, "Dave", "yep")
    assert "withdraw your signature" in await dave.say("nah undo that")
    assert "Your signature is withdrawn" in await dave.say("yes")
    assert await rows(bot, "SELECT name FROM signatures") == [("lea",)]


async def test_undoing_in_words_withdraws_or_stops_what_was_asked(chat: Callable[..., Chat], bot: Bot) -> None:
    lea = chat(id="160", name="Léa")
    await signed_typing(lea, "Léa", "oui")
    assert "Voulez-vous vraiment retirer votre signature" in await lea.say("annule ma signature")
    assert "Votre signature est retirée" in await lea.say("oui")
    again = chat(id="161", name="Léo")
    await again.say("je veux signer")
    assert "C'est annulé" in await again.say("je ne veux plus signer")
    news = chat(id="162", name="Paul")
    await news.say("tenez-moi au courant des nouvelles de la pétition")
    assert "vous ne recevrez plus de nouvelles" in await news.say("en fait non, arrête")
    scared = chat(id="163", name="Rose")
    await at_the_summary(scared)
    await scared.say("je signe")
    await scared.say("non merci")
    afraid = "J'ai peur pour mon travail, effacez tout s'il vous plaît et confirmez-moi que plus rien n'est gardé"
    asked = await scared.say(afraid)
    assert "effacer toutes vos données" in asked
    assert "Toutes vos données sont effacées" in await scared.say("oui")
    assert "Je ne garde rien sur vous" in await scared.say("c'est vraiment effacé ?")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_names_after_moi_c_and_anon(chat: Callable[..., Chat]) -> None:
    me = chat(id="164", name="Bench")
    await me.say("je veux signer")
    assert "sous le nom « Léa »" in await me.say("moi c Léa")
    anon = chat(id="165", name="Bench Smith", language="en")
    assert "with the name “B. S.”" in await anon.say("ok. sign as anon")


async def test_a_question_beside_a_request_is_answered_too(chat: Callable[..., Chat], bot: Bot) -> None:
    both = await chat(id="166", name="Kim", language="en").say("Who is behind this petition and how many have signed?")
    assert "signatures in all" in both and "does not say who wrote it" in both
    assert "✍️ Sign" not in await chat(id="167", name="Kim", language="en").say("tell me the count")
    me = chat(id="168", name="Odile")
    await at_the_summary(me)
    await me.say("je signe")
    await me.say("non merci")
    seen = await me.say("retire ma signature et dis moi qui est derriere la petition")
    assert seen.index("ne dit pas qui l'a écrite") < seen.index("Voulez-vous vraiment retirer votre signature")
    policy = await chat(id="169", language="en").say("Where can I read your privacy policy?")
    assert policy.count("Data controller") == 1 and "Source:" not in policy


async def test_thanks_in_another_language_is_answered_in_the_persons_own(chat: Callable[..., Chat]) -> None:
    en = chat(id="170", name="Sam")
    await en.say("who hosts the health data?")
    assert "You're welcome" in await en.say("merci")
    fr = chat(id="171", name="Léa")
    await fr.say("qui héberge les données ?")
    assert "Avec plaisir" in await fr.say("thanks")


async def test_did_it_go_through_says_yes_in_two_lines_without_the_pseudonym(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="172", name="Mike Ross", language="en")
    await me.say("sign me up")
    await me.say("my name")
    await me.say("yes")
    await me.say("no thanks")
    went = await me.say("did it go through?")
    assert "Your signature is recorded under the name “Mike Ross”" in went and "Petition news: no" in went
    assert "pseudonym" not in went and "/mydata" in went
    fr = chat(id="173", name="Jeanne")
    await fr.say("je signe")
    await fr.say("mon nom")
    await fr.say("oui")
    assert "vous ne recevrez pas de nouvelles" in await fr.say("non merci pas de messages")
    assert "enregistrée sous le nom « Jeanne »" in await fr.say("est-ce que ma signature a bien compté ?")
    await fr.say("/oublier")
    await fr.say("oui")
    assert "Je ne garde rien sur vous" in await fr.say("c'est bon ?")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(0,)]


async def test_a_yes_where_a_name_is_asked_explains_what_to_type(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="174", name="Paul")
    await me.say("je veux signer")
    hint = await me.say("oui")
    assert "« Anonyme », avec vos seules initiales" in hint and "Sous quel nom voulez-vous signer ?" in hint
    assert "sous le nom « Paul Leroy »" in await me.say("Paul Leroy")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_signing_for_someone_else_is_explained_not_done(chat: Callable[..., Chat], bot: Bot) -> None:
    husband = chat(id="175", name="Marco", language="en")
    asked = await husband.say("but she doesnt have telegram, please just add her name, Anna Rossi")
    assert "everyone signs for themselves" in asked and "Which name do you want to sign with?" not in asked
    assert "everyone signs for themselves" in await chat(id="175b", language="en").say(
        "can my wife sign from my phone too?"
    )
    group = await chat(id="176", name="Lina").say("on est 40 dans l'asso, ça compte pour 40 signatures du coup ?")
    assert "chacun signe pour lui-même" in group
    assert "aucune condition de nationalité" in await chat(id="177").say("je suis belge, je peux signer ?")
    assert "no condition of nationality" in await chat(id="178", language="en").say("can I sign if I am not French?")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_an_english_answer_offers_its_command_by_an_english_label(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="179", language="en").say("How do I change the name I signed with?")
    assert last_choices(seen) == ["[1] Withdraw my signature"]
    assert "D'accord" in await chat(id="180").say("ok je valide")


async def test_a_question_about_the_news_at_the_news_question_brings_it_back(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="181", name="Rose")
    await me.say("je signe")
    await me.say("mon nom")
    await me.say("oui")
    asked = await me.say("c'est quoi les nouvelles ? vous allez m'envoyer des pubs ?")
    assert "objectifs de signatures atteints" in asked and "Voulez-vous recevoir les nouvelles" in asked
    assert "vous recevrez les nouvelles" in await me.say("oui")
    assert await rows(bot, "SELECT COUNT(*) FROM contacts") == [(1,)]
    other = chat(id="182", name="Yves")
    await other.say("je signe")
    await other.say("mon nom")
    await other.say("oui")
    count = await other.say("on est combien maintenant ?")
    assert "signatures au total" in count and "Voulez-vous recevoir les nouvelles" not in count


async def test_questions_at_a_confirmation_are_answered_and_a_yes_with_its_verb_confirms(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="183", name="Monique Darras")
    await me.say("je signe")
    await me.say("mon nom")
    await me.say("oui")
    await me.say("non merci")
    await me.say("maintenant je voudrais qu'on efface tout, mon fils dit que c'est dangereux")
    asked = await me.say("est-ce que ça enlève aussi ma signature ?")
    assert "signature comprise" in asked and "Tout effacer ?" in asked and "retirer votre signature du" not in asked
    assert "Toutes vos données sont effacées" in await me.say("oui vas-y efface")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    yanis = chat(id="184", name="Yanis")
    await yanis.say("jsigne")
    await yanis.say("mets Yanis")
    public = await yanis.say("c public ?")
    assert "Le bot ne publie aucun nom" in public and "Journal Officiel" not in public
    assert "votre signature est enregistrée" in await yanis.say("oui vas-y signe")
    worried = chat(id="185", name="Ada", language="en")
    await worried.say("/sign")
    await worried.say("anonymous")
    await worried.say("I sign")
    again = await worried.say("what you will send me exactly? spam?")
    assert "Would you like the petition's news here?" in again
    assert "you will receive news" in await worried.say("ok yes")


async def test_a_remark_is_no_name_and_an_initial_is_no_french(chat: Callable[..., Chat], bot: Bot) -> None:
    ines = chat(id="186", name="Bench")
    await ines.say("jveux signer")
    assert "sous le nom « c nul »" not in await ines.say("c nul")
    assert "sous le nom « ines b »" in await ines.say("ines b")
    smith = chat(id="187", name="Bench", language="en")
    await smith.say("so the CNIL is like a court?")
    assert "with the name “J. Smith”" in await smith.say("ok sign me as J. Smith")
    assert "your signature is saved" in await smith.say("y")
    assert await rows(bot, "SELECT name FROM signatures ORDER BY name") == [("J. Smith",)]


async def test_signing_in_everyday_sentences_is_never_lost(chat: Callable[..., Chat], bot: Bot) -> None:
    """Names and yeses given the way people type them, after a question or in a sentence, are taken."""
    camille = chat(id="188", name="Bench")
    await camille.say("Et je signe comment moi ?")
    assert "sous le nom « Camille Rousseau »" in await camille.say("Camille Rousseau")
    kevin = chat(id="189", name="Bench")
    await kevin.say("jveux signer mais jsuis pas sur que ca sert a qqch")
    assert "Sous quel nom voulez-vous signer ?" in await kevin.say("ok")
    john = chat(id="190", name="Bench", language="en")
    await john.say("/sign")
    await john.say("wait, will my name be public?")
    assert "with the name “John Smith”" in await john.say("ok then John Smith")
    thomas = chat(id="191", name="Bench")
    assert "sous le nom « Thomas Girard »" in await thomas.say("bonjour, ok je signe. Thomas Girard")
    anon = chat(id="192", name="Ann Lee", language="en")
    assert "with the name “A. L.”" in await anon.say("I'll sign but anonymously")
    quiet = chat(id="193", name="Bench", language="en")
    await quiet.say("I'll sign")
    assert "Which name do you want to sign with?" in await quiet.say("no news please")  # nothing cancelled
    again = chat(id="194", name="Marc")
    await again.say("je signe")
    await again.say("mon nom")
    await again.say("oui")
    await again.say("non merci")
    await again.say("/retirer")
    await again.say("oui")
    assert "Sous quel nom voulez-vous signer ?" in await again.say("zut je voulais pas, je veux signer de nouveau")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_the_answer_just_above_is_the_one_just_before(chat: Callable[..., Chat]) -> None:
    me = chat(id="195")
    await me.say("pk microsoft")
    assert "Ma réponse juste au-dessus" in await me.say("c grave ?")
    await me.say("et le psg ?")  # declined: the answer is no longer just above
    assert "Ma réponse juste au-dessus" not in await me.say("c grave ?")


async def test_a_question_at_the_summary_never_changes_the_name(chat: Callable[..., Chat], bot: Bot) -> None:
    julie = chat(id="196", name="Bench")
    await julie.say("je signe")
    await julie.say("Julie")
    asked = await julie.say("attends qui voit mon nom")
    assert "Le bot ne publie aucun nom" in asked and "sous le nom « Julie »" in asked and "« Bench »" not in asked
    assert "votre signature est enregistrée" in await julie.say("wé")
    nathalie = chat(id="197", name="Bench")
    told = await nathalie.say(
        "Bonsoir. Je veux signer, je m'appelle Nathalie Roux. Est-ce que mon employeur pourra voir que j'ai signé ?"
    )
    assert "sous le nom « Nathalie Roux »" in told
    later = chat(id="198", name="Bench")
    await later.say("je signe")
    await later.say("Anonyme")
    assert "vous n'avez pas signé" in await later.say(
        "attends, finalement je préfère réfléchir encore un peu, je reviendrai"
    )
    assert await rows(bot, "SELECT name FROM signatures") == [("Julie",)]
