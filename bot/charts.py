"""The digest's chart: the count over time with milestones marked, as PNG bytes.

Drawing takes tens of milliseconds of CPU, so it runs in a worker thread
(`asyncio.to_thread`) and never stalls replies. The Agg backend needs no display,
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

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, from content, in the recipients' language."""

    title: str
    total: str
    milestone: str


def draw_count_chart(
    points: Sequence[tuple[dt.datetime, int]], milestones: Sequence[int], labels: ChartLabels
) -> bytes:
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if points:
        times: list[Any] = [p[0] for p in points]
        values = [p[1] for p in points]
        ax.step(times, values, where="post", color="#1f5fa8", linewidth=2, label=labels.total)
        low, high = min(values), max(values)
        shown = [m for m in milestones if low * 0.9 <= m <= high * 1.15] or [m for m in milestones if m > high][:1]
        for m in shown:
            ax.axhline(m, color="#c0392b", linestyle="--", linewidth=1)
            ax.annotate(f"{labels.milestone} {m:,}".replace(",", "\u202f"), (times[0], m), fontsize=8, va="bottom")
    ax.set_title(labels.title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


async def count_chart(
    points: Sequence[tuple[dt.datetime, int]], milestones: Sequence[int], labels: ChartLabels
) -> bytes:
    return await asyncio.to_thread(draw_count_chart, points, milestones, labels)
