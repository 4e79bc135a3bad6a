"""Free-text questions: the supporter gets the right passage, with its source, or an honest "I don't know"."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.realistic import evaluate, load
from bot.answers import AnswerIndex
from bot.app import Bot
from bot.content import Content, load_content
from tests.conftest import Chat, says

DATA = Path(__file__).parent / "data"
CONTENT = Path(__file__).parent.parent / "content" / "sante-microsoft"


def labelled(name: str) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = tomllib.loads((DATA / name).read_text(encoding="utf-8"))["question"]
    return questions


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONTENT)


@pytest.fixture(scope="module")
def index(content: Content) -> AnswerIndex:
    return AnswerIndex.build(content)


def decline_texts(bot: Bot) -> list[str]:
    """Every way the bot says "not something I answer", in both languages."""
    return [
        says(bot, key, lang) for key in ("decline_out_of_scope", "decline_not_in_petition") for lang in ("fr", "en")
    ]


def top1(index: AnswerIndex, questions: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """Share of questions answered with an acceptable passage (or declined when out of scope), and the misses."""
    misses = []
    for q in questions:
        answer = index.ask(q["text"])
        got = answer.id if answer else None
        if (got is None) if not q["expected"] else (got in q["expected"]):
            continue
        misses.append(f"{q['text']!r}: expected {q['expected'] or 'decline'}, got {got}")
    return 1 - len(misses) / len(questions), misses


def test_labelled_questions_are_answered_with_the_right_passage(index: AnswerIndex) -> None:
    questions = labelled("questions.toml")
    assert len(questions) >= 80
    accuracy, misses = top1(index, questions)
    assert accuracy >= 0.90, "\n".join(misses)


def test_every_out_of_scope_question_is_declined(index: AnswerIndex) -> None:
    out_of_scope = [q["text"] for q in labelled("questions.toml") if not q["expected"]]
    assert len(out_of_scope) >= 10
    answered = [(text, a.id) for text in out_of_scope if (a := index.ask(text)) is not None]
    assert answered == []


def test_held_out_questions_written_before_tuning_are_mostly_answered(index: AnswerIndex) -> None:
    """Questions never used to tune the index: how it does on wording nobody prepared it for."""
    accuracy, misses = top1(index, labelled("questions_holdout.toml"))
    assert accuracy >= 0.85, "\n".join(misses)


def test_labelled_sets_cover_french_english_and_declines() -> None:
    for name, minimum in (("questions.toml", 80), ("questions_holdout.toml", 40)):
        questions = labelled(name)
        assert len(questions) >= minimum
        assert {q["lang"] for q in questions} == {"fr", "en"}
        assert any(not q["expected"] for q in questions)


def test_expected_ids_exist_in_the_content(content: Content) -> None:
    known = {e.id for e in content.faq} | {
        x.id for x in (*content.petition.paragraphs, *content.petition.demands, *content.petition.chronology)
    }
    for name in ("questions.toml", "questions_holdout.toml"):
        unknown = {i for q in labelled(name) for i in q["expected"]} - known
        assert unknown == set(), name


def test_accents_elisions_and_case_do_not_matter(index: AnswerIndex) -> None:
    a = index.ask("Qu'a décidé la CNIL ?")
    b = index.ask("QU A DECIDE LA CNIL")
    c = index.ask("qu’a decide la cnil")
    assert a is not None and b is not None and c is not None
    assert a.id == b.id == c.id == "cnil-decision"


def test_a_french_word_is_not_mistaken_for_an_english_contraction(index: AnswerIndex) -> None:
    """ "don't" is "do not", never the French stem "don" (données)."""
    assert "f:don" not in index.query_terms("I don't know")
    assert index.ask("I don't know") is None


def test_short_words_are_not_typo_corrected(index: AnswerIndex) -> None:
    """Only words of five letters or more are corrected: "cnl" is not "cnil"."""
    assert index.query_terms("cnl") == []
    assert index.query_terms("comission nationale") != []


def test_an_empty_or_punctuation_only_question_is_declined(index: AnswerIndex) -> None:
    for text in ("", "   ", "???", "…", "🙂"):
        assert index.ask(text) is None


# ------------------------------------------------------------------ stories


async def test_who_hosts_the_data_is_answered_with_microsoft_and_its_source(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("qui heberge les donnees de sante ?")
    assert "Microsoft" in seen
    assert "Source : texte de la pétition, paragraphes 1 et 3" in seen
    assert "chronologie de la pétition, « 2019 »" in seen


async def test_an_english_question_is_answered_in_english(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("when was the CNIL decision published?")
    assert "published on 31 January 2024" in seen
    assert "Source: petition text, paragraph 2" in seen
    assert "Selon" not in seen


async def test_a_question_with_typos_is_understood(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("qui hebrege les donées de santé ?")
    assert "Microsoft" in seen and "Source :" in seen


async def test_an_out_of_scope_question_gets_a_short_decline_and_the_main_actions(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("Quel temps fera-t-il demain à Lyon ?")
    assert "Je ne sais pas répondre à cela" in seen
    assert "✍️ Signer" in seen and "📜 La pétition" in seen and "🔢 Compteur" in seen
    assert "/oublier" not in seen and "/mesdonnees" not in seen  # not the whole command list
    assert "Source" not in seen and "Microsoft" not in seen


async def test_a_see_also_choice_answers_that_entry(chat: Callable[..., Chat], content: Content) -> None:
    me = chat()
    seen = await me.say("Qu'a décidé la CNIL ?")
    assert "Voir aussi :" in seen and "[1] " in seen
    label = seen.split("[1] ", 1)[1].splitlines()[0]
    entry = next(e for e in content.faq if e.question["fr"].startswith(label.rstrip("…")))
    answer = await me.press(1)
    first_words = entry.answer["fr"].replace("**", "").split(":")[0][:40]
    assert first_words in answer
    assert "Source :" in answer


async def test_a_see_also_choice_after_an_english_answer_answers_in_english(chat: Callable[..., Chat]) -> None:
    me = chat()
    seen = await me.say("What did the CNIL decide?")
    assert "See also:" in seen and "[1] " in seen
    answer = await me.press(1)
    assert "Source: " in answer
    assert "Source :" not in answer


# ------------------------------------------------------------------ tiers, chat language, intents


async def test_an_sms_question_is_answered(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("c koi le hdh")
    assert "plateforme HDH" in seen and "Source :" in seen


async def test_filler_words_do_not_hide_a_question(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("franchement jsuis perdu mdr, ki heberge nos donnees de sante direct ?")
    assert "Microsoft" in seen and "Source :" in seen


async def test_a_greeting_gets_a_friendly_reply_with_the_main_actions(chat: Callable[..., Chat]) -> None:
    me = chat()
    for text in ("bonjour", "merci !", "😀"):
        seen = await me.say(text)
        assert "Je ne sais pas" not in seen and "ne dit rien" not in seen
        assert "✍️ Signer" in seen
    assert "Hello!" in await me.say("hi there")


async def test_how_many_signed_gives_the_live_count(chat: Callable[..., Chat]) -> None:
    me = chat()
    assert "Prochain objectif" in await me.say("combien de personnes ont signé ?")
    await me.say("/signer")
    await me.say("Camille")
    await me.press(1)
    seen = await me.say("on en est à combien de signatures stp")
    assert "18\u202f883 signatures au total" in seen, seen


async def test_a_close_call_asks_did_you_mean_and_a_press_answers(chat: Callable[..., Chat]) -> None:
    me = chat()
    seen = await me.say("Microsoft ?")
    assert "Vous voulez dire :" in seen and "[1] " in seen
    assert "Source" not in seen
    answer = await me.press(1)
    assert "Source :" in answer


async def test_an_english_answer_names_english_commands(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("how do I delete my data?")
    assert "/forget" in seen and "/oublier" not in seen and "/retirer" not in seen


async def test_asking_how_to_sign_offers_a_sign_choice(chat: Callable[..., Chat]) -> None:
    me = chat()
    seen = await me.say("comment je peux signer ?")
    assert "✍️ Signer" in seen
    assert "nom" in await me.press("1")


async def test_saying_i_want_to_sign_starts_signing(chat: Callable[..., Chat]) -> None:
    for wish in ("jveux signer direct", "je signe", "I'd like to sign", "sign me up pls"):
        assert "[1] Mon nom" in await chat().say(wish) or "[1] My name" in await chat().say(wish)


async def test_not_wanting_to_sign_does_not_start_signing(chat: Callable[..., Chat]) -> None:
    for text in (
        "je ne veux pas signer",
        "je veux signer mais c'est quoi le HDH",
        "I don't want to sign",
        "Je voudrais signer la pétition contre la réforme des retraites",
        "Can you also sign me up for the petition against facial recognition cameras at the Olympics?",
    ):
        seen = await chat().say(text)
        assert "Mon nom" not in seen and "My name" not in seen


async def test_a_command_word_typed_alone_runs_the_command(chat: Callable[..., Chat]) -> None:
    me = chat()
    assert "Prochain objectif" in await me.say("Compteur")
    assert "SORTONS NOS DONNÉES" in await me.say("la pétition")
    assert "Petite chronologie des faits" in await me.say("chronologie")


async def test_the_english_timeline_is_english(chat: Callable[..., Chat]) -> None:
    seen = await chat(language="en").say("/timeline")
    assert "A short timeline of the facts" in seen and "November 2023" in seen
    assert "Novembre" not in seen and "Décembre" not in seen


async def test_a_word_of_the_dictionary_is_never_corrected_towards_a_command(index: AnswerIndex) -> None:
    assert index.speller.correct("light") == "light"
    assert index.speller.correct("oublie") == "oublie"
    assert index.speller.correct("microsft") == "microsoft"


async def test_sources_are_listed_once_and_labels_cut_at_a_word(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("Qu'a promis le ministre de la Santé en 2020 ?")
    assert seen.count("« 2020 »") <= 1
    for line in seen.splitlines():
        if line.startswith("[") and line.endswith("…"):
            assert line[-2] != " "


# ------------------------------------------------------------------ content and the realistic sets


def test_each_paraphrase_belongs_to_one_entry_and_retrieves_it(content: Content, index: AnswerIndex) -> None:
    """A way of asking shared by two entries, or answered by another entry, sends people to the wrong answer."""
    owner: dict[str, str] = {}
    wrong = []
    for entry in content.faq:
        for lang in ("fr", "en"):
            for asked in (entry.question[lang], *entry.paraphrases[lang]):
                key = " ".join(index.words(asked))
                assert owner.setdefault(key, entry.id) == entry.id, f"{asked!r}: {owner[key]} and {entry.id}"
                answer = index.ask(asked)
                if answer is None or answer.id != entry.id:
                    wrong.append(f"{entry.id}: {asked!r} -> {answer.id if answer else None}")
    assert wrong == []


def test_the_realistic_sets_are_realistic() -> None:
    for name in ("realistic_tune.toml", "realistic_holdout.toml"):
        questions = load(name)
        assert len(questions) >= 100
        assert sum(q["lang"] == "en" for q in questions) >= 0.3 * len(questions)
        assert sum(q["expect"] == "decline" for q in questions) >= 0.15 * len(questions)


async def test_the_held_out_realistic_questions_do_not_regress() -> None:
    """Questions nobody tuned on, judged on the bot's real replies (bench/realistic.py); floor of today's figure."""
    report = await evaluate(load("realistic_holdout.toml"))
    assert report.accuracy >= 0.84, "\n".join(report.lines())
    declines = [v for v in report.verdicts if v.question["expect"] == "decline"]
    assert all(v.outcome != "wrong-confident" or v.question["expect"] != "smalltalk" for v in report.verdicts)
    assert declines


async def test_the_held_out_realistic_questions_reach_the_target() -> None:
    """Issue 10's target: 90% right directly or with one press; French and English each 85%; greetings answered."""
    report = await evaluate(load("realistic_holdout.toml"))
    summary = "\n".join(report.lines())
    assert report.accuracy >= 0.90, summary
    assert report.accuracy_of("fr") >= 0.85 and report.accuracy_of("en") >= 0.85, summary
    assert all(v.right for v in report.verdicts if v.question["expect"] == "smalltalk"), summary


@pytest.mark.xfail(reason="issue 10: 22 of the 23 held-out out-of-scope questions are declined, not all (README)")
async def test_every_held_out_out_of_scope_question_is_declined() -> None:
    report = await evaluate(load("realistic_holdout.toml"))
    assert all(v.right for v in report.verdicts if v.question["expect"] == "decline"), "\n".join(report.lines())


DEVELOPMENT_SETS = [f"realistic_dev{n}.toml" for n in ("", *range(2, 73))]


@pytest.mark.parametrize("name", DEVELOPMENT_SETS)
async def test_the_development_sets_stay_answered(name: str) -> None:
    """Seventy-two blind development sets, used to find failure classes (not held out): the floor, each set alone."""
    report = await evaluate(load(name))
    assert report.accuracy >= 0.93, name + "\n" + "\n".join(report.lines())


async def test_a_count_question_worded_freely_gives_the_live_count(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("on est combien à avoir signé ??")
    assert re.search(r"18\D?882", seen) and "Prochain objectif" in seen


async def test_what_the_petition_wants_gives_all_three_demands(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("du coup elle veut quoi la petition")
    assert "1)" in seen and "2)" in seen and "3)" in seen


async def test_two_questions_in_one_message_offer_each_ones_entry(chat: Callable[..., Chat]) -> None:
    """Neither is answered blindly: each question's entry is a choice, in the message's language."""
    seen = await chat().say("So the CNIL actually said no European cloud could do it? Source?")
    assert "Did you mean" in seen and "[2]" in seen and "Source:" not in seen


async def test_a_question_the_content_only_partly_covers_offers_the_closest_entries(chat: Callable[..., Chat]) -> None:
    """No sure answer: the bot says so and offers entries, without asserting anything."""
    seen = await chat().say("la CNIL peut faire supprimer mes photos sur Facebook ?")
    assert "Je ne trouve pas" in seen and "[1]" in seen and "Source" not in seen


async def test_thanks_with_a_comment_is_small_talk(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("merci bcp c'est super clair 👍")
    assert "Avec plaisir" in seen


async def test_not_wanting_to_sign_is_not_offered_signing(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("I don't want to sign something I don't understand. What happened with the CNIL?")
    assert "✍️ Sign" not in seen


async def test_an_out_of_scope_question_naming_microsoft_is_not_answered(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("what's the weather for Microsoft's headquarters tomorrow?")
    assert "can't" in seen and "Source" not in seen


async def test_a_stock_price_question_is_declined_though_it_names_microsoft(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("combien vaut l'action Microsoft aujourd'hui ?")
    assert "Je ne sais pas répondre" in seen and "Source" not in seen and "Vous voulez dire" not in seen


async def test_two_clear_questions_in_one_message_get_both_answers(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("Depuis quand Microsoft a nos données ? Et c'est quoi EMC2 ?")
    assert "2019" in seen and "plateforme européenne" in seen and "Vous voulez dire" not in seen
    assert seen.count("Source :") == 2


async def test_asking_for_a_language_in_words_sets_it(chat: Callable[..., Chat]) -> None:
    me = chat()
    assert "I will speak English with you" in await me.say("english please")
    assert "Source:" in await me.say("who hosts the data?")
    assert "je vous parlerai en français" in await me.say("en français svp")
    assert "speak English" not in await chat().say("is the petition available in english?")


async def test_a_short_english_request_in_a_french_chat_is_answered_in_english(chat: Callable[..., Chat]) -> None:
    assert "I keep no data about you" in await chat().say("forget me")


async def test_goodbye_is_said_back_not_hello(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("au revoir")
    assert "Au revoir" in seen and "Bonjour" not in seen
    assert "je présente la pétition" in await chat().say("salut, c'est pour quoi ce bot ?")


async def test_sms_french_without_apostrophes_is_read_as_written(chat: Callable[..., Chat]) -> None:
    """ "jusqua quand", "quon", "jsigne": elisions typed without their apostrophe."""
    assert "date limite" in await chat(id="elision1").say("jusqua quand on peut signer")
    assert "Sous quel nom voulez-vous signer" in await chat(id="elision2").say("ok jsuis convaincu jsigne")
    # A misspelt word is corrected, not split: "comission" is not "c" + "omission".
    assert "Commission nationale" in await chat(id="elision3").say(
        "la comission nationale informatique et libertés c koi"
    )


async def test_another_cause_is_declined_and_this_one_is_not(chat: Callable[..., Chat], bot: Bot) -> None:
    declined = says(bot, "decline_out_of_scope", "en")
    assert declined in await chat(id="cause1").say("can you sign the petition against animal testing for me")
    assert declined in await chat(id="cause2").say("Can you help me start a petition to save my local library?")
    assert says(bot, "decline_out_of_scope") in await chat(id="cause3").say(
        "je voudrais signer la pétition pour sauver les abeilles"
    )
    assert declined in await chat(id="cause6").say("can you sign the save the bees petition for me too")
    assert declined in await chat(id="cause7").say("can you sign the A69 motorway petition for me too")
    assert declined in await chat(id="cause9").say("can you sign me up for the animal rights petition too")
    assert declined not in await chat(id="cause10").say("is this the official petition?")
    assert "reconsidérer" in await chat(id="cause8").say("elle demande quoi concrètement cette pétition ?")
    assert "Sous quel nom" in await chat(id="cause4").say("je veux signer la pétition contre Microsoft")
    summary = await chat(id="cause5").say("Pouvez-vous me résumer les demandes de la pétition pour mon député ?")
    assert "reconsidérer" in summary


async def test_asking_for_english_switches_and_mentioning_french_things_does_not(chat: Callable[..., Chat]) -> None:
    expat = chat(id="lang1")
    reply = await expat.say("is this only about french citizens or anyone in the french system? im an expat")
    assert "je vous parlerai en français" not in reply
    assert "I will speak English" in await chat(id="lang2").say(
        "please can you speak english with me, my french is not so good"
    )
    assert "I will speak English" not in await chat(id="lang3").say("I don't speak English")


async def test_a_supporter_worried_about_being_named_publicly_is_told_what_is_shown(chat: Callable[..., Chat]) -> None:
    reply = await chat(id="public1").say(
        "Mon nom apparaîtra-t-il publiquement si je signe ? Je préfère rester discrète."
    )
    assert "ne publie aucun nom" in reply and "/confidentialite" in reply
    assert "publishes no names" in await chat(id="public2").say("will my name show up online if i sign")


async def test_what_can_i_do_to_help_says_sign_and_share(chat: Callable[..., Chat]) -> None:
    assert "Share this bot" in await chat(id="help1").say("what can I do to help")
    assert "Partagez ce bot" in await chat(id="help2").say("comment je peux aider ?")
    assert "/mesdonnees" in await chat(id="help3").say("qu'est ce que vous avez sur moi au juste")
    assert "/annuler" in await chat(id="help4").say(
        "jsuis en train de signer et jme suis trompé, comment jarrete le truc"
    )


async def test_small_talk_inside_a_message_that_is_not_about_the_petition(chat: Callable[..., Chat], bot: Bot) -> None:
    """A question about the bot, or thanks with a comment, is small talk even with words around it."""
    about_bot = await chat(id="talk1").say("are you a real person or a machine? you answer very fast")
    assert says(bot, "smalltalk_capabilities", "en") in about_bot
    thanks = await chat(id="talk2").say("sorry for all the questions, thank you you're very patient")
    assert says(bot, "smalltalk_thanks", "en") in thanks
    nod = await chat(id="talk3").say("ok merci t un bg 👍")
    assert says(bot, "decline_out_of_scope") not in nod and says(bot, "answer_unsure") not in nod
    # A nod before a question about something else is not small talk: "qui a gagné" is declined.
    football = await chat(id="talk4").say("mdr qui a gagné psg om hier")
    assert any(says(bot, key) in football for key in ("decline_out_of_scope", "decline_not_in_petition"))
    # "aide moi" before another request is no question about the bot.
    assert says(bot, "decline_out_of_scope") in await chat(id="talk5").say("aide moi pour mon dm de maths stp")


async def test_letters_typed_three_times_count_once(chat: Callable[..., Chat], bot: Bot) -> None:
    assert says(bot, "smalltalk_thanks") in await chat(id="rep1").say("merciiii")
    assert "Sous quel nom" in await chat(id="rep2").say("jveu signer")


async def test_asking_for_the_privacy_policy_shows_it(chat: Callable[..., Chat]) -> None:
    notice = await chat(id="policy1").say("envoie moi la politique de confidentialité stp")
    assert "Base légale" in notice
    assert "Legal basis" in await chat(id="policy2").say("where is your privacy policy")


async def test_my_name_offers_signing_but_naming_companies_does_not(chat: Callable[..., Chat]) -> None:
    offered = await chat(id="name1").say("comment je peux ajouter mon nom ?")
    assert "✍️ Signer" in offered
    companies = await chat(id="name2").say("Can you name the companies that were invited to the consultation?")
    assert "✍️ Sign" not in companies and "Which French providers were consulted?" in companies


async def test_wanting_to_sign_but_asking_first_offers_both(chat: Callable[..., Chat], bot: Bot) -> None:
    """ "je veux bien signer mais…" with a question the index is unsure of: which one was meant, Sign first."""
    seen = await chat(id="both1").say(
        "je veux bien signer mais avant de mettre mon nom pourriez-vous me dire ce qui se passe exactement"
    )
    if says(bot, "did_you_mean") in seen:
        assert "[1] ✍️ Signer" in seen


async def test_off_topic_requests_with_campaign_words_are_declined_and_sign_nothing(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    declines = decline_texts(bot)
    for n, asked in enumerate(
        [
            "my xbox account got hacked, can microsoft support restore it?",
            "raconte moi une blague sur la cnil",
            "signe moi pour la petition greenpeace sur le climat stp",
            "coucou ! super la pétition. vous en avez une pour interdire la corrida ? je signe direct",
            "thanks for the info earlier. different question: is copilot included in microsoft 365 or do i pay extra",
        ]
    ):
        reply = await chat(id=f"off{n}").say(asked)
        assert any(d in reply for d in declines), asked
        assert "Sous quel nom" not in reply and "Which name" not in reply, asked
    assert "Microsoft" in await chat(id="off-control").say("ok fine, who hosts the data?")


async def test_a_forwarded_message_reader_asking_what_this_is_gets_the_petition_in_short(
    chat: Callable[..., Chat],
) -> None:
    for n, asked in enumerate(
        ["c'est quoi ce truc ?", "de quoi ça parle", "salut c quoi ce truc", "what's this about?"]
    ):
        seen = await chat(id=f"what{n}").say(asked)
        assert "Microsoft" in seen and ("reconsidérer" in seen or "reconsider" in seen), asked
        assert "Signer" in seen or "Sign" in seen, asked
    assert "je présente la pétition" in await chat(id="what-bot").say("c'est quoi ce bot")


async def test_asking_in_english_what_this_is_about_switches_and_answers(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="en-about").say("can you explain in English what this is about")
    assert "I will speak English" in seen and "asks it to reconsider its decision" in seen
    assert "I will speak English" in await chat(id="en-switch").say("can you switch to english, my french is terrible")


async def test_a_wary_supporter_asking_if_it_is_a_scam_is_told_nothing_is_paid(chat: Callable[..., Chat]) -> None:
    assert "jamais d'argent" in await chat(id="scam1").say("c'est une arnaque ce bot ? faut payer pour signer ?")
    assert "never asks for money" in await chat(id="scam2").say("is this legit or some kind of phishing")


async def test_ones_own_records_appointments_and_letters_are_declined(chat: Callable[..., Chat], bot: Bot) -> None:
    declines = decline_texts(bot)
    for n, asked in enumerate(
        [
            "how do i get a copy of my medical records from my hospital",
            "je n'arrive pas à prendre rendez vous sur doctolib, vous pouvez m'aider ?",
            "translate this letter to my landlord into french please: dear sir, the heating is broken",
        ]
    ):
        reply = await chat(id=f"own{n}").say(asked)
        assert any(d in reply for d in declines), asked


async def test_what_happened_on_a_date_gives_every_event_of_that_date(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="date1").say("il s'est passé quoi en décembre 2023 ?")
    assert "exigences techniques" in seen and "aurait approuvé Microsoft Azure" in seen
    seen = await chat(id="date2").say("what happened in 2020")
    assert "migration" in seen and "Council of State" in seen
    assert "aurait approuvé" in await chat(id="date3").say("la CNIL a approuvé Azure en décembre 2023 ?")


async def test_a_language_named_alone_switches_to_it(chat: Callable[..., Chat]) -> None:
    assert "I will speak English" in await chat(id="alone1").say("english")
    assert "I will speak English" in await chat(id="alone2").say("anglais stp")
    assert "I will speak English" not in await chat(id="alone3").say("which french cloud companies were consulted")


async def test_an_acronym_the_petition_spells_out_is_understood(chat: Callable[..., Chat]) -> None:
    assert "Délégation du Numérique en Santé" in await chat(id="dns").say("c qui la DNS")


async def test_asking_if_it_is_a_bot_is_answered_yes(chat: Callable[..., Chat]) -> None:
    assert "I am a bot" in await chat(id="bot1").say("are you a real person or a bot? you answer very fast")
    assert "Je suis un bot" in await chat(id="bot2").say("t'es un humain ou un bot ? tu réponds super vite")


async def test_not_wanting_the_bot_to_keep_ones_data_starts_erasure(chat: Callable[..., Chat]) -> None:
    assert "rien à effacer" in await chat(id="keep1").say("je veux plus que vous ayez mes infos")
    assert "nothing to erase" in await chat(id="keep2").say("I don't want you to keep my data anymore")


async def test_compliments_and_goodbyes_in_chat_spelling_are_small_talk(chat: Callable[..., Chat], bot: Bot) -> None:
    assert says(bot, "smalltalk_thanks") in await chat(id="talk1").say("ptdr t trop fort")
    assert says(bot, "smalltalk_goodbye") in await chat(id="talk2").say("bonne soirée a+")


async def test_a_forwarded_message_then_what_is_it_exactly_gets_the_petition_in_short(
    chat: Callable[..., Chat],
) -> None:
    seen = await chat(id="fw1").say(
        "Bonjour, ma fille m'a transféré un message WhatsApp sur une pétition Microsoft, c'est quoi exactement ?"
    )
    assert "reconsidérer sa décision" in seen
    assert "texte de la pétition, paragraphes 1, 2 et 3 ; texte de la pétition, demandes 1, 2 et 3" in seen
    # A passage named before "ça parle de quoi ?" is what is asked about, not the whole petition.
    passage = await chat(id="fw2").say(
        "je cherche le passage où ils disent que les dés étaient pipés, ça parle de quoi ?"
    )
    assert "dénonce l'hébergement" not in passage
    english = await chat(id="fw3").say("Sorry I don't speak French, what is this petition about?")
    assert "I will speak English" in english and "asks it to reconsider its decision" in english


async def test_asking_what_signing_costs_is_told_it_costs_nothing(chat: Callable[..., Chat]) -> None:
    assert "jamais d'argent" in await chat(id="cost1").say("et ça coûte combien de signer ?")
    assert "La pétition ne dit pas combien coûte" in await chat(id="cost2").say(
        "combien coûte l'hébergement chez microsoft"
    )


async def test_the_events_of_a_year_come_in_one_message_with_one_source(chat: Callable[..., Chat]) -> None:
    me = chat(id="year")
    seen = await me.say("il s'est passé quoi en 2020 ?")
    assert "Olivier Véran" in seen and "Conseil d'État" in seen
    assert seen.count("Source") == 1


async def test_a_question_mark_alone_says_what_the_bot_does(chat: Callable[..., Chat]) -> None:
    assert "je présente la pétition" in await chat(id="qmark").say("?")


async def test_signing_here_after_signing_on_the_website_is_explained(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="twice").say(
        "Est-ce que signer ici c'est pareil que signer sur le site officiel de la pétition ?"
    )
    assert "deuxième fois" in seen


async def test_explain_like_im_five_says_nothing_about_the_topic(chat: Callable[..., Chat], bot: Bot) -> None:
    assert says(bot, "decline_out_of_scope", "en") in await chat(id="eli5").say("explain bitcoin to me like im 5")
    assert "truqué" in await chat(id="dice").say("les dés étaient pipés ab initio, ça veut dire quoi ?")


async def test_count_questions_in_everyday_words_and_an_insult(chat: Callable[..., Chat], bot: Bot) -> None:
    assert "Prochain objectif" in await chat(id="cnt1").say("on en est à combien ?")
    assert "Next goal" in await chat(id="cnt2").say("how many now?")
    assert says(bot, "decline_out_of_scope") in await chat(id="rude").say("t'es nul ton bot de merde")
    reporter = await chat(id="rep").say("Hi, I'm a reporter at a UK outlet. What exactly does this petition demand?")
    assert "reconsider" in reporter and "contests" in reporter


async def test_an_insult_before_a_question_leaves_the_question_answered(chat: Callable[..., Chat], bot: Bot) -> None:
    assert "Microsoft" in await chat(id="ins1").say("t'es nul, qui héberge les données ?")
    assert "hosted on the servers" in await chat(id="ins2").say("shut up and tell me who hosts the data")
    assert says(bot, "decline_out_of_scope", "en") in await chat(id="ins3").say("shut up")


async def test_a_rumour_of_a_conviction_is_answered_with_what_the_cnil_did(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="conv1").say("donc Microsoft a été condamné ?")
    assert "ne dit pas que Microsoft a été condamné" in seen and "CNIL a validé" in seen
    assert "not say Microsoft was convicted" in await chat(id="conv2").say("is it true Microsoft was convicted?")


async def test_an_apology_for_ones_french_is_not_a_question_about_french_hosts(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="apo").say("tu parles anglais ? my french is not good")
    assert "I will speak English with you" in seen and "OVHcloud" not in seen


async def test_questions_about_the_bot_itself_and_changing_ones_name(chat: Callable[..., Chat]) -> None:
    hosted = await chat(id="bh1", language="en").say("who made you? where are you hosted? is your code open?")
    assert "its own small server" in hosted and "/privacy" in hosted
    renamed = await chat(id="cn1").say("je me suis trompé de nom en signant, je peux le changer ?")
    assert "/retirer" in renamed and "/signer" in renamed
    assert "Prochain objectif" in await chat(id="goal").say("c'est quoi le prochain objectif ?")
    assert "vous ne recevez pas" not in await chat(id="tired").say("finalement j'en ai marre des notifs, stop")


async def test_a_thanks_then_another_request_is_declined_not_thanked(chat: Callable[..., Chat], bot: Bot) -> None:
    for i, typed in enumerate(("ok merci et sinon tu connais un bon dentiste a lyon", "whats the best vpn right now")):
        lang = "en" if "vpn" in typed else "fr"
        assert says(bot, "decline_out_of_scope", lang) in await chat(id=f"rec{i}").say(typed), typed
    shouted = await chat(id="caps").say("BONJOUR ON M A ENVOYE CE MESSAGE, C EST QUOI CETTE HISTOIRE DE MICROSOFT ?")
    assert "dénonce l'hébergement" in shouted


async def test_the_bots_own_pseudonym_and_an_apology_before_a_question(chat: Callable[..., Chat]) -> None:
    hashed = await chat(id="ps1").say("c est quoi ce pseudonyme calculé avec une clé secrète, c est du hash ?")
    assert "HMAC-SHA256" in hashed
    polite = await chat(id="ps2").say("Hello, sorry my english is not so good. What is EMC2?")
    assert "European platform" in polite


async def test_why_alone_asks_for_the_whole_question(chat: Callable[..., Chat]) -> None:
    assert "posez la question en entier" in await chat(id="why1").say("pourquoi ?")
    assert "please ask the whole question" in await chat(id="why2", language="en").say("why?")
    short = await chat(id="why3").say("Hello, I'm a journalist. What is this petition about, in two sentences?")
    assert "denounces the hosting" in short


async def test_a_court_mixed_up_with_the_conseil_detat_and_the_author_asked_plainly(chat: Callable[..., Chat]) -> None:
    assert "Conseil d'État" in await chat(id="ce1").say("Et le Conseil d'État c'est un tribunal ?")
    assert "Did you mean" not in await chat(id="au1", language="en").say("Who is the author?")


async def test_the_private_life_of_people_the_petition_names_is_declined(chat: Callable[..., Chat], bot: Bot) -> None:
    for i, (typed, lang) in enumerate((("is veran dating anyone", "en"), ("stéphanie combes elle a quel age", "fr"))):
        assert says(bot, "decline_out_of_scope", lang) in await chat(id=f"priv{i}").say(typed), typed
    assert "Stéphanie Combes" in await chat(id="priv-control").say("c'est qui stéphanie combes ?")


async def test_manners_of_speaking_do_not_hide_the_question(chat: Callable[..., Chat]) -> None:
    assert "plateforme" in await chat(id="gros").say("slt c koi le health data hub en gros")
    convinced = await chat(id="conv").say("ok jsuis convaincu, on signe comment")
    assert "Signer" in convinced
    plain = await chat(id="plain", language="en").say("what's the actual problem here in simple words?")
    assert "extraterritorial" in plain


async def test_a_quote_to_explain_in_english_switches_and_offers_the_closest_entries(chat: Callable[..., Chat]) -> None:
    seen = await chat(id="quote-en").say(
        '"C\'est bel et bien Microsoft, société américaine soumise aux lois extraterritoriales américaines"'
        " can someone explain what this means in english"
    )
    assert "I will speak English with you" in seen and "extraterritorial laws" in seen
    assert "Which command" not in seen
    switched = await chat(id="how-en").say("comment je fais pour passer le bot en anglais")
    assert "I will speak English with you" in switched and "Is your question like" not in switched


async def test_counts_asked_plainly_or_by_their_number(chat: Callable[..., Chat]) -> None:
    assert "signatures in all" in await chat(id="cnt1", language="en").say("what's the count?")
    assert "signatures au total" in await chat(id="cnt2").say("tu as dit 18 883 mais c'est combien maintenant ?")
    assert "Pétition publiée : 18\u202f882" in await chat(id="cnt3").say("18882 c quoi")


async def test_an_apology_or_who_is_asking_does_not_hide_the_question(chat: Callable[..., Chat]) -> None:
    to_whom = await chat(id="apo2").say("Sorry my French is bad. Who is the petition addressed to?")
    assert "Is your question like" not in to_whom and "CNIL" in to_whom
    when = await chat(id="jour").say("Bonjour, je suis journaliste. When did the CNIL publish its decision?")
    assert "31 January 2024" in when


async def test_a_follow_up_alone_asks_for_the_whole_question(chat: Callable[..., Chat]) -> None:
    for n, typed in enumerate(("quand ?", "et alors ?", "qui ?")):
        assert "posez la question en entier" in await chat(id=f"fu{n}").say(typed), typed
    assert "please ask the whole question" in await chat(id="fu-en").say("who?")
    assert "Combes" in await chat(id="fu-ctl").say("qui a promis une migration ?")


async def test_a_buttons_emoji_or_the_pasted_title_do_what_they_show(chat: Callable[..., Chat]) -> None:
    assert "Sous quel nom voulez-vous signer" in await chat(id="em1").say("✍️")
    assert "signatures au total" in await chat(id="em2").say("🔢")
    title = await chat(id="title").say("SORTONS NOS DONNÉES DE SANTÉ DE CHEZ MICROSOFT !")
    assert "dénonce l'hébergement" in title


async def test_ones_own_health_card_or_facebook_data_is_declined(chat: Callable[..., Chat], bot: Bot) -> None:
    lost = await chat(id="vitale").say("jai perdu ma carte vitale comment on en commande une autre")
    assert says(bot, "decline_out_of_scope", "fr") in lost and "/compteur —" not in lost
    facebook = await chat(id="fb").say("how do i download all my facebook data")
    assert says(bot, "decline_out_of_scope", "en") in facebook
    assert "/mydata" in await chat(id="dl").say("can i download my data")


async def test_a_short_summary_for_a_class_or_a_tweet_is_the_petition_in_short(chat: Callable[..., Chat]) -> None:
    tweet = await chat(id="sum1", language="en").say("give me a one-line summary I can tweet")
    assert "denounces the hosting" in tweet
    assert "posez la question en entier" in await chat(id="sum2").say("c'est dans le texte ?")
    assert "please ask the whole question" in await chat(id="sum3").say("prove it")


async def test_questions_are_not_kept_and_who_made_the_bot(chat: Callable[..., Chat]) -> None:
    kept = await chat(id="kept1", language="en").say("what data do you keep about me if I just ask questions?")
    assert "Your questions are not recorded" in kept
    assert "its own small server" not in await chat(id="made0").say("qui a lancé la pétition ?")
    assert "propre petit serveur" in await chat(id="made1").say("qui t'a créé ?")
    assert "its own small server" in await chat(id="made2", language="en").say("who created you?")


async def test_another_language_asked_for_shows_the_languages_there_are(chat: Callable[..., Chat], bot: Bot) -> None:
    assert "Choose your language" in await chat(id="de1", language="en").say("Can you answer in German?")
    translate = await chat(id="de2").say("traduis moi cette lettre en espagnol stp")
    assert says(bot, "decline_out_of_scope", "fr") in translate
    assert "Sous quel nom" in await chat(id="envie").say("g envie de signer c possible ici direct")


async def test_who_chose_microsoft_and_who_was_consulted_are_answered_directly(chat: Callable[..., Chat]) -> None:
    chose = await chat(id="chose").say("qui a choisi microsoft en 2019 alors ?")
    assert "gouvernement" in chose and "Vouliez-vous dire" not in chose
    consulted = await chat(id="consulted", language="en").say("Which French cloud providers were consulted?")
    assert "OVHcloud" in consulted and "Did you mean" not in consulted
    promised = await chat(id="promised").say("Qui a promis la migration vers un hébergeur français ?")
    assert "Véran" in promised


async def test_follow_ups_about_what_was_said_ask_for_the_whole_question(chat: Callable[..., Chat]) -> None:
    for n, typed in enumerate(("Qui a dit ça ?", "depuis quand ?", "Et pourquoi ils ont fait ça ?")):
        assert "posez la question en entier" in await chat(id=f"said{n}").say(typed), typed
    for n, typed in enumerate(("who said that?", "since when?")):
        assert "please ask the whole question" in await chat(id=f"said-en{n}").say(typed), typed


async def test_a_follow_up_leans_on_the_answer_just_given(chat: Callable[..., Chat]) -> None:
    """A retiree asks when the CNIL decided, then follows up the way people do, without repeating the subject."""
    person = chat(id="follow")
    assert "21 décembre" in await person.say("c'est quand la décision de la cnil ?")
    assert "trois ans" in await person.say("et pour combien de temps ?")
    source = await person.say("qui a dit ça ?")
    assert "Ma réponse précédente vient de" in source and "chronologie" in source
    assert "garanties" in await person.say("et le conseil d'état ?")
    said = await person.say("il a dit quoi ?")  # no subject of its own: the entries next to the answer
    assert "À propos de ma réponse précédente" in said and "Je ne sais pas répondre" not in said
    assert "Je ne sais pas répondre" in await person.say("et le psg ?")  # a subject of its own, out of scope
    english = await person.say("et en anglais ?")
    assert "I will speak English" in english and "guarantees" in english
    nearby = await person.say("and then?")
    assert "About my previous answer" in nearby and "Did you mean" not in nearby
    journalist = chat(id="follow-en", language="en")
    assert "21 December" in await journalist.say("what did the CNIL decide exactly?")
    assert "three years" in await journalist.say("how long?")  # not the deadline to sign
    assert "guarantees" in await journalist.say("and the Conseil d'État?")
    reader = chat(id="follow-text", language="en")
    await reader.say("/petition")
    assert "About my previous answer" in await reader.say("and then?")  # what is next to the text
    # Someone else, who was told nothing yet, is asked for the whole question.
    assert "please ask the whole question" in await chat(id="follow-new", language="en").say("and then?")


async def test_the_bot_asked_about_itself_and_ones_own_accounts_elsewhere(chat: Callable[..., Chat], bot: Bot) -> None:
    assert "propre petit serveur" in await chat(id="toi1").say("t'es hébergé où toi ?")
    assert "propre petit serveur" in await chat(id="toi2").say("tu es chez Microsoft toi aussi ?")
    assert "signature pseudonyme" in await chat(id="moi1").say("vous avez quoi comme infos sur moi")
    account = await chat(id="acct", language="en").say("how do i delete my microsoft account completely")
    assert says(bot, "decline_out_of_scope", "en") in account
    rude = await chat(id="rude").say("t'es vraiment nul comme bot, va te faire voir")
    assert says(bot, "decline_out_of_scope", "fr") in rude and "/mesdonnees" not in rude


async def test_how_long_the_bot_keeps_data_is_not_how_long_microsoft_does(chat: Callable[..., Chat]) -> None:
    mine = await chat(id="keep-en", language="en").say("how long do you keep my data?")
    assert "pseudonymous signature" in mine and "three years" not in mine
    assert "three years" in await chat(id="keep-ms", language="en").say("How long will Microsoft keep the data?")
    mes = await chat(id="keep-fr").say("vous gardez mes données combien de temps ?")
    assert "signature pseudonyme" in mes and "trois ans" not in mes
    assert "trois ans" in await chat(id="keep-ms-fr").say("Microsoft va garder nos données combien de temps ?")


async def test_goodbyes_with_thanks_and_a_journalists_short_questions(chat: Callable[..., Chat]) -> None:
    assert "Au revoir" in await chat(id="bye1").say("merci beaucoup, au revoir")
    assert "Goodbye" in await chat(id="bye2", language="en").say("whatever, bye")
    launched = await chat(id="launch", language="en").say("Who launched this petition?")
    assert "does not say who wrote it" in launched and "Did you mean" not in launched
    assert "European platform" in await chat(id="emc2", language="en").say("what does EMC2 stand for?")
    rumour = "A French court has convicted Microsoft for selling our health data to the NSA. Is that true?"
    assert "does not say Microsoft was convicted" in await chat(id="nsa", language="en").say(rumour)


async def test_a_question_dictated_without_a_question_mark_after_hello_is_answered(chat: Callable[..., Chat]) -> None:
    typed = "bonjour qu'est ce qu'elle demande cette pétition exactement je n'ai pas bien compris merci"
    reply = await chat(id="dictated").say(typed)
    assert "Posez-moi une question" not in reply and "Vous voulez dire" in reply


async def test_did_it_work_and_what_is_left_asked_in_everyday_words(chat: Callable[..., Chat]) -> None:
    """A retiree signs, asks "c'est bon ?", then erases everything and asks what is left."""
    me = chat(id="cbon")
    await me.say("je veux signer")
    await me.say("Monique")
    assert "signature est enregistrée" in await me.say("oui")
    assert "nom « Monique »" in await me.say("c'est bon ?")
    await me.say("/forget")
    await me.say("yes")
    assert "I keep nothing about you" in await me.say("and what do you still have on me?")
    assert "All right" in await me.say("nan laisse c bon")  # still in English, the language last written


async def test_is_it_serious_gets_why_it_is_a_problem_unless_it_is_about_something_else(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    assert "Le problème, selon la pétition" in await chat(id="grave1").say("c'est sérieux ?")
    assert "The problem, according to the petition" in await chat(id="grave2").say("should I be worried?")
    doctor = await chat(id="grave3").say("Mon médecin utilise Windows, c'est grave ?")
    assert not doctor.startswith("Le problème")  # about the doctor: at most the closest entries, offered
    fever = await chat(id="fever").say("my son has a fever what should I do")
    assert says(bot, "decline_out_of_scope", "en") in fever


async def test_what_can_i_do_and_not_understanding_get_the_bots_offer(chat: Callable[..., Chat]) -> None:
    for n, typed in enumerate(("ok and what can I do?", "hello, i am not understand well, what is this?")):
        reply = await chat(id=f"can{n}").say(typed)
        assert "I am a bot" in reply and "/sign" in reply, typed
    assert "programme automatique" in await chat(id="can-fr").say("c'est tout ce que tu sais faire ?")


async def test_privacy_worries_about_microsoft_and_encryption_are_answered(chat: Callable[..., Chat]) -> None:
    shared = await chat(id="ms1").say("Vous partagez mes données avec Microsoft ?")
    assert "propre petit serveur" in shared and "Partagez ce bot" not in shared
    assert "its own small server" in await chat(id="ms2", language="en").say("can Microsoft see my signature?")
    encrypted = await chat(id="enc", language="en").say("is it encrypted")
    assert "secret key" in encrypted and "does not say" in encrypted
    anonymised = await chat(id="anon").say("Les données sont-elles anonymisées ?")
    assert "ne dit pas" in anonymised and "clé secrète" in anonymised


async def test_several_questions_all_about_the_bot_get_its_answer(chat: Callable[..., Chat]) -> None:
    reply = await chat(id="bot3", language="en").say("who made you? where are you hosted? is your code open?")
    assert reply.startswith("This bot is meant to be installed")


async def test_the_year_of_the_cnil_decision_and_the_two_institutions(chat: Callable[..., Chat]) -> None:
    year = await chat(id="year", language="en").say("the decision of 21 December, which year?")
    assert "2023" in year
    both = await chat(id="ce").say("le Conseil d'État et la CNIL c'est pareil ?")
    assert both.startswith("Ce sont deux institutions différentes")


async def test_how_long_data_is_kept_and_who_sees_a_signature(chat: Callable[..., Chat]) -> None:
    kept = await chat(id="keep1").say("et vous les gardez jusqua quand")
    assert "après la fin de la campagne" in kept and "date exacte avec /confidentialite" in kept
    ended = await chat(id="keep2").say("what happens to my data when the petition ends?")
    assert "erased shortly after the end of the campaign" in ended
    assert "publishes no names" in await chat(id="see").say("who can see my signature if I sign?")
    assert "/mesdonnees" in await chat(id="copy").say("tu peux m envoyer une copie de mes donnees")


async def test_asking_for_help_for_oneself_is_not_asking_how_to_help(chat: Callable[..., Chat], bot: Bot) -> None:
    rice = await chat(id="rice").say("Hello, could you help me, how do I cook rice")
    assert says(bot, "decline_out_of_scope", "en") in rice
    assert "programme automatique" in await chat(id="helpme").say("pouvez-vous m'aider ?")
    assert "Partagez ce bot" in await chat(id="helpus").say("comment je peux aider ?")


async def test_who_pays_the_bot_and_will_you_sell_my_data(chat: Callable[..., Chat]) -> None:
    assert "/confidentialite" in await chat(id="pay").say("qui te paie ?")
    sold = await chat(id="sell", language="en").say("How do I know you won't sell my data?")
    assert "nothing is sold" in sold


async def test_a_follow_up_about_the_answer_just_given_is_answered_there(chat: Callable[..., Chat]) -> None:
    """ "and for how long?" after what the bot keeps asks how long the bot keeps it, not the CNIL's three years."""
    person = chat(id="follow-data", language="en")
    assert "pseudonymous signature" in await person.say("what data do you keep?")
    kept = await person.say("and for how long?")  # the answer just given says it: pointed to, not sent twice
    assert "My answer just above covers that" in kept and "three years" not in kept
    assert "Ma réponse juste au-dessus" in await chat(id="again").say("pk microsoft") + await chat(id="again").say(
        "c grave ?"
    )
    sharer = chat(id="follow-share")
    assert "Partagez ce bot" in await sharer.say("comment je partage à mes amis ?")
    assert "Partagez ce bot" in await sharer.say("et sur facebook ?")


async def test_a_pasted_paragraph_is_offered_by_its_words_and_a_follow_up_leans_on_the_first_choice(
    chat: Callable[..., Chat],
) -> None:
    pasted = await chat(id="para-label").say(
        "« Aucun prestataire potentiel » parmi les opérateurs de cloud français ou européens ne propose d'offre "
        "répondant aux exigences, ose expliquer la CNIL. c vrai ?"
    )
    assert "Paragraphe 4 : « " in pasted and "texte de la pétition, paragraphe" not in pasted  # its first words
    person = chat(id="dym-follow", language="en")
    first = await person.say("the cloud thing?")
    assert "Did you mean" in first or "not sure" in first
    assert "which answer your question follows" not in await person.say("when?")


async def test_a_command_word_with_a_please_runs_it(chat: Callable[..., Chat]) -> None:
    assert "signatures in all" in await chat(id="pls", language="en").say("count pls")
    assert "signatures au total" in await chat(id="stp").say("compteur stp")


async def test_everyday_openings_and_goodbyes(chat: Callable[..., Chat]) -> None:
    assert "The government, then the CNIL" in await chat(id="chose").say("who chose microsoft?")
    assert "Au revoir" in await chat(id="soir").say("Merci beaucoup, bonne soirée")
    assert "dénonce l'hébergement" in await chat(id="pour").say("Bonjour, c'est pour la pétition Microsoft")
    rdv = await chat(id="rdv").say("bonjour, vous pouvez m'aider à prendre un rdv chez le médecin ?")
    assert "je ne réponds qu'aux questions sur la pétition" in rdv
    assert "rien à retirer" in await chat(id="plus").say("yo jai signé hier mais jveux plus")


async def test_a_forwarded_message_opening_gets_the_summary(chat: Callable[..., Chat]) -> None:
    assert "dénonce l'hébergement" in await chat(id="recu").say("on m a envoyé ca")
    assert "denounces the hosting" in await chat(id="this", language="en").say("what's this")
