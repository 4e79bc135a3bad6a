"""Follow-ups: a short message that leans on the answer just given ("et pour combien de temps ?",
"qui a dit ça ?", "et alors ?").

The last answer (`Context.previous`: its entry and "see also") is kept in memory only, per person, for a
while; without it, the whole question is asked for, as before.
"""

from __future__ import annotations

from bot.answers import CANDIDATES, Answer
from bot.choices import normalize
from bot.context import Context
from bot.lexicon import SmallTalkMatch
from handlers.passages import answer_passage, command_choice, entries, sources_of, title_of

MAX_FOLLOW_UP_WORDS = 3  # "et pour combien de temps ?": short enough to lean on the last answer


def leans_on_last_answer(ctx: Context, question: str, words: int, only_asking: bool) -> bool:
    """ "how long?", "et pour combien de temps ?": asking words only, or a follow-up's first word, after an answer."""
    if not ctx.previous or words > MAX_FOLLOW_UP_WORDS:
        return False
    said = normalize(question).split()
    return only_asking or (bool(said) and said[0] in ctx.services.content.replies.follow_up_starts)


def in_context(ctx: Context, question: str) -> tuple[Answer | None, tuple[str, ...]]:
    """A short question read with the last answer's question: the entry they ask for together ("et pour
    combien de temps ?" after the CNIL's decision); else None, with the entries the two point to, if any."""
    if not ctx.previous:
        return None, ()
    previous = ctx.previous[0]
    index = ctx.services.answers
    lang = index.language(question) or ctx.lang
    title = title_of(ctx, previous, lang)
    chosen = index.in_context(question, title, previous)
    if chosen is not None:
        return chosen, ()
    both = index.ask(f"{question} {title}", prefer=lang)
    pointed = (both.candidates or (both.id,)) if both is not None and not both.confident else ()
    return None, tuple(i for i in pointed if i != previous)


async def follow_up(ctx: Context, question: str, talk: SmallTalkMatch | None) -> bool:
    """ "qui a dit ça ?", "et alors ?", "why?" after an answer: its sources, the entry the two make sure
    together, or entries to choose from (those the two point to, else the answer's "see also")."""
    if not ctx.previous:
        return False
    index = ctx.services.answers
    previous, nearby = ctx.previous[0], ctx.previous[1:]
    ctx.lang = (talk.lang if talk is not None else None) or index.language(question) or ctx.lang
    ctx.answered = ctx.previous  # "source ?" then "et alors ?": still about the same answer
    if talk is not None and ctx.services.content.chat.talk(talk.id).follows == "sources":
        shown = [command_choice(ctx, "petition"), command_choice(ctx, "chronologie")]
        await ctx.say("followup_source", shown, source=sources_of(ctx, previous, ctx.lang))
        return True
    follow, pointed = in_context(ctx, question)
    if follow is not None:
        await answer_passage(ctx, follow.id, ctx.lang, follow.related, point_up=True)
        return True
    if not pointed and len(nearby) < CANDIDATES:  # a short "see also": entries next to it, or on its topic
        around = index.ask(title_of(ctx, previous, ctx.lang), prefer=ctx.lang)
        more = around.related if around is not None else ()
        entry = ctx.services.content.faq_entry(previous)
        same_topic = [e.id for e in ctx.services.content.faq if entry is not None and e.topic == entry.topic]
        nearby = tuple(dict.fromkeys(i for i in (*nearby, *more, *same_topic) if i != previous))[:CANDIDATES]
    if not (pointed or nearby):
        return False
    await ctx.say("followup_nearby", entries(ctx, pointed or nearby, ctx.lang))
    return True
