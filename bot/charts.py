"""The digest's chart: the count over time with milestones marked, as PNG bytes.

Drawing takes tens of milliseconds of CPU, so it runs in a worker thread
(`asyncio.to_thread`) and never stalls replies. The Agg canvas needs no display,
and each chart uses its own `Figure`, never pyplot's global state, so drawing
from a thread is safe.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_SPAN = dt.timedelta(days=1)


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, from content, in the recipients' language."""

    title: str
    total: str
    milestone: str


def draw_count_chart(
    points: Sequence[tuple[dt.datetime, int]],
    milestones: Sequence[int],
    labels: ChartLabels,
    zone: dt.tzinfo = dt.UTC,
) -> bytes:
    # Imported when the first chart is drawn, not at start-up: matplotlib takes most of a second
    # to import, and the console chat starts with the scheduler.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    # Dates in the campaign's time zone, labelled by what changes (days, or hours within a day),
    # in numbers only: month names would come out in English whatever the campaign's language.
    locator = AutoDateLocator(tz=zone)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(
        ConciseDateFormatter(  # type: ignore[no-untyped-call]
            locator,
            tz=zone,
            formats=["%Y", "%m/%Y", "%d/%m", "%H:%M", "%H:%M", "%S"],
            zero_formats=["", "%Y", "%m/%Y", "%d/%m", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y", "%m/%Y", "%d/%m/%Y", "%d/%m/%Y", "%d/%m/%Y %H:%M"],
        )
    )
    if points:
        times: list[Any] = [p[0] for p in points]
        if times[-1] - times[0] < MIN_SPAN:
            # A young campaign's history spans seconds: show at least a day, not microsecond ticks.
            ax.set_xlim(times[-1] - MIN_SPAN, times[-1] + MIN_SPAN / 24)
        values = [p[1] for p in points]
        ax.step(times, values, where="post", color="#1f5fa8", linewidth=2, label=labels.total)
        low, high = min(values), max(values)
        shown = [m for m in milestones if low * 0.9 <= m <= high * 1.15] or [m for m in milestones if m > high][:1]
        for m in shown:
            ax.axhline(m, color="#c0392b", linestyle="--", linewidth=1)
            label = f"{labels.milestone} {m:,}".replace(",", "\u202f")
            ax.annotate(label, (0.01, m), xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
    ax.set_title(labels.title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")  # a count rises: that corner stays empty
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


async def count_chart(
    points: Sequence[tuple[dt.datetime, int]],
    milestones: Sequence[int],
    labels: ChartLabels,
    zone: dt.tzinfo = dt.UTC,
) -> bytes:
    return await asyncio.to_thread(draw_count_chart, points, milestones, labels, zone)
