"""The petition's published count, fetched from its page and checked before it is believed.

The page is fetched over HTTP and the number found with the campaign's pattern (one
group). Numbers are written the French or English way ("18 882", "18.882",
"18,882", with ordinary, no-break or narrow no-break spaces). A failed or
implausible poll keeps the last good value: it is logged, never announced.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from bot.arguments import ArgumentError, parse_count
from bot.counts import set_official_in, totals_in
from storage.count_history import add_in

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_PAGE_BYTES = 2_000_000
MAX_DROP = 0.10  # a published count never falls by more than 10 %: a misread page
MAX_RISE = 2.0  # nor doubles between two polls (a "10×" value is a parsing accident)


class CountSourceError(Exception):
    """Why a poll's value was not accepted (no personal data, safe to log)."""


def parse_number(text: str) -> int:
    """ "18 882", "18.882", "18,882", "18\u202f882" or "18882" → 18882 (ASCII digits); anything else is refused."""
    try:
        # The page's pattern may catch the punctuation or space that follows the number.
        return parse_count(text.strip().strip(".,").strip())
    except ArgumentError:
        raise CountSourceError("the matched text is not a whole number in range") from None


def extract_count(page: str, pattern: str) -> int:
    match = re.search(pattern, page)
    if match is None:
        raise CountSourceError("the pattern does not match the page")
    return parse_number(match.group(1))


def check_plausible(value: int, last_good: int | None) -> None:
    if value <= 0:
        raise CountSourceError("the count is not positive")
    if last_good is None or last_good <= 0:
        return
    if value < last_good * (1 - MAX_DROP):
        raise CountSourceError(f"the count fell by more than {MAX_DROP:.0%}")
    if value > last_good * MAX_RISE:
        raise CountSourceError(f"the count grew more than {MAX_RISE:g}-fold since the last poll")


@dataclass(frozen=True)
class PollResult:
    value: int | None
    error: str | None = None
    changed: bool = False


async def fetch_page(url: str, wait_seconds: float = TIMEOUT_SECONDS) -> str:
    try:
        async with httpx.AsyncClient(timeout=wait_seconds, follow_redirects=True) as client:
            response = await client.get(url, headers={"User-Agent": "petition-bot (count poll)"})
    except httpx.TimeoutException:
        raise CountSourceError("the petition page did not answer in time") from None
    except httpx.HTTPError as exc:
        raise CountSourceError(f"the petition page is unreachable ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise CountSourceError(f"the petition page answered HTTP {response.status_code}")
    if len(response.content) > MAX_PAGE_BYTES:
        raise CountSourceError("the petition page is unexpectedly large")
    return response.text


async def poll_count(services: Services, wait_seconds: float = TIMEOUT_SECONDS) -> PollResult:
    """Fetch, parse and check the published count; store it and its history when it is believed."""
    settings = services.settings
    campaign = services.content.campaign
    url = settings.count_source_url or campaign.count_source_url
    pattern = settings.count_source_pattern or campaign.count_source_pattern
    if not url or not pattern:
        return PollResult(None, "no count source configured")
    totals = await services.counts.totals()
    try:
        value = extract_count(await fetch_page(url, wait_seconds), pattern)
        check_plausible(value, totals.official)
    except CountSourceError as exc:
        log.warning("count poll rejected, keeping %d: %s", totals.official, exc)
        return PollResult(None, str(exc))
    changed = value != totals.official
    if changed:
        await set_official_count(services, value, "poll")
        log.info("count poll: official count now %d (was %d)", value, totals.official)
    return PollResult(value, None, changed)


async def set_official_count(services: Services, value: int, source: str) -> None:
    """Store the official count and its point in the history (for the digest's chart), together."""
    now = services.clock.now()
    async with services.db.transaction() as tx:
        await set_official_in(tx, value, now)
        totals = await totals_in(tx, services.content)
        await add_in(tx, now, totals.official, totals.bot, source)


async def record_count(services: Services, source: str) -> bool:
    async with services.db.transaction() as tx:
        totals = await totals_in(tx, services.content)
        return await add_in(tx, services.clock.now(), totals.official, totals.bot, source)
