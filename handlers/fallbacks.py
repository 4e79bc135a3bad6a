"""What the bot says when nothing else applies: unknown commands, stale choices, floods, failures, /annuler."""

from __future__ import annotations

from bot.choices import within_typos
from bot.content import LANGUAGES
from bot.context import Context
from bot.sanitize import fold
from handlers.info import COMMAND

# "/singer", "/retier", "/unsing": one letter wrong, missing, extra or swapped; two from 7 letters on.
_TYPOS = ((7, 2), (4, 1))


async def unknown_command(ctx: Context) -> None:
    """An unknown command (or an admin command from a non-admin) gets the list of commands, or the one
    command it is a typo of, to press."""
    typed = fold(ctx.args.lower())
    offered = [c for c in ctx.services.commands if not c.admin and c.menu_key is not None]
    names = [(i, c) for c in offered for i in range(len(c.names))]
    nearest = within_typos(typed, [fold(c.names[i]) for i, c in names], _TYPOS)
    meant = {c.names[0]: (i, c) for i, c in (names[n] for n in nearest)}
    if len(meant) != 1:
        await ctx.say("unknown_command")
        return
    position, command = next(iter(meant.values()))
    if len(set(command.names)) > 1:
        ctx.lang = LANGUAGES[min(position, len(LANGUAGES) - 1)]  # "/unsing": English
    name = command.name_in(ctx.lang)
    await ctx.say("unknown_command_typo", [COMMAND.choice(f"/{name}", command.names[0])], command=f"/{name}")


async def expired_choice(ctx: Context) -> None:
    """A choice pressed on a question that was answered, cancelled or timed out."""
    await ctx.say("expired_choice")


async def flooded(ctx: Context) -> None:
    """Sent once when a user exceeds the per-minute limit; further messages are ignored for a while."""
    await ctx.say("flooded")


async def failure(ctx: Context) -> None:
    await ctx.say("failure")


async def cancel(ctx: Context) -> None:
    """/annuler: ends whatever dialogue is open, at any step."""
    if await ctx.services.dialogues.finish(ctx.owner):
        await ctx.say("cancelled")
    else:
        await ctx.say("nothing_to_cancel")
