"""The one matching function: how a typed reply picks a choice, and how a question is told from an answer."""

from pathlib import Path

import pytest

from bot.choices import NO, YES, looks_like_question, match_choice, normalize
from bot.content import load_content
from bot.events import Choice

WORDS = load_content(Path(__file__).resolve().parent.parent / "content" / "sante-microsoft").replies
CONFIRM = (Choice("✅ Je signe", "d:n:yes", YES), Choice("Annuler", "d:n:cancel", NO))
NEWS = (Choice("Oui, tenez-moi au courant", "d:n:on", YES), Choice("Non merci", "d:n:off", NO))
NAMES = (
    Choice("Mon nom : Jeanne Dupont", "d:n:display"),
    Choice("Anonyme (initiales : J. D.)", "d:n:anonymous"),
    Choice("Un autre nom", "d:n:other"),
    Choice("Annuler", "d:n:cancel"),
)
MENU = tuple(
    Choice(label, f"cmd:{i}")
    for i, label in enumerate(["📜 La pétition", "🗓 Chronologie", "❓ Questions fréquentes", "🔢 Compteur", "ℹ️ Aide"])
)


def pressed(typed: str, choices: tuple[Choice, ...], numbers: bool = False) -> str | None:
    found = match_choice(typed, choices, WORDS, numbers=numbers)
    return None if found is None else found.payload


def test_labels_without_emoji_case_accents_or_punctuation() -> None:
    assert normalize("✅ Je signe !") == "je signe" and normalize("ℹ️ Aide") == "aide"
    assert pressed("je signe", CONFIRM) == "d:n:yes"
    assert pressed("JE SIGNE.", CONFIRM) == "d:n:yes"
    assert pressed("la petition", MENU) == "cmd:0"
    assert pressed("Compteur", MENU) == "cmd:3"
    assert pressed("aide", MENU) == "cmd:4"


@pytest.mark.parametrize("typed", ["oui", "Ouais", "ok", "OK !", "d'accord", "yes", "yep", "sure", "oui merci"])
def test_the_usual_words_for_yes(typed: str) -> None:
    assert pressed(typed, NEWS) == "d:n:on"
    assert pressed(typed, CONFIRM) == "d:n:yes"


@pytest.mark.parametrize("typed", ["non", "nan", "no", "nope", "non merci", "Non, pas maintenant", "no thanks"])
def test_the_usual_words_for_no(typed: str) -> None:
    assert pressed(typed, NEWS) == "d:n:off"


@pytest.mark.parametrize("typed", ["ok ?", "oui et non", "ok non merci", "oui mais c'est quoi le HDH", "peut-être"])
def test_doubt_is_not_an_answer(typed: str) -> None:
    assert pressed(typed, NEWS) is None


def test_yes_and_no_words_only_answer_a_yes_no_question() -> None:
    assert pressed("oui", NAMES) is None
    assert pressed("non", MENU) is None


def test_an_unambiguous_beginning_in_whole_words() -> None:
    assert pressed("mon nom", NAMES) == "d:n:display"
    assert pressed("anonyme", NAMES) == "d:n:anonymous"
    assert pressed("questions", MENU) == "cmd:2"
    assert pressed("un", NAMES) is None  # too short to stand for a label
    assert pressed("Ann", NAMES) is None  # not a whole word: a name, not "Annuler"
    assert pressed("Jeanne", NAMES) is None


def test_a_typo_or_two() -> None:
    assert pressed("anuler", NAMES) == "d:n:cancel"
    assert pressed("anonymus", NAMES) == "d:n:anonymous"
    assert pressed("chronolgie", MENU) == "cmd:1"
    assert pressed("Anne", NAMES) is None and pressed("Annie", NAMES) is None


def test_numbers_only_where_numbers_are_shown() -> None:
    assert pressed("2", NAMES, numbers=True) == "d:n:anonymous"
    assert pressed("[2]", NAMES, numbers=True) == "d:n:anonymous"
    assert pressed("2.", NAMES, numbers=True) == "d:n:anonymous"
    assert pressed("5", NAMES, numbers=True) is None
    assert pressed("2", NAMES) is None  # Telegram shows buttons, not numbers


def test_a_command_is_never_an_answer() -> None:
    assert pressed("/annuler", NAMES) is None
    assert pressed("!aide", MENU, numbers=True) is None


@pytest.mark.parametrize(
    "text",
    [
        "c'est quoi le HDH ?",
        "c est quoi le hdh",
        "pourquoi Microsoft",
        "Qui a choisi Microsoft",
        "why microsoft",
        "ok ?",
    ],
)
def test_questions(text: str) -> None:
    assert looks_like_question(text, WORDS)


@pytest.mark.parametrize("text", ["Jeanne Dupont", "Quentin", "Quand", "Ki Hong Lee", "oui", "Can Yilmaz"])
def test_names_and_answers_are_not_questions(text: str) -> None:
    assert not looks_like_question(text, WORDS)
