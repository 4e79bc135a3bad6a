"""Per-user message rate limit: one notice when a user floods, then silence until the window passes."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first message over the limit: tell the user once
    DROP = "drop"


class FloodGuard:
    """Sliding window in memory: flood state is not worth a database write per message."""

    def __init__(self, max_per_minute: int, monotonic: Callable[[], float]) -> None:
        self._max = max_per_minute
        self._now = monotonic
        self._seen: dict[str, deque[float]] = {}
        self._warned: set[str] = set()

    def check(self, key: str) -> Verdict:
        now = self._now()
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        if len(times) < self._max:
            times.append(now)
            self._warned.discard(key)
            if len(self._seen) > 10_000:
                self._prune(now)
            return Verdict.ALLOW
        if key in self._warned:
            return Verdict.DROP
        self._warned.add(key)
        return Verdict.WARN

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= WINDOW_SECONDS]:
            del self._seen[key]
            self._warned.discard(key)
