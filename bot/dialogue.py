"""Dialogues as explicit state machines whose state lives in storage, declared as step tables.

A flow is a name and a table from each step to what the step does: its question
(`prompt`), the answers it offers (`options`), what a chosen answer or typed text
does, and how to say again what completing it said (`replay`). The router looks
the step up and does the rest in one place: typed words are matched against the
options, a question typed mid-dialogue is answered and the step asked again with
its choices, a stale press is answered "expired", and a press or message that a
platform delivers a second time gets the reply it got the first time.

Every move is a compare-and-set on the step's nonce, so a button pressed twice,
from two devices or after a restart moves the dialogue at most once; the loser of
such a race raises `Moved` and the router answers it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.context import DIALOGUE_PREFIX, Context
from bot.events import Choice
from bot.markup import Rich, join
from storage.db import Transaction
from storage.dialogues import Dialogue, Done, advance_in, close_in

Prompt = Callable[[Context, Dialogue], Rich | Sequence[Rich]]
Options = Callable[[Context, Dialogue], Sequence["Option"]]
OnChoice = Callable[[Context, Dialogue, str], Awaitable[None]]
OnText = Callable[[Context, Dialogue, str], Awaitable[None]]
Replay = Callable[[Context, Done], Awaitable[None]]


class Moved(Exception):
    """The dialogue left this step meanwhile (a double press, another device): the router answers."""


@dataclass(frozen=True)
class Option:
    """One answer a step offers; `value` comes back to the step when it is chosen (pressed or typed)."""

    value: str
    label: str
    meaning: str | None = None  # bot.choices.YES / NO: then "oui", "ok", "non merci", ✅, ❌ choose it
    aliases: str | None = None  # a group of other words for it in `replies.toml` ("sign": "signer", "sign it"…)


def _no_options(ctx: Context, d: Dialogue) -> Sequence[Option]:
    return ()


@dataclass(frozen=True)
class Step:
    """What one step does. Only `prompt` is required; a step without `on_text` takes choices only."""

    prompt: Prompt  # the question (the last message carries the choices), also sent when the step is asked again
    options: Options = _no_options
    on_choice: OnChoice | None = None
    on_text: OnText | None = None  # typed text that is neither one of the options nor a question (a name…)
    reminder: Prompt | None = None  # shorter question for asking again (after a question, or an unclear answer)
    replay: Replay | None = None  # says again what completing this step said, from its outcome code
    questions: bool = True  # False when any text is the answer (the text of a broadcast)
    names: bool = False  # typed text may introduce a name ("je m'appelle Jean"): `on_text` gets the name
    on_name: OnText | None = None  # a name introduced so at a step that asks no name ("mets plutôt : Claire")
    # What the choices mean, for "c'est quoi la différence ?" (else a general word on how to answer).
    help: Callable[[Context, Dialogue], Rich] | None = None
    # An earlier step whose choices, typed here as a correction, are taken as that step's answer
    # (at the summary, "non je voulais dire anonyme" picks the initials).
    corrects: enum.Enum | None = None
    # A question one may leave unanswered (the news, after signing): after an aside it is closed, not
    # asked again; no answer is no consent.
    optional: bool = False
    # Commands the step is about: an aside answered by a FAQ entry that offers or runs one of them asks
    # about the step itself ("vous allez m'envoyer des pubs ?" at the news question), which then comes
    # again, even when optional.
    about: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A named dialogue and its step table, keyed by the steps' enum values."""

    name: str
    steps: Mapping[str, Step] = field(default_factory=dict)

    @classmethod
    def declare(cls, name: str, table: Mapping[enum.Enum, Step]) -> Flow:
        return cls(name, {str(step.value): handlers for step, handlers in table.items()})

    def step(self, d: Dialogue) -> Step | None:
        return self.steps.get(d.step) if d.active and d.name == self.name else None


def choice(d: Dialogue, option: Option) -> Choice:
    """The choice for an option, valid only while `d` is at its current step."""
    return Choice(option.label, f"{DIALOGUE_PREFIX}:{d.nonce}:{option.value}", option.meaning)


def choices(ctx: Context, flow: Flow, d: Dialogue) -> list[Choice]:
    step = flow.step(d)
    return [] if step is None else [choice(d, option) for option in step.options(ctx, d)]


def _expiry(ctx: Context) -> dt.datetime:
    return ctx.now + dt.timedelta(minutes=ctx.services.settings.dialogue_ttl_minutes)


def _done(ctx: Context, d: Dialogue, outcome: str) -> Done:
    return Done(d.step, d.nonce, ctx.chosen, ctx.event.message_id, outcome)


async def ask(ctx: Context, flow: Flow, d: Dialogue, *, again: bool = False, lead: Rich | None = None) -> None:
    """Send the step's question with its choices; `again` uses its reminder; `lead` goes first, in the same message."""
    step = flow.step(d)
    if step is None:
        return
    prompt = step.reminder if again and step.reminder is not None else step.prompt
    texts = prompt(ctx, d)
    messages = [texts] if isinstance(texts, Rich) else list(texts)
    if lead is not None:
        messages[0] = join([lead, messages[0]], " ") if messages else lead
    for text in messages[:-1]:
        await ctx.reply(text)
    await ctx.reply(messages[-1], choices(ctx, flow, d))


LANGUAGE_KEY = "lang"  # in a dialogue's data: the language it was started in ("sign me up" → English steps)


def language(d: Dialogue) -> str | None:
    """The language the dialogue was started in, if it was recorded."""
    lang = d.data.get(LANGUAGE_KEY)
    return lang if isinstance(lang, str) else None


async def start(ctx: Context, flow: Flow, step: enum.Enum, data: dict[str, Any] | None = None) -> Dialogue:
    """Open a dialogue for this user in this chat (replacing any other one) and ask its first step.

    It keeps the language it was started in: the steps of "sign me up" typed in a French-set chat
    come in English, as its first question did.
    """
    data = {**(data or {}), LANGUAGE_KEY: ctx.lang}
    d = await ctx.services.dialogues.start(ctx.owner, flow.name, str(step.value), data, _expiry(ctx))
    ctx.dialogue = d
    await ask(ctx, flow, d)
    return d


async def go(
    ctx: Context, flow: Flow, d: Dialogue, step: enum.Enum, data: dict[str, Any] | None = None, outcome: str = "next"
) -> Dialogue:
    """Complete the current step, move to `step` and ask it; raises `Moved` if the dialogue moved meanwhile."""
    async with ctx.services.db.transaction() as tx:
        moved = await go_in(tx, ctx, d, step, data, outcome)
    await ask(ctx, flow, moved)
    return moved


async def go_in(
    tx: Transaction,
    ctx: Context,
    d: Dialogue,
    step: enum.Enum,
    data: dict[str, Any] | None,
    outcome: str,
    kept: bool = False,
) -> Dialogue:
    """`go` inside a caller's transaction (with the write the step confirms); the caller asks the step after.

    `kept`: the data this step drops was saved by the same transaction (else it is scrubbed from the files).
    """
    if data is not None and LANGUAGE_KEY in d.data:
        data = {**data, LANGUAGE_KEY: d.data[LANGUAGE_KEY]}
    moved = await advance_in(
        tx, d, str(step.value), d.data if data is None else data, _expiry(ctx), _done(ctx, d, outcome), kept
    )
    if moved is None:
        raise Moved
    ctx.dialogue = moved
    return moved


async def close(ctx: Context, d: Dialogue, outcome: str) -> None:
    """End the dialogue at this step; raises `Moved` if it moved meanwhile."""
    async with ctx.services.db.transaction() as tx:
        await close_in_tx(tx, ctx, d, outcome)


async def close_in_tx(tx: Transaction, ctx: Context, d: Dialogue, outcome: str, kept: bool = False) -> None:
    """`close` inside a caller's transaction: only how it ended is kept, for as long as a dialogue lasts.

    `kept`: the dialogue's data was saved by the same transaction (else it is scrubbed from the files).
    """
    if await close_in(tx, d, _done(ctx, d, outcome), _expiry(ctx), kept) is None:
        raise Moved
    ctx.dialogue = None
