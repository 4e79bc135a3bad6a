"""The signature count: the petition's published figure plus what the bot collected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.content import Campaign, Content
from storage import kv
from storage.db import Transaction
from storage.kv import KeyValueRepository
from storage.signatures import count_in

OFFICIAL_KEY = "count.official"
OFFICIAL_AT_KEY = "count.official_at"


@dataclass(frozen=True)
class Totals:
    official: int
    official_at: dt.date | None  # None: the content's count, for which the source gives no date
    bot: int

    @property
    def total(self) -> int:
        return self.official + self.bot


def next_goal(campaign: Campaign, total: int) -> int:
    """The first milestone above `total`; past the list, every `step_after` beyond the last one."""
    for goal in campaign.milestones:
        if goal > total:
            return goal
    last, step = campaign.milestones[-1], campaign.milestone_step_after
    return last + ((total - last) // step + 1) * step


class Counts:
    def __init__(
        self,
        kv: KeyValueRepository,
        content: Content,
        bot_signatures: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._kv = kv
        self._content = content
        self._bot_signatures = bot_signatures

    async def totals(self) -> Totals:
        official = await self._kv.get(OFFICIAL_KEY)
        official_at = await self._kv.get(OFFICIAL_AT_KEY)
        bot = await self._bot_signatures() if self._bot_signatures else 0
        return _totals(self._content, official, official_at, bot)

    async def set_official(self, value: int, at: dt.datetime) -> None:
        async with self._kv.db.transaction() as tx:
            await set_official_in(tx, value, at)


def _totals(content: Content, official: str | None, official_at: str | None, bot: int) -> Totals:
    petition = content.petition
    return Totals(
        official=int(official) if official else petition.published_count,
        official_at=dt.date.fromisoformat(official_at[:10]) if official_at else petition.published_count_date,
        bot=bot,
    )


async def totals_in(tx: Transaction, content: Content) -> Totals:
    """The totals as the caller's transaction sees them (to change the count and record it together)."""
    official = await kv.get_in(tx, OFFICIAL_KEY)
    official_at = await kv.get_in(tx, OFFICIAL_AT_KEY)
    return _totals(content, official, official_at, await count_in(tx))


async def set_official_in(tx: Transaction, value: int, at: dt.datetime) -> None:
    await kv.set_in(tx, OFFICIAL_KEY, str(value), at)
    await kv.set_in(tx, OFFICIAL_AT_KEY, at.isoformat(), at)
