"""An answer as shown: a petition passage or FAQ entry, its sources, and "see also" choices.

Shared by the question handler and the follow-ups; a pressed "see also", "did you mean" or FAQ choice
(`ENTRY`) is answered here too.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.content import LANGUAGES
from bot.context import Context
from bot.events import Choice
from bot.markup import Rich, join, parse, plain
from bot.router import ChoiceRoute
from handlers.info import COMMAND, main_menu

LABEL_LIMIT = 60  # characters of a choice label ("see also", "did you mean")
PARAGRAPH_LABEL_WORDS = 5  # a paragraph's first words on its choice label


def title_of(ctx: Context, passage_id: str, lang: str) -> str:
    """A short label for a passage, used on "see also" and "did you mean" choices."""
    content = ctx.services.content
    entry = content.faq_entry(passage_id)
    if entry is not None:
        return entry.question[lang]
    p = content.petition
    for c in p.chronology:
        if c.id == passage_id:
            return f"{c.date[lang]} : {c.text[lang]}"
    for d in p.demands:
        if d.id == passage_id:
            return d.short[lang]
    for i, paragraph in enumerate(p.paragraphs, start=1):
        if paragraph.id == passage_id:
            # Its first words, not only its number: "Paragraphe 4 : « Aucun prestataire potentiel… »".
            start = " ".join(parse(paragraph.text).plain.split()[:PARAGRAPH_LABEL_WORDS]).rstrip(" ,;:.")
            return ctx.services.template(lang, "paragraph_label", number=i, start=start).plain
    return passage_id


def clip(text: str, limit: int = LABEL_LIMIT) -> str:
    """`text` cut at a word boundary to fit `limit` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def source_of(ctx: Context, passage_id: str, lang: str) -> Rich:
    """Where an answer comes from: a paragraph, a demand, a dated entry of the chronology, or the bot."""
    s = ctx.services
    p = s.content.petition
    if passage_id == "bot":
        return s.template(lang, "source_bot")
    if passage_id == "count":
        return s.template(lang, "source_count")
    for i, paragraph in enumerate(p.paragraphs, start=1):
        if paragraph.id == passage_id:
            return s.template(lang, "source_paragraph", number=i)
    for d in p.demands:
        if d.id == passage_id:
            return s.template(lang, "source_demand", number=d.number)
    for c in p.chronology:
        if c.id == passage_id:
            return s.template(lang, "source_chronology", date=c.date[lang])
    return plain(passage_id)


def passage_text(ctx: Context, passage_id: str, lang: str) -> Rich:
    """The body of an answer: a FAQ answer, or the passage itself quoted from the petition."""
    content = ctx.services.content
    entry = content.faq_entry(passage_id)
    if entry is not None:
        return parse(entry.answer[lang])
    for c in content.petition.chronology:
        if c.id == passage_id:
            return ctx.services.template(lang, "timeline_entry", date=c.date[lang], text=c.text[lang])
    for d in content.petition.demands:
        if d.id == passage_id:
            return parse(f"{d.number}/ {d.text}")
    text = content.petition.passage(passage_id)
    return parse(text) if text else plain(passage_id)


def sources_line(ctx: Context, passage_id: str, lang: str) -> Rich:
    """ "Source : …", each source named once (two chronology entries may share a date)."""
    return ctx.services.template(lang, "answer_source", source=sources_of(ctx, passage_id, lang))


def sources_of(ctx: Context, passage_id: str, lang: str) -> Rich:
    """The sources of an answer, each named once: "texte de la pétition, paragraphes 1 et 3 ; …"."""
    entry = ctx.services.content.faq_entry(passage_id)
    sources = entry.sources if entry is not None else (passage_id,)
    petition = ctx.services.content.petition
    # Several paragraphs or demands are named together: "paragraphes 1, 2 et 3", not three sources.
    groups = {
        "source_paragraphs": {x.id: i for i, x in enumerate(petition.paragraphs, start=1) if x.id in sources},
        "source_demands": {d.id: d.number for d in petition.demands if d.id in sources},
    }
    group_of = {source: key for key, members in groups.items() if len(members) > 1 for source in members}
    names: list[Rich] = []
    for source in sources:
        key = group_of.get(source)
        name = _numbers(ctx, key, list(groups[key].values()), lang) if key else source_of(ctx, source, lang)
        if all(name.plain != n.plain for n in names):
            names.append(name)
    separator = ctx.services.template(lang, "answer_sources_separator").plain
    return join(names, separator)


def _numbers(ctx: Context, key: str, numbers: list[int], lang: str) -> Rich:
    """ "texte de la pétition, paragraphes 1, 2 et 3"."""
    last = ctx.services.template(lang, "source_numbers_last").plain
    listed = ", ".join(str(n) for n in numbers[:-1]) + last + str(numbers[-1])
    return ctx.services.template(lang, key, numbers=listed)


def command_choice(ctx: Context, name: str) -> Choice:
    """The main-menu choice that runs command `name`; for another command, its one-line description
    (in the user's language: "Withdraw my signature", never "/retirer" under an English answer)."""
    command = next((c for c in ctx.services.commands if name in c.names), None)
    if command is not None and command.menu_key is not None:
        label = ctx.label(command.menu_key)
    else:
        label = f"/{command.name_in(ctx.lang) if command is not None else name}"
    fallback = COMMAND.choice(label, name)
    return next((c for c in main_menu(ctx) if c.payload == fallback.payload), fallback)


async def run_command(ctx: Context, name: str, args: str = "") -> bool:
    command = next((c for c in ctx.services.commands if name in c.names and not c.admin), None)
    if command is None:
        return False
    ctx.args = args
    await command.handler(ctx)
    return True


def merge(first: list[Choice], then: list[Choice]) -> list[Choice]:
    """`first`, then the choices of `then` that run something else."""
    return first + [c for c in then if all(c.payload != f.payload for f in first)]


async def answer_passage(
    ctx: Context,
    passage_id: str,
    lang: str,
    related: tuple[str, ...] = (),
    offers: list[Choice] | None = None,
    point_up: bool = False,
) -> None:
    """Send one answer with its source and "see also" choices, or run the command the entry stands for;
    `point_up`: a short follow-up ("c grave ?"), which the answer just given may already answer."""
    entry = ctx.services.content.faq_entry(passage_id)
    ctx.lang = lang  # a command run for an English question answers in English
    ctx.answered = (passage_id, *related)
    if entry is not None and entry.command is not None and await run_command(ctx, entry.command):
        return
    if point_up and ctx.previous_fresh and ctx.previous[:1] == (passage_id,):
        # A short follow-up that the answer just given answers ("c grave ?" after "pk microsoft"): said so,
        # with the entries around it, rather than the same text again. A whole question gets it again.
        ctx.answered = ctx.previous
        nearby = entries(ctx, related or ctx.previous[1:], lang)
        await ctx.say("answer_above", nearby or offers or [])
        return
    parts = [passage_text(ctx, passage_id, lang), sources_line(ctx, passage_id, lang)]
    # The choice carries the answer's language: a "see also" pressed after an English answer stays English.
    choices = entries(ctx, related, lang)
    if choices:
        parts.append(ctx.services.template(lang, "answer_related"))
    if entry is not None and entry.offer is not None and ctx.dialogue is None:
        # Not mid-dialogue: "pourquoi mon nom ?" typed while signing needs no Sign button.
        choices.insert(0, command_choice(ctx, entry.offer))
    await ctx.reply(join(parts), merge(offers or [], choices))


def entries(ctx: Context, ids: Iterable[str], lang: str) -> list[Choice]:
    """FAQ entries as choices ("see also", "did you mean", the closest ones), labelled in `lang`."""
    return [ENTRY.choice(clip(title_of(ctx, i, lang)), i, lang) for i in ids]


async def faq_pressed(ctx: Context) -> None:
    """A FAQ question, "see also" or "did you mean" choice was pressed ("faq:<id>" or "faq:<id>:<lang>")."""
    passage_id, _, lang = ctx.args.partition(":")
    if lang not in LANGUAGES:
        lang = ctx.lang
    if ctx.services.content.petition.passage(passage_id) is None and ctx.services.content.faq_entry(passage_id) is None:
        await ctx.say("faq_unknown")
        return
    await answer_passage(ctx, passage_id, lang)


ENTRY = ChoiceRoute("faq", faq_pressed)  # a FAQ entry or passage: "faq:<id>" or "faq:<id>:<lang>"
