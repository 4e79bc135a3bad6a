"""What the bot says when nothing else applies: unknown commands, stale choices, floods, failures, /annuler."""

from __future__ import annotations

from bot.context import Context


async def unknown_command(ctx: Context) -> None:
    """An unknown command (or an admin command from a non-admin) gets the list of commands."""
    await ctx.say("unknown_command")


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
