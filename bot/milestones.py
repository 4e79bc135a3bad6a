"""Milestone announcements: each milestone announced once, ever.

The milestone's row is inserted in the same transaction that enqueues its
announcement, with the milestone as primary key: a restart, a second instance of
the job or a count that dips and rises again can never announce it twice. When
several milestones are crossed at once, the highest is announced and the lower
ones are recorded as passed. During quiet hours the deliveries are queued for the
end of the quiet window.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import TYPE_CHECKING

from bot import broadcast
from bot.content import Campaign
from bot.counts import next_goal
from storage import broadcasts as store
from storage.subscriptions import BOTH, MILESTONES

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)


class _AlreadyAnnounced(Exception):
    """Another instance recorded this milestone first: this transaction must leave no trace."""


def milestones_up_to(campaign: Campaign, total: int) -> list[int]:
    """Every milestone at or below `total`: the campaign's list, then every `step_after` beyond it."""
    found = [m for m in campaign.milestones if m <= total]
    last, step = campaign.milestones[-1], campaign.milestone_step_after
    value = last + step
    while step > 0 and value <= total:
        found.append(value)
        value += step
    return found


def after_quiet_hours(
    moment: dt.datetime, zone: zoneinfo.ZoneInfo, window: tuple[dt.time, dt.time] | None
) -> dt.datetime:
    """`moment` itself, or the end of the quiet window it falls in (windows may span midnight)."""
    if window is None:
        return moment
    start, end = window
    local = moment.astimezone(zone)
    t = local.time()
    if start == end:
        return moment
    if start < end:
        quiet = start <= t < end
        end_day = local.date()
    else:
        quiet = t >= start or t < end
        end_day = local.date() + dt.timedelta(days=1) if t >= start else local.date()
    if not quiet:
        return moment
    return dt.datetime.combine(end_day, end, tzinfo=zone).astimezone(dt.UTC)


async def check_milestones(services: Services) -> int | None:
    """Announce the highest newly crossed milestone, if any; returns it."""
    if not (services.outbounds or services.platforms):
        # No platform is running (the console): announcing now would reach nobody and
        # still mark the milestone as announced, so it waits for a run with platforms.
        return None
    totals = await services.counts.totals()
    crossed = milestones_up_to(services.content.campaign, totals.total)
    if not crossed:
        return None
    now = services.clock.now()
    try:
        return await _announce(services, crossed, totals.total, now)
    except _AlreadyAnnounced:
        log.info("milestone already announced by another run")
        return None


async def _announce(services: Services, crossed: list[int], total: int, now: dt.datetime) -> int | None:
    campaign = services.content.campaign
    async with services.db.transaction() as tx:
        recorded = await store.recorded_milestones_in(tx)
        new = [m for m in crossed if m not in recorded]
        if not new:
            return None
        highest = max(new)
        if any(m > highest for m in recorded):
            # The count went down and up again below a milestone already announced.
            for m in new:
                await store.record_milestone_in(tx, m, store.PASSED, total, None, now)
            return None
        send_at = after_quiet_hours(now, services.settings.zone, services.settings.quiet_window)
        created = await broadcast.enqueue(
            tx,
            services,
            store.NewBroadcast(
                kind=store.MILESTONE,
                audience=BOTH,
                body={
                    "key": "milestone_reached",
                    "numbers": {
                        "milestone": highest,
                        "total": total,
                        "next_goal": next_goal(campaign, highest),
                    },
                },
                dedup_key=f"milestone:{highest}",
                created_by="scheduler",
                created_at=now,
                send_at=send_at,
            ),
            send_at,
            group_kind=MILESTONES,
        )
        broadcast_id = created[0] if created else None
        if not await store.record_milestone_in(tx, highest, store.ANNOUNCED, total, broadcast_id, now):
            raise _AlreadyAnnounced  # another instance got there first: roll everything back
        for m in new:
            if m != highest:
                await store.record_milestone_in(tx, m, store.PASSED, total, None, now)
    log.info("milestone %d announced deliveries=%d deferred=%s", highest, created[1] if created else 0, send_at > now)
    if services.outbox is not None:
        services.outbox.wake()
    return highest
