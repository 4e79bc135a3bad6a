"""Milestone announcements: each milestone announced once, ever, and never more than the highest crossed.

What to announce is computed, not stored step by step: the highest milestone the
total has reached (from the campaign's list, then every `step_after`), compared
with the highest milestone announced so far. Crossing several at once announces
the highest once; a count that dips and rises again announces nothing. The
milestone's row is written in the transaction that enqueues its announcement, with
a compare-and-set, so a restart or a second instance can never announce it twice.

The one exception is an admin's correction: when `/compteur_officiel` sets the
count below milestones already announced, those are withdrawn (what was not sent
yet is cancelled) and each is announced again when the count really reaches it.
During quiet hours the deliveries are queued for the end of the quiet window.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import broadcast
from bot.content import Campaign
from bot.counts import next_goal
from storage import broadcasts as store
from storage import outbox
from storage.db import Transaction
from storage.subscriptions import BOTH, MILESTONES

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)


class _AlreadyAnnounced(Exception):
    """Another instance recorded this milestone first: this transaction must leave no trace."""


# Arithmetic on the campaign's milestones: constant time whatever the count ------------


def reached(campaign: Campaign, total: int) -> int | None:
    """The highest milestone at or below `total`, or None below the first one."""
    listed = campaign.milestones
    index = bisect.bisect_right(listed, total)
    if index == 0:
        return None
    last, step = listed[-1], campaign.milestone_step_after
    if index == len(listed) and step > 0:
        return last + (total - last) // step * step
    return listed[index - 1]


def count_up_to(campaign: Campaign, total: int) -> int:
    """How many milestones are at or below `total`."""
    listed = bisect.bisect_right(campaign.milestones, total)
    last, step = campaign.milestones[-1], campaign.milestone_step_after
    return listed + ((total - last) // step if step > 0 and total > last else 0)


def crossed_between(campaign: Campaign, a: int, b: int) -> int:
    """How many milestones a change of the total from `a` to `b` (either way) crosses."""
    low, high = sorted((a, b))
    return count_up_to(campaign, high) - count_up_to(campaign, low)


def between(campaign: Campaign, low: int, high: int, limit: int = 12) -> list[int]:
    """Milestones in [low, high], at most `limit` of them (the highest), for a chart."""
    found: list[int] = []
    value = reached(campaign, high)
    while value is not None and value >= low and len(found) < limit:
        found.append(value)
        value = reached(campaign, value - 1)
    return sorted(found)


# What a change of the count would do ---------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """What setting the total to a new value would announce or withdraw."""

    announce: int | None  # the milestone that would be announced
    withdraw: tuple[int, ...]  # announced milestones above the new total
    crossed: int  # milestones between the old and the new total


async def effect_in(tx: Transaction, campaign: Campaign, old_total: int, new_total: int) -> Effect:
    withdraw = tuple(m.milestone for m in await store.announced_above_in(tx, new_total))
    top = await store.highest_announced_in(tx, at_most=new_total)  # what stays announced
    target = reached(campaign, new_total)
    announce = target if target is not None and (top is None or target > top) else None
    return Effect(announce, withdraw, crossed_between(campaign, old_total, new_total))


async def withdraw_above_in(tx: Transaction, total: int, now: dt.datetime) -> list[store.MilestoneRecord]:
    """An admin's correction: milestones announced above the corrected total are withdrawn.

    Their deliveries not yet sent are cancelled, and each milestone will be
    announced again when the count really reaches it.
    """
    withdrawn = []
    for record in await store.announced_above_in(tx, total):
        if await store.withdraw_milestone_in(tx, record.milestone, now):
            withdrawn.append(record)
            if record.broadcast_id is not None and await store.cancel_in(tx, record.broadcast_id, now):
                await outbox.cancel_in(tx, record.broadcast_id, now)
    return withdrawn


# Quiet hours -----------------------------------------------------------------------------


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


# The job ---------------------------------------------------------------------------------


async def check_milestones(services: Services) -> int | None:
    """Announce the highest milestone reached, if it is above every milestone announced; returns it."""
    if not (services.outbounds or services.platforms):
        # No platform is running (the console): announcing now would reach nobody and
        # still mark the milestone as announced, so it waits for a run with platforms.
        return None
    totals = await services.counts.totals()
    target = reached(services.content.campaign, totals.total)
    if target is None:
        return None
    async with services.db.read() as tx:
        top = await store.highest_announced_in(tx)
    if top is not None and target <= top:
        return None  # the usual case, every minute: no write lock taken
    try:
        return await _announce(services, target, totals.total, services.clock.now())
    except _AlreadyAnnounced:
        log.info("milestone already announced by another run")
        return None


async def _announce(services: Services, milestone: int, total: int, now: dt.datetime) -> int | None:
    campaign = services.content.campaign
    async with services.db.transaction() as tx:
        top = await store.highest_announced_in(tx)
        if top is not None and milestone <= top:
            return None
        previous = await store.milestone_in(tx, milestone)
        times = 1 if previous is None else previous.announcements + 1
        send_at = after_quiet_hours(now, services.settings.zone, services.settings.quiet_window)
        created = await broadcast.enqueue(
            tx,
            services,
            store.NewBroadcast(
                kind=store.MILESTONE,
                audience=BOTH,
                body={
                    "key": "milestone_reached",
                    "numbers": {"milestone": milestone, "total": total, "next_goal": next_goal(campaign, milestone)},
                },
                dedup_key=f"milestone:{milestone}" if times == 1 else f"milestone:{milestone}:{times}",
                created_by="scheduler",
                created_at=now,
                send_at=send_at,
            ),
            send_at,
            group_kind=MILESTONES,
        )
        broadcast_id = created[0] if created else None
        if not await store.record_announcement_in(tx, milestone, total, broadcast_id, now, previous):
            raise _AlreadyAnnounced  # another instance got there first: roll everything back
    log.info("milestone %d announced deliveries=%d deferred=%s", milestone, created[1] if created else 0, send_at > now)
    services.outbox.wake()
    return milestone
