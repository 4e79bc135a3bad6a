"""The daily digest for groups that chose it: the total, today's progress, the next goal, a chart.

One digest per local day (its dedup key is the date), so a job run twice, or
again after a restart, queues it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import broadcast, charts, milestones
from bot.counts import next_goal
from storage import broadcasts as store
from storage.audit import record_in
from storage.count_history import CountHistoryRepository
from storage.subscriptions import DAILY, GROUPS

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

CHART_DAYS = 30
DIGEST_KEY = "digest"  # the message's key in content


@dataclass(frozen=True)
class Digest:
    """Today's digest: its numbers (total, today's progress, next goal) and its chart."""

    day: dt.date
    numbers: dict[str, int]
    chart: bytes


async def compose(services: Services) -> Digest:
    """The digest as it stands now (also shown to an admin by /point)."""
    now = services.clock.now()
    zone = services.settings.zone
    today = now.astimezone(zone).date()
    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=zone)
    history = CountHistoryRepository(services.db)
    totals = await services.counts.totals()
    before = await history.last_before(midnight)
    since = await history.since(midnight - dt.timedelta(days=CHART_DAYS))
    start_of_day = before.total if before is not None else (since[0].total if since else totals.total)
    campaign = services.content.campaign
    points = [(p.recorded_at, p.total) for p in since] + [(now, totals.total)]
    goal = next_goal(campaign, totals.total)
    marks = milestones.between(campaign, min(total for _, total in points) * 9 // 10, goal)
    lang = services.settings.default_language
    labels = charts.ChartLabels(
        title=services.template(lang, "chart_title").plain,
        total=services.template(lang, "chart_total").plain,
        milestone=services.template(lang, "chart_milestone").plain,
    )
    png = await charts.count_chart(points, marks, labels, zone)
    numbers = {"total": totals.total, "today": max(0, totals.total - start_of_day), "next_goal": goal}
    return Digest(today, numbers, png)


def dedup_key(day: dt.date) -> str:
    return f"digest:{day.isoformat()}"


async def send_digest(services: Services, by: str | None = None) -> tuple[int, int] | None:
    """Queue today's digest to the groups that chose it: (broadcast id, deliveries), None when already queued.

    `by`: the admin's tag when an admin sends it now; the audit row is written with it, in the same transaction.
    """
    now = services.clock.now()
    digest = await compose(services)
    async with services.db.transaction() as tx:
        created = await broadcast.enqueue(
            tx,
            services,
            store.NewBroadcast(
                kind=store.DIGEST,
                audience=GROUPS,
                body={"key": DIGEST_KEY, "numbers": digest.numbers},
                dedup_key=dedup_key(digest.day),
                created_by=by or "scheduler",
                created_at=now,
                send_at=now,
                image=digest.chart,
            ),
            now,
            group_kind=DAILY,
        )
        if created is not None and by is not None:
            await record_in(tx, by, "digest.send", f"id={created[0]}", now)
    if created is None:
        return None
    log.info("daily digest queued deliveries=%d", created[1])
    services.outbox.wake()
    return created
