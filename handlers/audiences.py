"""Who can receive a broadcast, platform by platform: so an admin always knows why nobody would.

Broadcasts reach followers and subscribed groups only on the platforms running in
this process; people registered on another platform wait for it. When a broadcast
or a digest would reach nobody, the admin sees these figures instead of a bare no.
"""

from __future__ import annotations

from bot import formatting
from bot.context import Context
from bot.markup import Rich, join
from storage import broadcasts as store


async def platforms_report(ctx: Context) -> Rich:
    """One line per platform (running or holding followers or groups): its followers and groups."""
    figures = await ctx.services.stats.figures()
    followers, groups = figures.followers, figures.groups
    running = set(ctx.services.outbounds)
    lines = []
    for platform in sorted(running | set(followers) | set(groups)):
        lines.append(
            ctx.t(
                "audience_platform_running" if platform in running else "audience_platform_stopped",
                platform=platform,
                followers=followers.get(platform, 0),
                groups=groups.get(platform, 0),
            )
        )
    if not running:
        lines.insert(0, ctx.t("audience_no_platform"))
    return join(lines, "\n")


async def tell_milestone(ctx: Context, milestone: int) -> None:
    """The admin whose count crossed a milestone learns where its announcement goes, and when."""
    s = ctx.services
    async with s.db.read() as tx:
        record = await store.milestone_in(tx, milestone)
    announcement = await s.broadcasts.get(record.broadcast_id) if record and record.broadcast_id else None
    count = (await s.deliveries.progress(announcement.id)).total if announcement else 0
    shown = formatting.number(milestone, ctx.lang)
    if count == 0:
        await ctx.say("milestone_told_nobody", milestone=shown, platforms=await platforms_report(ctx))
    elif announcement is not None and announcement.send_at > ctx.now:
        when = formatting.date_time(announcement.send_at.astimezone(s.settings.zone), ctx.lang)
        await ctx.say("milestone_told_later", milestone=shown, count=count, when=when, quiet=s.settings.quiet_hours)
    else:
        await ctx.say("milestone_told_now", milestone=shown, count=count)
