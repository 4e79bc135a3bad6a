"""Parsers of the arguments admins type after a command: strict, bounded, and explicit about what is wrong.

A tired admin's typo must never become a count of 10¹¹, a date in year 9999 or a
time that does not exist on the clock. Each parser accepts one plain form (ASCII
digits, an ISO date), checks explicit bounds, and otherwise raises `ArgumentError`
with the message key (and values) that tells the admin what was wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

MAX_COUNT = 1_000_000_000  # far above any petition; a typo's extra digits land beyond it
MAX_BROADCAST_ID = 10**12  # far beyond any real id; larger numbers are "no such broadcast"
SCHEDULE_HORIZON_DAYS = 366  # /programmer: from now to one year ahead
_SHOWN_CHARS = 24  # how much of a refused argument is quoted back

# Thousands separators written in French and English: space, no-break space, narrow
# no-break space, dot, comma. One kind per number, between groups of exactly three.
_SEPARATORS = " \u00a0\u202f.,"
_PLAIN = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:([ \u00a0\u202f.,])[0-9]{3})(?:\1[0-9]{3})*")
_SCHEDULE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]+([0-9]{1,2})[:hH]([0-9]{2})")


class ArgumentError(Exception):
    """What was wrong with an argument, as a message key and the values it shows."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def shown(text: str) -> str:
    """A refused argument quoted back to the admin, clipped."""
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def parse_count(text: str, limit: int = MAX_COUNT) -> int:
    """ "18 882", "18.882", "18,882", "18\u202f882" or "18882" → 18882, from 0 to `limit`."""
    cleaned = text.strip()
    if not cleaned:
        raise ArgumentError("count_usage")
    if _PLAIN.fullmatch(cleaned) is None and _GROUPED.fullmatch(cleaned) is None:
        if any(ch.isdigit() and not ch.isascii() for ch in cleaned):
            raise ArgumentError("count_not_ascii", text=shown(cleaned))
        if all(ch.isdigit() or ch in _SEPARATORS for ch in cleaned) and cleaned[0].isdigit():
            raise ArgumentError("count_bad_grouping", text=shown(cleaned))
        raise ArgumentError("count_not_a_number", text=shown(cleaned))
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    # The length is checked before int(): a thousand digits must cost nothing.
    if len(digits.lstrip("0")) > len(str(limit)) or int(digits) > limit:
        raise ArgumentError("count_too_large", limit=limit)
    return int(digits)


def parse_broadcast_id(text: str) -> int:
    """ "3" or "#3" → 3; larger than any real id is "no such broadcast", never an overflow."""
    cleaned = text.strip().removeprefix("#").strip()
    if _PLAIN.fullmatch(cleaned) is None:
        raise ArgumentError("cancel_broadcast_usage")
    if len(cleaned.lstrip("0")) > len(str(MAX_BROADCAST_ID)) or not 1 <= int(cleaned) <= MAX_BROADCAST_ID:
        raise ArgumentError("cancel_broadcast_unknown", id=shown(cleaned))
    return int(cleaned)


def parse_schedule(text: str, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> dt.datetime:
    """ "2026-12-24 18:30", local time in `zone` → that moment in UTC, from now to one year ahead.

    A local time that the clocks skip (spring forward) or show twice (fall back) is
    refused with the nearest times that exist once.
    """
    match = _SCHEDULE.fullmatch(text.strip())
    if match is None:
        raise ArgumentError("schedule_unparsable")
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        wanted = dt.datetime(year, month, day, hour, minute)
    except ValueError:
        raise ArgumentError("schedule_no_such_date", date=match.group(0)) from None
    # Bounds are checked on wall-clock times first: no time-zone arithmetic near year 1 or 9999.
    local_now = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    latest = local_now + dt.timedelta(days=SCHEDULE_HORIZON_DAYS)
    if wanted <= local_now:
        raise ArgumentError("schedule_past", when=wanted)
    if wanted > latest:
        raise ArgumentError("schedule_too_far", latest=latest)
    problem = _clock_problem(wanted, zone)
    if problem is not None:
        before, after = _nearest_unique(wanted, zone)
        raise ArgumentError(problem, when=wanted, before=before, after=after)
    moment = wanted.replace(tzinfo=zone).astimezone(dt.UTC)
    if moment <= now:
        raise ArgumentError("schedule_past", when=wanted)
    return moment


def _clock_problem(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> str | None:
    """ "schedule_skipped" when clocks jump over `local`, "schedule_twice" when they show it twice."""
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    return "schedule_skipped" if back != local else "schedule_twice"


def _nearest_unique(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The closest minutes before and after `local` that exist exactly once (a DST change lasts hours at most)."""
    step = dt.timedelta(minutes=1)
    before, after = local - step, local + step
    for _ in range(24 * 60):
        if _clock_problem(before, zone) is None:
            break
        before -= step
    for _ in range(24 * 60):
        if _clock_problem(after, zone) is None:
            break
        after += step
    return before, after
