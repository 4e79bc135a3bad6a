"""Free-text questions: the supporter gets the right passage, with its source, or an honest "I don't know"."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.answers import AnswerIndex
from bot.content import Content, load_content
from tests.conftest import Chat

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
    assert "Source : texte de la pétition, paragraphe 1" in seen
    assert "chronologie de la pétition, « 2019 »" in seen


async def test_an_english_question_is_answered_in_english(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("when did the CNIL decide?")
    assert "published on 31 January 2024" in seen
    assert "Source: petition text, paragraph 2" in seen
    assert "Selon" not in seen


async def test_a_question_with_typos_is_understood(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("qui hebrege les donées de santé ?")
    assert "Microsoft" in seen and "Source :" in seen


async def test_an_out_of_scope_question_gets_i_dont_know_and_the_commands(chat: Callable[..., Chat]) -> None:
    seen = await chat().say("Quel temps fera-t-il demain à Lyon ?")
    assert "Je ne sais pas répondre" in seen
    assert "/aide" in seen and "/faq" in seen
    assert "Source" not in seen


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
