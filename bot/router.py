"""The whole dispatch policy, in one place.

Order of precedence: a command (`/x`, `!x`, `/x@bot`) → a pressed choice →
the current dialogue step → free text (private chats, or group messages
addressed to the bot). Commands always win, so `/annuler` works at any step.

Dialogues are step tables (`bot/dialogue.py`); the router runs them: typed text
is matched against the step's options ("je signe", "oui", "non merci"), a question
typed mid-dialogue is answered and the step asked again with its choices, a stale
press is answered "expired" here and only here, and a press or message delivered
again after a crash gets the reply the step gave the first time.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cachetools import TTLCache

from bot import dialogue
from bot.answers import last_sentence
from bot.choices import (
    NO,
    YES,
    ReplyWords,
    asks_something,
    by_meaning,
    looks_like_question,
    match_choice,
    name_like,
    normalize,
)
from bot.content import LANGUAGES
from bot.context import DIALOGUE_PREFIX, Context, Services
from bot.dialogue import Flow, Step
from bot.events import Choice, DeliveryError, Inbound, Outbound
from bot.flood import FloodGuard, Verdict
from bot.sanitize import clean_text, fold
from storage.db import StorageError
from storage.dialogues import Dialogue

log = logging.getLogger(__name__)

Handler = Callable[[Context], Awaitable[None]]

# Telegram and Matrix both accept far longer messages; a question needs far less.
MAX_QUESTION_CHARS = 1_000
MIN_CHAT_QUESTION_WORDS = 3  # "pk vous voulez mon nom" is a question; "Quentin Combien" may be a name
_COMMAND = re.compile(r"^[/!]([^\s@/!]+)(?:@(\S+))?(?:\s+(.*))?$", re.S)
# A command after a few words ("fine. /sign", "ok, /oublier"): typed as the answer, it is the command.
_INNER_COMMAND = re.compile(r"(?<=\s)[/!]([^\s@/!.,;:?]+)")
MAX_WORDS_BEFORE_COMMAND = 2  # "ok, /oublier"; more when a sentence or "then" ends just before it
MAX_WORDS_AFTER_COMMAND = 3  # "then /unfollow just in case"
_BEFORE_COMMAND = frozenset(("then", "alors", "puis", "donc", "so", "just", "juste", "et", "and"))


ANYWHERE, PRIVATE, GROUP = "anywhere", "private", "group"


@dataclass(frozen=True)
class Command:
    """A command under its French and English names; `admin` commands are invisible to others."""

    names: tuple[str, ...]
    handler: Handler
    menu_key: str | None = None  # message key of the one-line description shown in menus
    admin: bool = False
    where: str = ANYWHERE  # where it does its job (PRIVATE, GROUP): /aide lists a chat's commands only
    opens: str | None = None  # the dialogue it opens: asked for again inside it, it is not an interruption

    def name_in(self, lang: str) -> str:
        """Commands are declared with a name per language, in the order of `LANGUAGES` (one name: all)."""
        position = LANGUAGES.index(lang) if lang in LANGUAGES else 0
        return self.names[position] if position < len(self.names) else self.names[0]

    def works_in(self, is_group: bool) -> bool:
        return self.where == ANYWHERE or self.where == (GROUP if is_group else PRIVATE)


@dataclass(frozen=True)
class ChoiceRoute:
    """One kind of choice outside dialogues: the payloads it builds are exactly the ones it handles."""

    prefix: str
    handler: Handler

    def choice(self, label: str, *args: str, meaning: str | None = None) -> Choice:
        return Choice(label, ":".join((self.prefix, *args)), meaning)


@dataclass
class Routes:
    """The table the router dispatches on, filled in one place (`handlers/__init__.py`)."""

    free_text: Handler
    commands: list[Command] = field(default_factory=list)
    choices: dict[str, Handler] = field(default_factory=dict)  # payload prefix -> handler
    flows: dict[str, Flow] = field(default_factory=dict)
    question: Handler | None = None  # a question typed in the middle of a dialogue (default: free_text)
    unknown_command: Handler | None = None
    expired_choice: Handler | None = None
    flooded: Handler | None = None
    failure: Handler | None = None

    def command(
        self,
        *names: str,
        handler: Handler,
        menu: str | None = None,
        admin: bool = False,
        where: str = ANYWHERE,
        opens: str | None = None,
    ) -> None:
        self.commands.append(Command(tuple(names), handler, menu, admin, where=where, opens=opens))

    def choice(self, route: ChoiceRoute | str, handler: Handler | None = None) -> ChoiceRoute:
        """Register a kind of choice (a `ChoiceRoute`, or a prefix and its handler)."""
        if isinstance(route, str):
            if handler is None:
                raise ValueError("a choice prefix needs its handler")
            route = ChoiceRoute(route, handler)
        if route.prefix == DIALOGUE_PREFIX or ":" in route.prefix or route.prefix in self.choices:
            raise ValueError(f"reserved, invalid or repeated choice prefix {route.prefix!r}")
        self.choices[route.prefix] = route.handler
        return route

    def flow(self, flow: Flow) -> None:
        self.flows[flow.name] = flow


SPOKEN_USERS = 50_000  # people whose last language is remembered at once (the oldest go first)
SPOKEN_SECONDS = 30 * 60  # a conversation's pause; after it, the platform's hint again


class Router:
    def __init__(self, routes: Routes, services: Services) -> None:
        self.routes = routes
        self.services = services
        self._commands: dict[str, Command] = {}
        for command in routes.commands:
            for name in command.names:
                key = fold(name)
                if key in self._commands:
                    raise ValueError(f"command /{name} is declared twice")
                self._commands[key] = command
        self._usernames: dict[str, str] = {}
        self._flood = FloodGuard(services.settings.flood_max_per_minute, services.clock.monotonic)
        # The language a person last wrote in, so that "ok" or "Source?" after English questions is answered
        # in English: in memory only, per pseudonym, forgotten after a while (never stored, never logged).
        self._spoken: TTLCache[str, str] = TTLCache(SPOKEN_USERS, SPOKEN_SECONDS, timer=services.clock.monotonic)
        # The FAQ entry last answered to a person, for follow-ups ("source ?", "et en anglais ?"): the same terms.
        # With it, whether it answered the message just before (no decline since).
        self._answered: TTLCache[str, tuple[tuple[str, ...], bool]] = TTLCache(
            SPOKEN_USERS, SPOKEN_SECONDS, timer=services.clock.monotonic
        )
        self._in_flight: set[asyncio.Future[None]] = set()
        self._step_help: frozenset[str] | None = None  # step-help phrases as the chat normaliser reads them

    def set_username(self, transport: str, username: str) -> None:
        """The bot's own name on a platform, so `/cmd@otherbot` in a group is left to that bot."""
        self._usernames[transport] = fold(username.lstrip("@"))

    async def drain(self, grace: float) -> int:
        """Wait (at most `grace` seconds) for the events being handled now; returns how many were cut short.

        At shutdown a user who just pressed "confirm" should get the answer, not a
        half-handled press: each handler's writes are one transaction, so one cut
        short leaves nothing half-written and is handled again after a restart.
        """
        pending = set(self._in_flight)
        if not pending:
            return 0
        _, still = await asyncio.wait(pending, timeout=grace)
        if still:
            log.warning("stopping with %d events still being handled", len(still))
        return len(still)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def dispatch(self, event: Inbound, outbound: Outbound) -> Context | None:
        """Handle one inbound event completely; never raises for a user's input."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight.add(done)
        ctx: Context | None = None
        try:
            ctx = await self._dispatch(event, outbound)
            return ctx
        finally:
            self._in_flight.discard(done)
            done.set_result(None)
            self.services.metrics.handled(event.chat.transport, len(ctx.sent) if ctx is not None else 0)

    async def _dispatch(self, event: Inbound, outbound: Outbound) -> Context | None:
        event = _cleaned(event)
        s = self.services
        user_key = s.pseudonyms.user(event.chat.transport, event.sender.id)
        ctx = Context(
            event=event,
            services=s,
            outbound=outbound,
            lang=s.settings.default_language,
            user_key=user_key,
            owner=s.pseudonyms.owner(event.chat.transport, event.chat.id, event.sender.id),
        )
        try:
            # One read gives both the open dialogue and the chosen language.
            current, chosen = await s.dialogues.current_and_language(ctx.owner, user_key, ctx.now)
            spoken = self._spoken.get(user_key)
            ctx.lang = self._language(ctx, chosen, current, spoken)
            ctx.known_lang = chosen or spoken
            ctx.previous, ctx.previous_fresh = (
                ((), False) if event.chat.is_group else self._answered.get(user_key, ((), False))
            )
            handler = await self._route(ctx, current)
            if handler is None:
                return ctx
            # The console's user is the person at this machine: a piped script of any length runs through.
            verdict = Verdict.ALLOW if event.local else self._flood.check(user_key)
            if verdict is Verdict.DROP:
                return ctx
            if verdict is Verdict.WARN:
                handler = self.routes.flooded or _silent
                log.info("flood notice transport=%s user=%s", event.chat.transport, ctx.user_tag)
            await handler(ctx)
            self._remember_language(ctx)
            if (ctx.answered or ctx.offered) and not event.chat.is_group:
                self._answered[user_key] = (ctx.answered or ctx.offered, True)
            elif ctx.unanswered and ctx.previous:
                self._answered[user_key] = (ctx.previous, False)  # a decline since: no longer "just above"
        except StorageError as exc:
            s.metrics.error("storage")
            log.error("storage unavailable: %s", exc)
            await self._fail(ctx)
        except DeliveryError as exc:
            s.metrics.error("delivery")
            log.warning("reply not delivered transport=%s error=%s", event.chat.transport, type(exc).__name__)
        except Exception:
            s.metrics.error("handler")
            log.exception("handler failed transport=%s user=%s", event.chat.transport, ctx.user_tag)
            await self._fail(ctx)
        return ctx

    async def _route(self, ctx: Context, current: Dialogue | None) -> Handler | None:
        event = ctx.event
        text = event.text.strip()
        if event.choice is not None:
            typed = self._typed_over_choice(ctx, current, text) if text and current is not None else None
            if typed is not None:
                return typed
            handler = self._route_choice(ctx, event.choice, current)
            if handler is not self.routes.expired_choice or self.services.content.replies.meaning(text) is None:
                return handler
            # A yes or no typed against a list no longer in play ("stop" after the withdrawal it answered):
            # read as the message it is, not as a stale press (a number or a label stays "expired").
        match = _COMMAND.match(text)
        if match:
            return self._route_command(ctx, match)
        if event.chat.is_group and not event.addressed:
            return None
        inner = self._inner_command(text)
        if inner is not None:
            return self._route_command(ctx, inner)
        flow = self.routes.flows.get(current.name) if current is not None else None
        if current is not None and flow is not None:
            handler = self._route_step_text(ctx, flow, current, text)
            if handler is not None:
                return handler
        ctx.args = text
        return self.routes.free_text

    def _inner_command(self, text: str) -> re.Match[str] | None:
        """The known command a short message ends with ("fine. /sign", "ok, /oublier"), else None.

        Not in a question ("c'est quoi la différence avec /oublier ?") nor in a sentence ("j'ai tapé
        /signer par erreur, comment j'arrête").
        """
        found = _INNER_COMMAND.search(text)
        if found is None or "?" in text or fold(found.group(1)) not in self._commands:
            return None
        before, after = text[: found.start()].split(), text[found.end() :].split()
        joined = bool(before) and (before[-1][-1] in ",.;:!" or fold(before[-1].lower()) in _BEFORE_COMMAND)
        if len(after) > MAX_WORDS_AFTER_COMMAND or (len(before) > MAX_WORDS_BEFORE_COMMAND and not joined):
            return None
        return _COMMAND.match(text[found.start() : found.end()])

    def _route_command(self, ctx: Context, match: re.Match[str]) -> Handler | None:
        name, target, rest = match.group(1), match.group(2), match.group(3) or ""
        own = self._usernames.get(ctx.event.chat.transport)
        if target is not None and own is not None and fold(target) != own:
            return None  # addressed to another bot in the same group
        command = self._commands.get(fold(name))
        if command is None or (command.admin and not ctx.is_admin):
            # Admin commands answer exactly like unknown ones, so they are not discoverable.
            if ctx.event.chat.is_group and target is None and not ctx.event.addressed:
                return None
            ctx.args = name  # "/singer": the handler may suggest the command meant
            return self.routes.unknown_command
        ctx.args = rest.strip()
        log.info("command transport=%s name=%s user=%s", ctx.event.chat.transport, command.names[0], ctx.user_tag)
        return command.handler

    def _route_choice(self, ctx: Context, payload: str, d: Dialogue | None) -> Handler | None:
        prefix, _, rest = payload.partition(":")
        if prefix == DIALOGUE_PREFIX:
            nonce, _, value = rest.partition(":")
            flow = self.routes.flows.get(d.name) if d is not None else None
            if d is None or flow is None:
                return self.routes.expired_choice
            step = flow.step(d)
            if step is not None and d.nonce == nonce and any(o.value == value for o in step.options(ctx, d)):
                return self._step_choice(ctx, flow, d, step, value)
            if d.done is not None and d.done.nonce == nonce and d.done.value == value:
                return lambda c: self._replay(c, flow, d)  # the same press again: the same answer
            return self.routes.expired_choice
        handler = self.routes.choices.get(prefix)
        if handler is None:
            return self.routes.expired_choice
        ctx.args = rest
        return handler

    # Dialogue steps ---------------------------------------------------------

    def _route_step_text(self, ctx: Context, flow: Flow, d: Dialogue, text: str) -> Handler | None:
        """Typed text in a dialogue: one of the step's answers in words, the step's own text, or anything else."""
        message = ctx.event.message_id
        if d.done is not None and message is not None and d.done.message == message:
            return lambda c: self._replay(c, flow, d)  # this very message was handled already
        step = flow.step(d)
        if step is None:
            return None  # the dialogue has ended: ordinary free text
        words = self.services.content.replies
        if words.is_pause(text):
            return lambda c: self._again(c, flow, d)  # "attends", "bof jsp", "non attends": nothing taken
        if self._about_the_news_to_come(ctx, d, step, text):
            # "no news please" where a name is asked: about the news question to come, no "no" to this one.
            return lambda c: self._again(c, flow, d)
        if self._interrupts(text, d):
            # "en fait non je retire" at the news question, "ok, delete everything about me" where a name
            # is asked: done at once, as the command would be, rather than read as "non" or "ok".
            ctx.args = text
            return self.routes.free_text
        on_text_step = step.on_text is not None
        given = words.typed_name(text)  # the name after "je m'appelle", "mets plutôt", a comma; else None
        if given is None and step.names:
            given = self._name_after_yes(text)  # "ok then John Smith", "ok alors Jean Dupont"
        correction = self._correction(ctx, flow, d, step, text, given)
        if correction is not None:
            return correction  # "non, anonyme" at the summary: a new name, not "non"
        answers = self._answers(ctx, d, step)
        # "Stop Martin", "Ok Lou" where a name is asked: a name, not "stop" or "ok" and a word after it.
        reading = None if step.names and name_like(text) and not words.only_answers(text) else words
        loose = "?" not in text  # "done?" asks; it presses nothing by a typo or a label's first words
        chosen = match_choice(text, answers, reading, loose=loose) or match_choice(
            self._without_lead(text), answers, reading, loose=loose
        )
        if chosen is not None:
            # "Je signe", and "bon finalement je signe": the filler words before it say nothing.
            return self._step_choice(ctx, flow, d, step, chosen.payload)
        cancel = self._cancel_in(ctx, d, step, text) if given is None else None  # "non, mettez 'Un dev'" renames
        if cancel is not None:
            # "Oh dear, no, cancel that please, I want to ask my husband first": the step's cancel.
            return self._step_choice(ctx, flow, d, step, cancel.payload)
        if (reading is not None and words.meaning(text) is not None) or (
            on_text_step
            and words.meaning(" ".join(text.split()[:2])) is not None
            and (not name_like(text) or _answer_then_words(text, words))
            and given is None  # "ok just me then, David Hughes" names
            and "?" not in text  # "ok et mes données à moi vous les gardez ?" asks
        ):
            # "why not", "oui", "non merci pas de nouvelles" where a name is asked: the step again; after a
            # yes ("yes please :)"), without "back to where we were": nothing interrupted it, but what the
            # step wants (its help: "write the name, or choose…") comes first, since yes answers none of it.
            if words.meaning(text) == YES:
                if step.help is not None:
                    return lambda c: self._help(c, flow, d, step)
                return lambda c: dialogue.ask(c, flow, d, again=True)
            return lambda c: self._again(c, flow, d)
        renamed = given if step.on_name is not None else None
        if (
            step.on_name is not None
            and renamed is None
            and len(text.split()) > 1
            and name_like(text)
            and not _answer_then_words(text, words)  # "Yes, that's correct." is no name
        ):
            # "Emily Clarke" typed at the summary: a new name, unless it is a question or small talk.
            chat = self.services.answers.normaliser.smalltalk(text)
            renamed = None if chat is not None or looks_like_question(text, words) else text.strip()
        if step.on_name is not None and renamed is not None:
            on_name = step.on_name
            return lambda c: self._run_step(c, flow, d, on_name(c, d, renamed))  # "mets plutôt mon nom : Claire"
        if words.about_the_step(text) or self._about_the_step(text) or (not normalize(text) and "?" in text):
            # "c'est quoi la différence ?", "help", "?" at a choice: how to answer it, never an FAQ answer.
            return lambda c: self._help(c, flow, d, step)
        on_text = step.on_text
        named = given if on_text is not None and step.names else None
        if on_text is not None and named is not None:
            # "Sous mon nom de jeune fille, Bernadette Lefèvre", "je signe avec mes initiales".
            meant = match_choice(named, self._answers(ctx, d, step), words)
            if meant is not None:
                return self._step_choice(ctx, flow, d, step, meant.payload)
            ctx.args = named
            return lambda c: self._run_step(c, flow, d, on_text(c, d, named))
        normaliser = self.services.answers.normaliser
        # "merci", "ok": small talk; emoji alone are a nod elsewhere, but typed for a name they are a name to refuse.
        talk = normaliser.smalltalk(text) is not None and bool(normaliser.words(text))
        typed_words = self.services.answers.analyzer.surface(text).split()  # as typed: "AAAA…" is no "a"
        pause = all(w in normaliser.fillers and w not in self._commands for w in typed_words)
        if on_text is not None and step.questions and typed_words and pause:
            return lambda c: self._again(c, flow, d)  # "attends", "euh…": a pause, never a name
        # "c quand que la cnil a validé", typed where a name is asked, is about the petition, not a name.
        # "Claire" (as in "clairement"), "Claire, infirmière": capitalised words where a name is asked are one.
        about = self.services.answers.about_the_petition(text) and not (on_text is not None and name_like(text))
        # "pk vous voulez mon nom": a question word in chat spelling, with words after it.
        read = normaliser.words(text)
        chat_question = len(read) >= MIN_CHAT_QUESTION_WORDS and any(w in words.question_words for w in read)
        question = looks_like_question(text, words) or talk or self._request(text) or about or chat_question
        if on_text is not None and not (step.questions and question):
            ctx.args = text
            return lambda c: self._run_step(c, flow, d, on_text(c, d, text))
        if question or asks_something(text, words):
            # A question, "merci", "ok": answered as free text, then the step again.
            return lambda c: self._aside(c, flow, d, text)
        # Words that answer none of the choices and ask nothing: the step again, saying so. Read as a
        # question, "Bonjour à tous, merci pour vos signatures" typed where an audience is asked for
        # would have got an answer about signing.
        return lambda c: self._unclear(c, flow, d)

    def _about_the_news_to_come(self, ctx: Context, d: Dialogue, step: Step, text: str) -> bool:
        """ "no news please" at a step that is not the news question."""
        no_news = self.services.content.replies.alias_in(text, "no_news")
        return no_news is not None and all(o.aliases != "no_news" for o in step.options(ctx, d))

    def _name_after_yes(self, text: str) -> str | None:
        """A capitalised name after a yes and a word or two ("ok then John Smith", "oui alors Jean Dupont"),
        where a name is asked."""
        typed = text.split()
        first = next((n for n, w in enumerate(typed) if w[:1].isupper()), 0)
        if not 0 < first <= MAX_WORDS_BEFORE_NAME or normalize(typed[0]) not in self.services.content.replies.yes:
            return None
        rest = " ".join(typed[first:])
        return rest if name_like(rest) and all(w.islower() for w in typed[1:first]) else None

    def _cancel_in(self, ctx: Context, d: Dialogue, step: Step, text: str) -> Choice | None:
        """The step's cancel choice, when a sentence says to cancel ("no, cancel that please, I want to ask
        my husband first", "en fait non laisse tomber jsuis pas sûr"); not in a question nor after a negation."""
        if "?" in text or (step.names and name_like(text)):
            return None  # a question; "Stop Martin", "Marie Annule" typed where a name is asked
        words = self.services.content.replies
        answers = self._answers(ctx, d, step)
        cancel = [c for c in answers if c.payload.endswith(":cancel") or c.meaning == NO]
        typed = f" {normalize(text)} "
        others = {normalize(c.label) for c in answers if c not in cancel} | {*words.yes}
        if any(f" {other} " in typed for other in others if other):
            return None  # "laisse tomber la question, je signe": another answer too
        for phrase in words.aliases.get("cancel", ()):
            at = typed.find(f" {phrase} ")
            if at >= 0 and not set(typed[:at].split()[-3:]) & _NEGATIONS:  # not "I don't want to cancel"
                return next((c for c in cancel if c.payload.endswith(":cancel")), None) or by_meaning(cancel, NO)
        return None

    def _typed_over_choice(self, ctx: Context, d: Dialogue, text: str) -> Handler | None:
        """Words a transport matched to a choice that say more than it: "en fait non je retire" is no "non",
        "non, anonyme" at the summary no "Annuler", "Stop Martin" where a name is asked a name (the same
        reading as typed text on Telegram)."""
        flow = self.routes.flows.get(d.name)
        step = flow.step(d) if flow is not None else None
        if flow is None or step is None:
            return None
        if self._interrupts(text, d):
            ctx.args = text
            return self.routes.free_text
        words = self.services.content.replies
        if step.names and name_like(text) and not words.only_answers(text):
            return self._route_step_text(ctx, flow, d, text)  # "Stop Martin" is a name, not "stop"
        if self._about_the_news_to_come(ctx, d, step, text):
            return self._route_step_text(ctx, flow, d, text)  # "no news please" is no "no" to this step
        return self._correction(ctx, flow, d, step, text, words.typed_name(text)) if words.corrected(text) else None

    def _correction(
        self, ctx: Context, flow: Flow, d: Dialogue, step: Step, text: str, given: str | None
    ) -> Handler | None:
        """ "non je voulais dire anonyme", "sorry I meant my initials": a choice of this step, or of the
        earlier one it corrects (the name, at the summary), after the words of a correction."""
        words = self.services.content.replies
        if asks_something(text, words):
            # "hmm wait, will my name be shown publicly?", "attends qui voit mon nom": a question, even without
            # its question mark, corrects nothing ("mon nom" there is no choice of "Mon nom").
            return None
        rest = words.corrected(text)
        earlier = flow.steps.get(str(step.corrects.value)) if step.corrects is not None else None
        for target in (step, earlier):
            if target is None:
                continue
            answers = [c for c in self._answers(ctx, d, target) if c.meaning is None]  # not "non": cancel
            typed = rest if target is step else (rest or text)  # "anonyme" alone at the summary too
            meant = match_choice(self._without_lead(typed), answers) if typed else None
            if meant is None and rest and given is None:
                # "hmm wait, actually anonymous is better": the one choice whose words are in the correction.
                found = {c.payload for c in answers if f" {normalize(c.label)} " in f" {rest} "}
                meant = next((c for c in answers if c.payload in found), None) if len(found) == 1 else None
            if meant is not None:
                return self._step_choice(ctx, flow, d, target, meant.payload)
        return None

    def _interrupts(self, text: str, d: Dialogue) -> bool:
        """A request the content says is done even mid-dialogue (withdraw, erase), unless it opened this one."""
        leaving = self.services.content.chat.interrupting
        normaliser = self.services.answers.normaliser
        if self.services.content.replies.asks_what_if(text):
            return False  # "est-ce que ça enlève aussi ma signature ?" at the erasure: a question about it
        # "Hmm, I shouldn't sign as a journalist. Please remove my signature.": the last sentence asks too.
        for intent in normaliser.intents(text) or normaliser.intents(last_sentence(text)):
            command = self._commands.get(fold(intent.command)) if intent.run and intent.command in leaving else None
            if command is not None and command.opens != d.name:
                return True
        return False

    def _without_lead(self, text: str) -> str:
        """The message without the filler words around it ("bon finalement | je signe", "bon | anonyme | alors")."""
        normaliser = self.services.answers.normaliser

        def filler(word: str) -> bool:  # "d'accord." is the filler "d'accord"
            return (
                fold(word.lower()).strip(",.;:!") in normaliser.fillers
                or set(normaliser.words(word) or ["?"]) <= normaliser.fillers
            )

        typed = text.split()
        while typed and filler(typed[0]):
            typed = typed[1:]
        while typed and filler(typed[-1]):
            typed = typed[:-1]
        return " ".join(typed)

    def _about_the_step(self, text: str) -> bool:
        """ "c koi la diff entre anonyme et mon nom": a question about the step in chat spelling, followed
        by any words that are not about the petition ("je comprends pas pourquoi la CNIL…" is a question).
        """
        normaliser = self.services.answers.normaliser
        if self._step_help is None:
            phrases = self.services.content.replies.step_help_phrases
            self._step_help = frozenset(" ".join(normaliser.words(p)) for p in phrases)
        typed = normaliser.words(text)
        for n in range(len(typed), 0, -1):
            if " ".join(typed[:n]) in self._step_help:
                rest = " ".join(typed[n:])
                return not rest or not self.services.answers.about_the_petition(rest)
        return False

    def _request(self, text: str) -> bool:
        """A phrase the content reads as a request ("je veux signer", "on est combien à avoir signé").

        Only intents of several word groups: one word ("compteur", "tally") can be part of a name.
        """
        return any(len(i.groups) > 1 for i in self.services.answers.normaliser.intents(text))

    def _answers(self, ctx: Context, d: Dialogue, step: Step) -> list[Choice]:
        """The step's options as choices to match typed text against, with their other words from content."""
        aliases = self.services.content.replies.aliases
        found = []
        for option in step.options(ctx, d):
            found.append(Choice(option.label, option.value, option.meaning))
            found += [Choice(word, option.value) for word in aliases.get(option.aliases or "", ())]
        return found

    def _step_choice(self, ctx: Context, flow: Flow, d: Dialogue, step: Step, value: str) -> Handler:
        on_choice = step.on_choice
        if on_choice is None:
            return self.routes.expired_choice or _silent
        ctx.dialogue, ctx.chosen = d, value
        return lambda c: self._run_step(c, flow, d, on_choice(c, d, value))

    async def _run_step(self, ctx: Context, flow: Flow, d: Dialogue, work: Awaitable[None]) -> None:
        """Run a step's handler; if another press moved the dialogue first, answer as that press was answered."""
        try:
            await work
        except dialogue.Moved:
            now, _ = await self.services.dialogues.current_and_language(ctx.owner, ctx.user_key, ctx.now)
            done = now.done if now is not None else None
            same_input = done is not None and (
                (ctx.chosen is not None and done.value == ctx.chosen)
                or (ctx.event.message_id is not None and done.message == ctx.event.message_id)
            )
            if now is not None and done is not None and done.nonce == d.nonce and same_input:
                await self._replay(ctx, flow, now)
            elif self.routes.expired_choice is not None:
                await self.routes.expired_choice(ctx)

    async def _replay(self, ctx: Context, flow: Flow, d: Dialogue) -> None:
        """What completing the step said, said again; then the step the dialogue is at now, if any."""
        done = d.done
        step = flow.steps.get(done.step) if done is not None else None
        if done is not None and step is not None and step.replay is not None:
            await step.replay(ctx, done)
        if flow.step(d) is not None:
            await dialogue.ask(ctx, flow, d)
        elif step is None or step.replay is None:
            if self.routes.expired_choice is not None:
                await self.routes.expired_choice(ctx)
        log.info("dialogue input delivered again transport=%s user=%s", ctx.event.chat.transport, ctx.user_tag)

    async def _again(self, ctx: Context, flow: Flow, d: Dialogue) -> None:
        await dialogue.ask(ctx, flow, d, again=True, lead=ctx.t("dialogue_resume"))

    async def _unclear(self, ctx: Context, flow: Flow, d: Dialogue) -> None:
        await dialogue.ask(ctx, flow, d, again=True, lead=ctx.t("dialogue_unclear"))

    async def _help(self, ctx: Context, flow: Flow, d: Dialogue, step: Step) -> None:
        lead = step.help(ctx, d) if step.help is not None else ctx.t("dialogue_step_help")
        await dialogue.ask(ctx, flow, d, again=True, lead=lead)

    async def _aside(self, ctx: Context, flow: Flow, d: Dialogue, text: str) -> None:
        """Something else than an answer mid-dialogue: replied to as free text, then the step asked again.

        A question gets its answer, "merci" its reply; the step's choices come last, so a
        numbered list ends with them. If the reply itself moved the dialogue (a command word
        typed alone, "annuler"), the step is not asked again.
        """
        step = flow.step(d)
        optional = step is not None and step.optional
        # An optional step is left with the aside, which is answered as outside any dialogue ("merci a+").
        ctx.args, ctx.dialogue = text, None if optional else d
        await (self.routes.question or self.routes.free_text)(ctx)
        talk = self.services.answers.normaliser.smalltalk(text)
        if talk is not None and talk.id == GOODBYE and not optional:
            return  # "merci au revoir": no question after a goodbye; the dialogue waits until it expires
        now = await self.services.dialogues.current(ctx.owner, ctx.now)
        if now is None or now.nonce != d.nonce:
            return
        if optional and not ctx.unanswered and not self._about_the_step_asked(ctx, step):
            # "c'est combien maintenant ?" after signing: answered; the news question is left, unanswered.
            # Not so after a question the bot could not answer ("spam?"), nor one about the step itself.
            await dialogue.close(ctx, d, "skipped")
            return
        await dialogue.ask(ctx, flow, d, again=True, lead=ctx.t("dialogue_resume"))

    def _about_the_step_asked(self, ctx: Context, step: Step | None) -> bool:
        """The aside was answered by an entry that offers or runs what the step is about."""
        if step is None or not step.about or not ctx.answered:
            return False
        entry = self.services.content.faq_entry(ctx.answered[0])
        return entry is not None and bool({entry.offer, entry.command} & set(step.about))

    def _language(self, ctx: Context, chosen: str | None, current: Dialogue | None, spoken: str | None) -> str:
        """The language set with /langue; else the language of the command's name; else, in a dialogue,
        the one typed now or the one it began in; else the one last written in; else the platform's hint."""
        if chosen:
            return chosen
        written = ctx.event.text.strip()
        match = (_COMMAND.match(written) or self._inner_command(written)) if ctx.event.choice is None else None
        command = self._commands.get(fold(match.group(1))) if match else None
        if match and command is not None and len(set(command.names)) > 1 and (ctx.is_admin or not command.admin):
            # "/mydata" is English, "/mesdonnees" French, whatever the platform says.
            position = [fold(n) for n in command.names].index(fold(match.group(1)))
            return LANGUAGES[min(position, len(LANGUAGES) - 1)]
        if current is not None and current.active:
            text = ctx.event.text
            # "why not", "ok", "yes please", a name answer in any language: the dialogue's own goes on.
            plain = bool(text) and (self.services.content.replies.meaning(text) is not None or name_like(text))
            typed = self.services.answers.language(text, small_words_only=True) if text and not plain else None
            started = dialogue.language(current)
            if typed or started:
                return typed or started or ""
        if spoken is not None:
            return spoken  # "ok", "Source?", "Priya" after English messages: English still
        hint = (ctx.event.sender.language or "").lower()[:2]  # "en-GB" -> "en"
        return hint if hint in LANGUAGES else self.services.settings.default_language

    def _remember_language(self, ctx: Context) -> None:
        """The language of a message whose words tell one (or of the command named), kept for the next ones."""
        text = ctx.event.text.strip()
        if not text or ctx.event.chat.is_group:
            return
        match = _COMMAND.match(text)
        command = self._commands.get(fold(match.group(1))) if match else None
        named = command is not None and len(set(command.names)) > 1  # "/mydata", not "/start"
        told = named or (match is None and self.services.answers.language(text) is not None)
        if told and ctx.lang in LANGUAGES:
            self._spoken[ctx.user_key] = ctx.lang

    async def _fail(self, ctx: Context) -> None:
        if self.routes.failure is None:
            return
        try:
            await self.routes.failure(ctx)
        except Exception:  # the platform itself may be what failed
            log.warning("could not tell the user about a failure transport=%s", ctx.event.chat.transport)


GOODBYE = "goodbye"  # the small talk after which a dialogue's step is not asked again
_NEGATIONS = frozenset(("pas", "ne", "not", "t", "never", "jamais"))
MAX_WORDS_BEFORE_NAME = 3  # "ok then | John Smith"


def _answer_then_words(text: str, words: ReplyWords) -> bool:
    """ "Yes, that's correct.": a yes or no, then lowercase words; capitalised, but no name."""
    typed = text.split()
    return len(typed) > 1 and words.meaning(typed[0]) is not None and any(w[:1].islower() for w in typed[1:])


async def _silent(ctx: Context) -> None:
    return None


def _cleaned(event: Inbound) -> Inbound:
    text = clean_text(event.text)
    choice = clean_text(event.choice) if event.choice is not None else None
    if text == event.text and choice == event.choice:
        return event
    return Inbound(event.chat, event.sender, text, choice, event.message_id, event.addressed, event.local)
