"""Free-text questions, answered only from the campaign content, with the passage they come from."""

from __future__ import annotations

from bot.context import Context
from bot.events import Choice
from bot.markup import Rich, join, parse, plain
from bot.router import MAX_QUESTION_CHARS
from handlers.info import command_list


def _title(ctx: Context, passage_id: str, lang: str) -> str:
    """A short label for a passage, used on "see also" choices."""
    content = ctx.services.content
    entry = content.faq_entry(passage_id)
    if entry is not None:
        return entry.question[lang]
    p = content.petition
    for c in p.chronology:
        if c.id == passage_id:
            return f"{c.date} : {c.text_en if lang == 'en' else c.text}"
    for d in p.demands:
        if d.id == passage_id:
            return d.short_en if lang == "en" else d.short_fr
    for i, paragraph in enumerate(p.paragraphs, start=1):
        if paragraph.id == passage_id:
            return ctx.services.template(lang, "source_paragraph", number=i).plain
    return passage_id


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
            return s.template(lang, "source_chronology", date=c.date)
    return plain(passage_id)


def passage_text(ctx: Context, passage_id: str, lang: str) -> Rich:
    """The body of an answer: a FAQ answer, or the passage itself quoted from the petition."""
    content = ctx.services.content
    entry = content.faq_entry(passage_id)
    if entry is not None:
        return parse(entry.answer[lang])
    for c in content.petition.chronology:
        if c.id == passage_id:
            return _dated(ctx, c.date, c.text_en if lang == "en" else c.text, lang)
    for d in content.petition.demands:
        if d.id == passage_id:
            return parse(f"{d.number}/ {d.text}")
    text = content.petition.passage(passage_id)
    return parse(text) if text else plain(passage_id)


def _dated(ctx: Context, date: str, text: str, lang: str) -> Rich:
    return ctx.services.template(lang, "timeline_entry", date=date, text=text)


def sources_line(ctx: Context, passage_id: str, lang: str) -> Rich:
    entry = ctx.services.content.faq_entry(passage_id)
    sources = entry.sources if entry is not None else (passage_id,)
    names = join((source_of(ctx, s, lang) for s in sources), " ; " if lang == "fr" else "; ")
    return ctx.services.template(lang, "answer_source", source=names)


async def answer_passage(ctx: Context, passage_id: str, lang: str, related: tuple[str, ...] = ()) -> None:
    """Send one answer with its source and "see also" choices."""
    parts = [passage_text(ctx, passage_id, lang), sources_line(ctx, passage_id, lang)]
    # The choice carries the answer's language: a "see also" pressed after an English answer stays English.
    choices = [Choice(_clip(_title(ctx, r, lang)), f"faq:{r}:{lang}") for r in related]
    if choices:
        parts.append(ctx.services.template(lang, "answer_related"))
    await ctx.reply(join(parts), choices)


async def answer_question(ctx: Context) -> None:
    """Free text: the best passage for the question, or an honest "I don't know"."""
    question = ctx.args.strip()
    if not question:
        await ctx.say("empty_message")
        return
    if len(question) > MAX_QUESTION_CHARS:
        await ctx.say("question_too_long", length=len(question), limit=MAX_QUESTION_CHARS)
        return
    answer = ctx.services.answers.ask(question)
    if answer is None:
        await ctx.say("dont_know", commands=command_list(ctx))
        return
    # Answer in the language the question was asked in, when the match tells it.
    lang = answer.lang or ctx.lang
    await answer_passage(ctx, answer.id, lang, answer.related)


async def faq_pressed(ctx: Context) -> None:
    """A FAQ question or a "see also" choice was pressed ("faq:<id>" or "faq:<id>:<lang>")."""
    passage_id, _, lang = ctx.args.partition(":")
    if lang not in ("fr", "en"):
        lang = ctx.lang
    if ctx.services.content.petition.passage(passage_id) is None and ctx.services.content.faq_entry(passage_id) is None:
        await ctx.say("faq_unknown")
        return
    await answer_passage(ctx, passage_id, lang)
