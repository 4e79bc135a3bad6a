"""Who can receive a broadcast, platform by platform: so an admin always knows why nobody would.

Broadcasts reach followers and subscribed groups only on the platforms running in
this process; people registered on another platform wait for it. When a broadcast
or a digest would reach nobody, the admin sees these figures instead of a bare no.
"""

from __future__ import annotations

from bot.context import Context
from bot.markup import Rich, join
from storage.stats import StatsRepository


async def platforms_report(ctx: Context) -> Rich:
    """One line per platform (running or holding followers or groups): its followers and groups."""
    figures = await StatsRepository(ctx.services.db).figures()
    followers, groups = figures.followers or {}, figures.groups or {}
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
