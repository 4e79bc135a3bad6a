"""Free text: what a supporter types, answered from the campaign content only.

In order: a command word or menu label typed alone ("compteur", "la pétition")
runs that command; small talk ("bonjour", "merci", "tu sers à quoi ?") gets a
short friendly reply; anything else is a question for the answer index, in three
tiers: a confident match is answered with its source and "see also" choices, a
close call asks "Vous voulez dire : …" with the candidates as choices, and an
unknown question gets a short decline with the main actions. A FAQ entry may
stand for a command (`command`: "how many signed" runs /compteur, so the figures
are live) or end with an action (`offer`: "how do I sign" offers a Sign choice).
"""

from __future__ import annotations

import re

from bot.analysis import QUESTION_TOKENS
from bot.answers import Answer, AnswerIndex, last_sentence
from bot.choices import MAX_NAME_WORDS, YES, asks_something, name_like, normalize
from bot.content import LANGUAGES, SMALLTALK_PREFIX, Intent
from bot.context import Context
from bot.events import Choice
from bot.lexicon import SmallTalkMatch
from bot.markup import join
from bot.router import MAX_QUESTION_CHARS, ChoiceRoute
from handlers.follow_ups import follow_up, in_context, leans_on_last_answer
from handlers.info import COMMAND, main_menu
from handlers.passages import (
    ENTRY,
    answer_passage,
    command_choice,
    entries,
    merge,
    passage_text,
    run_command,
    sources_line,
)

# The few main actions offered after small talk or a decline, never the whole command list.
MAIN_ACTIONS = ("signer", "petition", "compteur", "faq")
MAX_COMMENT_WORDS = 5  # "merci, c'est super clair maintenant": thanks with a comment (topic words), not a question


def main_actions(ctx: Context) -> list[Choice]:
    if ctx.dialogue is not None:
        return []  # in the middle of a dialogue, its own question and choices come right after
    wanted = {COMMAND.choice("", name).payload: name for name in MAIN_ACTIONS}
    return [c for c in main_menu(ctx) if c.payload in wanted and ctx.services.commands_include(wanted[c.payload])]


def _typed_commands(ctx: Context) -> dict[str, tuple[str, str | None]]:
    """Folded command names and main-menu labels (without their emoji) -> (command, language)."""
    s = ctx.services
    surface = s.answers.analyzer.surface
    typed: dict[str, tuple[str, str | None]] = {}
    for command in s.commands:
        if command.admin or command.menu_key is None:
            continue
        for i, name in enumerate(command.names):
            lang = None if len(set(command.names)) == 1 else LANGUAGES[min(i, len(LANGUAGES) - 1)]
            typed.setdefault(surface(name), (command.names[0], lang))
    for lang in LANGUAGES:
        original = ctx.lang
        ctx.lang = lang
        menu = main_menu(ctx)
        ctx.lang = original
        for choice in menu:
            key = surface(choice.label)
            name = choice.payload.partition(":")[2]
            previous = typed.get(key)
            typed[key] = (name, None if previous is not None and previous[1] != lang else lang)
            symbol = _symbol(choice.label)
            if symbol:
                typed[symbol] = (name, None)  # "✍️" or "🔢" typed alone, as on the button
    return typed


def _symbol(label: str) -> str:
    """The emoji a label begins with ("✍️ Signer" → "✍"), without its variation selector; else ""."""
    first = label.split(maxsplit=1)[0] if label.strip() else ""
    return "" if any(ch.isalnum() for ch in first) else first.replace("\ufe0f", "")


async def _typed_command(ctx: Context, text: str) -> bool:
    """A message that is just a command word or a menu label ("compteur", "la pétition") runs it."""
    words = ctx.services.answers.analyzer.surface(text).split()
    while len(words) > 1 and words[0] in ("le", "la", "les", "the", "ma", "my"):
        words = words[1:]
    courtesies = ctx.services.content.replies.courtesies
    while len(words) > 1 and words[-1] in courtesies:
        words = words[:-1]  # "count pls", "compteur stp"
    found = _typed_commands(ctx).get(" ".join(words) if words else text.strip().replace("\ufe0f", ""))
    if found is None:
        return False
    name, lang = found
    if lang is not None:
        ctx.lang = lang
    return await run_command(ctx, name)


async def answer_question(ctx: Context) -> None:
    """Free text (`ctx.args`): a command word, small talk, or a question answered in three tiers."""
    question = ctx.args.strip()
    if not question:
        await ctx.say("empty_message")
        return
    if len(question) > MAX_QUESTION_CHARS:
        await ctx.say("question_too_long", length=len(question), limit=MAX_QUESTION_CHARS)
        return
    if await _typed_command(ctx, question):
        return
    index = ctx.services.answers
    polite = index.normaliser.without_insults(question)
    if polite != question and not index.normaliser.intents(question):  # "shut up" alone stops the news
        if not index.words(polite):
            ctx.lang = index.language(question) or ctx.lang
            await _decline(ctx)  # insults only: the usual decline, nothing else
            return
        question = polite  # "t'es nul, qui héberge les données ?": the question
    pressed = _sign_pressed_in_words(ctx, question)
    if pressed is not None:
        # "Et je signe comment moi ?" answered, then "Camille Rousseau" (or "ok"): signing, under that name
        # (the summary that follows shows it before anything is kept).
        await run_command(ctx, "signer", pressed)
        return
    talk = index.normaliser.smalltalk(question)
    if talk is not None:
        # "qui a dit ça ?", "et alors ?", "pourquoi ?": about the answer just given, if any.
        follows = ctx.services.content.chat.talk(talk.id).follows
        if follows and ctx.previous and await follow_up(ctx, question, talk):
            return
        await _small_talk(ctx, talk)
        return
    if index.normaliser.off_topic(question) or index.about_another_cause(question):
        # "What's Microsoft's stock price?", "je voudrais signer la pétition contre la réforme des
        # retraites": campaign words, but nothing this bot answers or signs.
        ctx.lang = index.language(question) or ctx.lang
        await _decline(ctx)
        return
    intents = index.normaliser.intents(question)
    run = next((i for i in intents if i.run), None)
    final = last_sentence(question)
    if not intents and final:
        # "Hi, I'm a reporter at a UK outlet. What exactly does this petition demand?": the question's own words.
        intents = index.normaliser.intents(final) or intents
        run = next((i for i in intents if i.run), None)
    # What the message says besides what it asks for: "my french is terrible" in "can you switch to
    # English, my French is terrible" (the request's own words are not what the message is about).
    besides = index.normaliser.besides_intents(question, intents)
    if run is not None and run.args and _asks_more(ctx, question):
        rest = index.normaliser.smalltalk(besides)
        entry = _smalltalk_entry(ctx, rest) if rest is not None else ""
        if entry and await run_command(ctx, run.command, run.args):
            # "can you explain in English what this is about": the language set, then the summary.
            await answer_passage(ctx, entry, ctx.lang, offers=main_actions(ctx))
            return
        if _asks_of_its_own(ctx, besides) and await run_command(ctx, run.command, run.args):
            # "In plain English please, what does 'without a call for tenders' mean?": the language
            # set, then the question answered (or the closest entries offered); "can you speak
            # English with me, my French is not so good" only sets it.
            question, intents, run = besides, [], None
    # "ok alors je signe en Jean-Pierre (retraité)": signing, under the name given.
    named = None
    replies = ctx.services.content.replies
    if run is not None and run.command == "signer":
        named = _name_given(ctx, question)
    if run is not None and run.command in ctx.services.dialogue_commands and replies.asks_what_if(question):
        # "est-ce que ça enlève aussi ma signature ?", "if I withdraw, can I sign again?": a question about
        # what the command does, answered (the command offered), never run.
        run = None
    if run is not None and not named and index.mostly_unknown(question) and index.mostly_unknown(besides):
        # "sign me up for the petition against facial recognition cameras": mostly words the campaign
        # does not know, maybe about something else; the command is offered below, never run.
        run = None
    if run is not None:
        # "on est combien à avoir signé ?": live figures from the command itself, never a stored answer;
        # "elle veut quoi la pétition ?": the entry that gives all the demands. "stop" alone tells no language.
        ctx.lang = index.language(question, small_words_only=len(index.words(question)) < 2) or ctx.lang
        if run.entry:
            await answer_passage(ctx, run.entry, ctx.lang)
            return
        done = False
        requests = _requests(ctx, question, intents, run)
        several = len(index.normaliser.clauses(question)) > 1  # not "where can I read your privacy policy?"
        side = _side_question(ctx, besides) if run.command != "langue" and several else None
        for request in requests:
            if side is not None and request.command in ctx.services.dialogue_commands:
                # "retire ma signature et dis-moi qui est derrière la pétition": the answer, then the
                # dialogue's question last, where the person will answer it.
                await answer_passage(ctx, side.id, ctx.lang)
                side = None
            # "could you let me know when it reaches 20 000? and how many have signed so far?": each one.
            done = await run_command(ctx, request.command, named or request.args) or done
        if side is not None and done:
            await answer_passage(ctx, side.id, ctx.lang)  # "Who is behind this petition and how many signed?"
        again = ctx.previous if [r.command for r in requests] == ["langue"] else ()
        if done and again and not index.analyzer.words(besides) and len(normalize(question).split()) <= 3:
            # "et en anglais ?" after an answer: that answer, in English.
            await answer_passage(ctx, again[0], ctx.lang, again[1:])
        if done:
            ran = {r.command for r in requests}
            named_too = [*index.normaliser.actions(question), *(i.command for i in intents if not i.run and i.command)]
            offered = [name for name in named_too if name not in ran]
            if offered:  # "How do I sign, and what's the count right now?": the count, and Sign to press
                await ctx.say("action_offer", [command_choice(ctx, name) for name in dict.fromkeys(offered)])
            return
    answer = index.ask(question, prefer=ctx.lang)
    words = index.analyzer.words(question)
    only_asking = bool(words) and all(w in QUESTION_TOKENS for w in words)  # "how long?"
    if (answer is None or not answer.confident) and leans_on_last_answer(ctx, question, len(words), only_asking):
        follow, _ = in_context(ctx, question)
        if follow is not None:
            # "et pour combien de temps ?" after the CNIL's decision: how long the decision lasts.
            ctx.lang = index.language(question) or ctx.lang
            await answer_passage(ctx, follow.id, ctx.lang, follow.related, point_up=True)
            return
        if answer is None and only_asking and await follow_up(ctx, question, None):
            return  # "jusqu'à quand alors ?": only question words, about the last answer
    if answer is None or answer.tier == "unsure":
        # "Bonjour, ma fille m'a transféré un message sur une pétition, c'est quoi exactement ?"
        clause = _last_clause(question)
        last = index.normaliser.smalltalk(clause)
        entry = _smalltalk_entry(ctx, last, clause != question) if last is not None else ""
        title = ctx.services.content.petition.title
        if entry and not index.names_more_than(question[: len(question) - len(clause)], title):
            ctx.lang = index.language(question) or ctx.lang
            await answer_passage(ctx, entry, ctx.lang, offers=main_actions(ctx))
            return
    asks = asks_something(question, ctx.services.content.replies)
    talk = _small_talk_with_comment(index, question, answer, asks)
    if talk is not None:
        await _small_talk(ctx, talk)
        return
    # "numspot", "Azure ?": words of no language are answered in the person's, not in the one whose
    # version of the entry happens to score higher.
    lang = index.language(question) or ctx.lang
    ctx.lang = lang
    # "je veux signer" anywhere in a message: the reply offers Sign, whatever else it says.
    offered = [*index.normaliser.actions(question), *(i.command for i in intents if i.command)]
    offers = [command_choice(ctx, name) for name in dict.fromkeys(offered)]
    if answer is None:
        if index.mostly_unknown(besides, ratio=2):
            # "une lettre de motivation pour un job de barista, in english please": an offer drowned in
            # words the campaign does not know is not what the message is about, unless it is to sign.
            sign = command_choice(ctx, "signer").payload
            offers = [c for c in offers if c.payload == sign]
        suggestions = entries(ctx, index.suggest(question), lang) if offers and asks else []
        if suggestions:
            # "je veux bien signer, mais pourriez-vous me dire clairement ce qu'elle demande ?": both.
            ctx.unanswered = True
            await ctx.say("did_you_mean", merge(offers, suggestions))
            return
        if offers:
            await ctx.say("action_offer", offers)
            return
        if asks and not words and await follow_up(ctx, question, None):
            return  # "il a dit quoi ?", "et ça veut dire quoi ?": no subject of its own, after an answer
        if not index.mentions_campaign(question):
            await _decline(ctx)
            return
        # About the campaign, but not answered: say so, and offer the closest entries.
        suggestions = entries(ctx, index.suggest(question), lang)
        ctx.unanswered = True
        await ctx.say("decline_not_in_petition", merge(suggestions, main_actions(ctx)[:2]))
        return
    events = {c.id for c in ctx.services.content.petition.chronology}
    if answer.confident and answer.several and set(answer.several) <= events:
        # "il s'est passé quoi en 2020 ?": the events of that date in one message, their source once.
        texts = [passage_text(ctx, passage, lang) for passage in answer.several]
        sources = [sources_line(ctx, passage, lang) for passage in answer.several]
        await ctx.reply(join([*texts, *{s.plain: s for s in sources}.values()]), offers)
        return
    if answer.confident and answer.several:
        for n, passage in enumerate(answer.several, 1):
            await answer_passage(ctx, passage, lang, offers=offers if n == len(answer.several) else None)
        return
    if answer.confident:
        await answer_passage(ctx, answer.id, lang, answer.related, offers)
        return
    # A close call asks which entry was meant; a weak match says so before offering the closest ones.
    # An action the message names comes first, and the question is which was meant: "je veux bien
    # signer, mais dites-moi d'abord ce que demande la pétition" may want either.
    key = "did_you_mean" if answer.tier == "did_you_mean" or offers else "answer_unsure"
    ctx.offered = answer.candidates  # "When?" right after: about the likeliest of them
    ctx.unanswered = True
    await ctx.say(key, merge(offers, entries(ctx, answer.candidates, lang)))


def _side_question(ctx: Context, besides: str) -> Answer | None:
    """A question asked beside a request, when its answer is sure ("… and who is behind the petition?")."""
    if not besides or not asks_something(besides, ctx.services.content.replies):
        return None
    answer = ctx.services.answers.ask(besides, prefer=ctx.lang)
    return answer if answer is not None and answer.confident and not answer.several else None


def _sign_pressed_in_words(ctx: Context, question: str) -> str | None:
    """Right after an answer that offers signing, a name typed alone ("Camille Rousseau") or a yes ("ok",
    "ok alors anonyme") presses its Sign choice: the name to sign under ("" for none given), else None."""
    entry = ctx.services.content.faq_entry(ctx.previous[0]) if ctx.previous and ctx.dialogue is None else None
    if entry is None or entry.offer != "signer":
        return None  # mid-dialogue, "k" after "who sees my name?" answers the step, not a Sign choice
    if ctx.services.content.replies.meaning(question) == YES:
        return _name_given(ctx, question) or ""
    if not name_like(question) or len(question.split()) > MAX_NAME_WORDS:
        return None
    # Not "Olivier Véran", "Microsoft Azure": campaign words are no name.
    return None if ctx.services.answers.about_the_campaign(question) else question.strip()


def _name_given(ctx: Context, question: str) -> str | None:
    """The name a message gives with its wish to sign ("je signe en Jean-Pierre", "… anonyme"), if any."""
    replies = ctx.services.content.replies
    return replies.typed_name(question) or replies.alias_in(question, "anonymous")


def _requests(ctx: Context, question: str, intents: list[Intent], run: Intent) -> list[Intent]:
    """The commands a message asks for, each once: those that answer at once first, then at most one that
    opens a dialogue (the one asked for last: "remove my signature and delete everything" erases)."""
    if run.command == "langue":
        return [run]  # a language and a question: handled with the question (`_asks_more`)
    found = {i.command: i for i in intents if i.run and i.command and i.command != "langue"}
    found.setdefault(run.command, run)
    opens = ctx.services.dialogue_commands
    quick = [i for i in found.values() if i.command not in opens]
    normaliser = ctx.services.answers.normaliser
    opening = [i for i in found.values() if i.command in opens]
    last = max(opening, key=lambda i: normaliser.position(question, i), default=None)
    return quick + ([last] if last is not None else [])


def _asks_more(ctx: Context, question: str) -> bool:
    """A "?" or an asking word ("what", "quoi") besides a request: a question of its own.

    Unlike `asks_something`, a request worded as a question ("can you speak English with me")
    does not count.
    """
    asking = ctx.services.content.replies.question_words
    return "?" in question or any(w in asking for w in normalize(question).split())


def _asks_of_its_own(ctx: Context, question: str) -> bool:
    """The rest of a request is a question worth an answer, or at least the closest entries.

    "<quoted sentence> can someone explain what this means in english": not sure which entry, but
    the person asked something about the petition, so the offer of entries follows the language set.
    Asked in the language before the switch; the main flow asks again in the one set, to answer in it.
    """
    index = ctx.services.answers
    answer = index.ask(question, prefer=ctx.lang)
    if answer is None:
        return False
    return answer.confident or (
        asks_something(question, ctx.services.content.replies) and index.names_the_petition(question)
    )


def _small_talk_with_comment(
    index: AnswerIndex, question: str, answer: Answer | None, asks: bool
) -> SmallTalkMatch | None:
    """Small talk with a comment around it, when no answer is sure: the comment is not a question.

    "merci beaucoup, c'est super clair 👍", "ok merci t'es un bg", "sorry for all the questions,
    thank you", and "are you a real person or a machine? you answer fast", about the bot.
    """
    if answer is not None and answer.confident:
        return None
    opening = index.normaliser.opens_with_smalltalk(question)
    comment = index.analyzer.tokens(index.normaliser.besides_smalltalk(question), questions=False)
    about_petition = index.about_the_petition(question)
    if (
        opening is not None
        and opening.id in ("thanks", "greeting")
        and "?" not in question
        and len(comment) <= MAX_COMMENT_WORDS
        and not asks  # not "ok merci et sinon tu connais un bon dentiste a lyon"
        and (opening.id == "thanks" or not about_petition)
    ):
        return opening  # not "thanks for the info. different question: is copilot included or do I pay extra"
    if about_petition:
        return None
    # Nothing about the petition: a phrase of a few words anywhere tells what the message is.
    found = {talk.id: talk for talk in index.normaliser.smalltalk_within(question, min_words=2)}
    # "are you a real person or a program? you answer so fast": only a long phrase tells ("vous
    # faites quoi de mon identifiant Telegram" asks about data, "mon syndic… je fais quoi" is no chat).
    about_bot = [t for t in index.normaliser.smalltalk_within(question, min_words=4) if t.id == "capabilities"]
    if about_bot and not index.about_the_campaign(question) and not index.mostly_unknown(question):
        # Not "my blood test shows high cholesterol, what should I do": about something else.
        return about_bot[0]
    if asks:
        return None
    if "thanks" in found:
        return found["thanks"]  # "sorry for all the questions, thank you, you're very patient"
    if opening is not None and opening.id == "ack" and len(comment) <= MAX_COMMENT_WORDS:
        return opening  # "ok merci t'es un bg", not "lol give me a bitcoin price prediction for next week"
    return None


_CLAUSE_END = re.compile(r"[,;:.!?…]+\s+")


def _last_clause(text: str) -> str:
    """The message's last clause: "c'est quoi exactement ?" after what a relative forwarded."""
    clauses = [c for c in _CLAUSE_END.split(text.strip()) if c.strip()]
    return clauses[-1] if len(clauses) > 1 else ""


def _smalltalk_entry(ctx: Context, talk: SmallTalkMatch, part: bool = False) -> str:
    """The FAQ entry a small-talk phrase stands for ("c'est quoi ce truc ?" → the summary), or "";
    `part`: the phrase ends a longer message, so entries meant for a whole message do not count."""
    found = ctx.services.content.chat.talk(talk.id)
    return found.entry if not (part and found.alone) else ""


async def _decline(ctx: Context) -> None:
    """Out of scope. Mid-dialogue, without "what would you like to do?": the step's own question follows."""
    ctx.unanswered = True
    await ctx.say("decline_out_of_scope" if ctx.dialogue is None else "decline_out_of_scope_aside", main_actions(ctx))


async def _small_talk(ctx: Context, talk: SmallTalkMatch) -> None:
    # "merci", "bye", "ok" borrowed from the other language: the person's own still ("merci" after English
    # questions is answered in English); a phrase that says more ("did it work?") is answered in its own.
    said = ctx.services.content.chat.talk(talk.id)
    borrowed = ctx.known_lang if said.courtesy else None
    ctx.lang = borrowed or talk.lang or ctx.lang
    if ctx.dialogue is not None and said.quiet:
        return  # "ok", "bonjour" mid-dialogue: the step's question comes again, nothing else to say
    entry = _smalltalk_entry(ctx, talk)
    if entry:
        # "c'est quoi ce truc ?": what the petition is about, then what one can do.
        await answer_passage(ctx, entry, ctx.lang, offers=main_actions(ctx), point_up=True)
        return
    await ctx.say(f"{SMALLTALK_PREFIX}{talk.id}", main_actions(ctx))


async def show_faq(ctx: Context) -> None:
    """/faq: topics as choices; each leads to its questions."""
    topics = ctx.services.content.topics
    await ctx.say("faq_menu", [FAQ_TOPIC.choice(t.label[ctx.lang], t.id) for t in topics])


async def show_faq_topic(ctx: Context) -> None:
    """A topic was pressed: its questions as choices."""
    content = ctx.services.content
    topic = next((t for t in content.topics if t.id == ctx.args), None)
    if topic is None:
        await ctx.say("faq_unknown")
        return
    listed = [e for e in content.faq if e.topic == topic.id]
    await ctx.say(
        "faq_topic",
        [ENTRY.choice(e.question[ctx.lang], e.id) for e in listed],
        topic=topic.label[ctx.lang],
    )


FAQ_TOPIC = ChoiceRoute("faqt", show_faq_topic)
