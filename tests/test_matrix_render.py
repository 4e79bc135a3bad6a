"""Matrix rendering: user text is escaped in one place, choices become a numbered list, answers find their choice."""

from __future__ import annotations

from bot.choices import NO, YES, is_yes_no, match_choice
from bot.events import Choice
from bot.markup import Rich, Span, plain, render_template
from bot.transports.matrix_render import (
    MESSAGE_LIMIT_BYTES,
    chunks,
    encoded_size,
    message_content,
    reaction_choice,
    replacement_content,
    strip_reply_fallback,
    to_html,
    to_plain,
    with_prefix,
)

YES_NO = (Choice("✅ Je signe", "d:n1:yes", YES), Choice("Annuler", "d:n1:cancel", NO))
NAMES = (Choice("Mon nom : Alice", "d:n1:display"), Choice("Anonyme (A.)", "d:n1:anonymous"))


def test_a_name_full_of_markup_arrives_as_those_characters() -> None:
    text = render_template("Vous signez sous le nom « **{name}** ».", name='<b>x</b> & <a href="javascript:y">')
    html = to_html(text)
    assert '<strong>&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href="javascript:y"&gt;</strong>' in html
    assert to_plain(text) == 'Vous signez sous le nom « <b>x</b> & <a href="javascript:y"> ».'


def test_links_and_line_breaks() -> None:
    text = Rich((Span("Voir "), Span("la pétition", link='https://example.org/?a=1&b="2"'), Span("\nmerci")))
    assert to_html(text) == 'Voir <a href="https://example.org/?a=1&amp;b=&quot;2&quot;">la pétition</a><br>\nmerci'
    assert to_plain(text) == 'Voir la pétition (https://example.org/?a=1&b="2")\nmerci'


def test_commands_are_shown_with_the_configured_prefix() -> None:
    text = Rich(
        (Span("Envoyez /signer ou /aide, pas /inconnue ni 24/7 : "), Span("/signer", link="https://x.org/signer"))
    )
    shown = with_prefix(text, "!", {"signer", "aide"})
    assert shown.plain == "Envoyez !signer ou !aide, pas /inconnue ni 24/7 : /signer"
    assert with_prefix(text, "/", {"signer"}) == text


def test_choices_are_a_numbered_list_with_a_hint() -> None:
    content = message_content(plain("Sous quel nom ?"), NAMES, plain("Répondez avec le numéro."))
    assert content["msgtype"] == "m.notice"
    assert content["body"] == "Sous quel nom ?\n\n1. Mon nom : Alice\n2. Anonyme (A.)\n\nRépondez avec le numéro."
    assert "<ol><li>Mon nom : Alice</li><li>Anonyme (A.)</li></ol>" in content["formatted_body"]


def test_a_number_or_a_label_answers_the_list() -> None:
    assert match_choice("2", NAMES, numbers=True) == NAMES[1]
    assert match_choice(" 1. ", NAMES, numbers=True) == NAMES[0]
    assert match_choice("anonyme (a.)", NAMES, numbers=True) == NAMES[1]
    assert match_choice("3", NAMES, numbers=True) is None
    assert match_choice("Qui héberge nos données ?", NAMES, numbers=True) is None


def test_reactions_answer_yes_no_questions_only() -> None:
    assert is_yes_no(YES_NO) and not is_yes_no(NAMES)
    assert reaction_choice("✅", YES_NO) == YES_NO[0]
    assert reaction_choice("❌", YES_NO) == YES_NO[1]
    assert reaction_choice("🎉", YES_NO) is None
    assert reaction_choice("✅", NAMES) is None
    news = (Choice("Oui, tenez-moi au courant", "d:n2:on", YES), Choice("Non merci", "d:n2:off", NO))
    assert reaction_choice("👍", news) == news[0] and reaction_choice("👎", news) == news[1]


def test_long_texts_are_split_under_the_event_size_limit() -> None:
    paragraph = "Une phrase de la pétition avec des caractères <à échapper> & des accents. " * 20
    text = plain("\n\n".join([paragraph] * 60))
    parts = chunks(text)
    assert len(parts) > 1
    assert all(encoded_size(part) <= MESSAGE_LIMIT_BYTES for part in parts)
    assert "".join(p.plain for p in parts).replace("\n", "").replace(" ", "") == text.plain.replace("\n", "").replace(
        " ", ""
    )


def test_an_edit_replaces_the_original_message() -> None:
    new = message_content(plain("C'est noté."))
    edit = replacement_content("$original", new)
    assert edit["m.new_content"] == new and edit["body"] == "* C'est noté."
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$original"}


def test_reply_fallbacks_are_removed() -> None:
    assert strip_reply_fallback("> <@bot:example.org> Une question ?\n\n2") == "2"
    assert strip_reply_fallback("2") == "2"
