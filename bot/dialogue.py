"""Dialogues as explicit state machines whose state lives in storage.

A flow declares its steps as an enum and handles a pressed choice or typed text
for the step the user is at. Every transition is a compare-and-set on the step's
nonce, so a button pressed twice, from two devices or after a restart moves the
dialogue at most once.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Protocol

from bot.context import Context
from storage.dialogues import Dialogue


class Flow(Protocol):
    """One dialogue: its name and what it does with the user's input at each step."""

    name: str

    async def on_choice(self, ctx: Context, dialogue: Dialogue, value: str) -> None: ...

    async def on_text(self, ctx: Context, dialogue: Dialogue, text: str) -> None: ...


def _expiry(ctx: Context) -> dt.datetime:
    return ctx.now + dt.timedelta(minutes=ctx.services.settings.dialogue_ttl_minutes)


async def start(ctx: Context, name: str, step: enum.Enum, data: dict[str, Any] | None = None) -> Dialogue:
    """Open a dialogue for this user in this chat, replacing any other one."""
    dialogue = await ctx.services.dialogues.start(ctx.owner, name, step.value, data or {}, _expiry(ctx))
    ctx.dialogue = dialogue
    return dialogue


async def advance(
    ctx: Context, dialogue: Dialogue, step: enum.Enum, data: dict[str, Any] | None = None
) -> Dialogue | None:
    """Move to `step`; None when the dialogue already moved (the caller answers "expired")."""
    moved = await ctx.services.dialogues.advance(
        dialogue, step.value, dialogue.data if data is None else data, _expiry(ctx)
    )
    ctx.dialogue = moved
    return moved


async def finish(ctx: Context, dialogue: Dialogue | None = None) -> bool:
    """End the dialogue (only the given step of it, when `dialogue` is passed)."""
    ctx.dialogue = None
    return await ctx.services.dialogues.finish(ctx.owner, None if dialogue is None else dialogue.nonce)
