"""Numbers and dates the way each language writes them ("18 882" in French, "18,882" in English)."""

from __future__ import annotations

import datetime as dt

_MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def number(value: int, lang: str) -> str:
    grouped = f"{value:,}"
    # French groups digits with a narrow no-break space.
    return grouped.replace(",", "\u202f") if lang == "fr" else grouped


def date(value: dt.date, lang: str) -> str:
    if lang == "fr":
        day = "1er" if value.day == 1 else str(value.day)
        return f"{day} {_MONTHS_FR[value.month - 1]} {value.year}"
    return value.strftime("%B %-d, %Y")


def date_time(value: dt.datetime, lang: str) -> str:
    if lang == "fr":
        return f"{date(value.date(), lang)} à {value:%H:%M}"
    return f"{date(value.date(), lang)} at {value:%H:%M}"
