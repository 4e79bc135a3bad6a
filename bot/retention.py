"""The retention purge: once the campaign is over and its retention period passed, personal data goes.

Everyone's personal data goes in one transaction, by the same operation as a
person's /oublier (`storage.purge.erase_in`); the counters and anonymous daily
counts stay, so the campaign's history survives without anyone in it. The scheduler runs this daily;
before the purge date it does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.content import Campaign
from storage.db import Database
from storage.purge import PersonalRows, count_personal_in, erase_in

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    purge_date: dt.date
    due: bool
    dry_run: bool
    rows: PersonalRows  # deleted, or that would be deleted on a dry run (zero when not due)


def purge_date(campaign: Campaign) -> dt.date:
    """The first day on which personal data must be gone: end date + retention days."""
    return campaign.end_date + dt.timedelta(days=campaign.retention_days)


async def purge(db: Database, campaign: Campaign, now: dt.datetime, dry_run: bool = False) -> PurgeReport:
    """Delete every personal row if the purge date has come; with `dry_run`, only count them."""
    when = purge_date(campaign)
    due = now.date() >= when
    if not due:
        return PurgeReport(when, False, dry_run, PersonalRows(0, 0, 0, 0, 0))
    if dry_run:
        async with db.read() as tx:
            rows = await count_personal_in(tx)
        return PurgeReport(when, True, True, rows)
    async with db.transaction() as tx:
        rows = (await erase_in(tx, None, now)).rows
    log.info(
        "retention purge signatures=%d contacts=%d dialogues=%d preferences=%d deliveries=%d",
        rows.signatures,
        rows.contacts,
        rows.dialogues,
        rows.preferences,
        rows.deliveries,
    )
    return PurgeReport(when, True, False, rows)
