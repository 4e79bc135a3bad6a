"""/point: an admin sees the daily digest now, exactly as subscribed groups receive it, and may send it at once.

The digest normally leaves at DIGEST_TIME; an admin checking the numbers or the
chart should not have to wait for it. Sending it now uses the day's digest (one
per day, keyed by the date), so the scheduled run then sends nothing more today.
"""

from __future__ import annotations

import logging

from bot import broadcast, digest
from bot.choices import YES
from bot.context import Context
from bot.router import ChoiceRoute
from handlers.admin import private_only
from handlers.audiences import platforms_report
from storage.subscriptions import DAILY, GROUPS

log = logging.getLogger(__name__)


async def show_digest(ctx: Context) -> None:
    """/point: today's digest here (text and chart), then who receives it and when."""
    if not await private_only(ctx):
        return
    s = ctx.services
    time = s.settings.digest_time
    today = await digest.compose(s)
    await ctx.say("digest_preview_header", time=time)
    preview = broadcast.announcement(s.content, digest.DIGEST_KEY, today.numbers, today.chart, ctx.lang)
    await ctx.reply(preview.text, image=preview.image)
    if await s.broadcasts.by_key(digest.dedup_key(today.day)) is not None:
        await ctx.say("digest_preview_sent_today", time=time)
        return
    groups = await broadcast.recipients(s, GROUPS, DAILY)
    if groups == 0:
        await ctx.say("digest_preview_no_groups", platforms=await platforms_report(ctx))
        return
    send = SEND_NOW.choice(ctx.label("choice_digest_send_now"), "send", meaning=YES)
    await ctx.say("digest_preview_groups", [send], count=groups, time=time)


async def send_now(ctx: Context) -> None:
    """**Envoyer maintenant**: today's digest goes to the subscribed groups at once; pressed twice, once."""
    if not ctx.is_admin:
        await ctx.say("expired_choice")
        return
    s = ctx.services
    created = await digest.send_digest(s, by=ctx.user_tag)  # the broadcast and its audit row, together
    if created is None:
        await ctx.say("digest_already_sent")
        return
    _, count = created
    log.info("admin action=digest.send user=%s", ctx.user_tag)
    await ctx.say("digest_sent_now", count=count, time=s.settings.digest_time)


SEND_NOW = ChoiceRoute("digest", send_now)
