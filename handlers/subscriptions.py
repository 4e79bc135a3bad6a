"""Group subscriptions: a group's admins choose milestone announcements, the daily digest, or both."""

from __future__ import annotations

import logging

from bot.context import Context
from bot.sanitize import fold
from storage.subscriptions import DAILY, KINDS, MILESTONES

log = logging.getLogger(__name__)

_WORDS = {
    "jalons": (MILESTONES,),
    "jalon": (MILESTONES,),
    "milestones": (MILESTONES,),
    "milestone": (MILESTONES,),
    "quotidien": (DAILY,),
    "daily": (DAILY,),
    "digest": (DAILY,),
    "tout": KINDS,
    "all": KINDS,
    "": KINDS,
}


def kinds_label(ctx: Context, kinds: tuple[str, ...] | list[str]) -> str:
    """« les objectifs franchis et le point quotidien »."""
    labels = [ctx.label(f"kind_{kind}") for kind in kinds]
    if len(labels) < 2:
        return "".join(labels)
    return ctx.label("kinds_and", first=", ".join(labels[:-1]), last=labels[-1])


async def _group_admin(ctx: Context) -> bool:
    """Only in a group, and only from one of its admins (Telegram administrators, Matrix power ≥ 50)."""
    chat = ctx.event.chat
    if not chat.is_group:
        await ctx.say("subscribe_group_only")
        return False
    if not await ctx.outbound.is_chat_admin(chat, ctx.event.sender.id):
        log.info("subscription refused: not a group admin transport=%s user=%s", chat.transport, ctx.user_tag)
        await ctx.say("subscribe_not_admin")
        return False
    return True


async def subscribe(ctx: Context) -> None:
    """/abonner [jalons|quotidien]: the group receives milestone announcements, the daily digest, or both."""
    word = fold(ctx.args.split()[0]) if ctx.args.split() else ""
    kinds = _WORDS.get(word)
    if kinds is None:
        await ctx.say("subscribe_unknown_kind")
        return
    if not await _group_admin(ctx):
        return
    chat = ctx.event.chat
    await ctx.services.subscriptions.subscribe(chat.transport, chat.id, kinds, ctx.lang, ctx.now)
    log.info("group subscribed transport=%s kinds=%s user=%s", chat.transport, ",".join(kinds), ctx.user_tag)
    await ctx.say("subscribed", what=kinds_label(ctx, kinds))


async def unsubscribe(ctx: Context) -> None:
    """/desabonner: the group receives nothing more from the bot unless asked again."""
    if not await _group_admin(ctx):
        return
    chat = ctx.event.chat
    ended = await ctx.services.subscriptions.unsubscribe(chat.transport, chat.id)
    log.info("group unsubscribed transport=%s ended=%d user=%s", chat.transport, ended, ctx.user_tag)
    await ctx.say("unsubscribed" if ended else "not_subscribed")
