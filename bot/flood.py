"""Per-user message rate limit: one notice when a user floods, then silence until the window passes."""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first message over the limit: tell the user once
    DROP = "drop"


class FloodGuard:
    """Sliding window in memory: flood state is not worth a database write per message.

    The cost of a message does not grow with the number of users: each user's
    times are a deque trimmed from the left, and users are kept in the order they
    last wrote, so those quiet for a whole window are forgotten from the front,
    each once (amortised constant time, and memory bounded by the active users).
    """

    def __init__(self, max_per_minute: int, monotonic: Callable[[], float]) -> None:
        self._max = max_per_minute
        self._now = monotonic
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._warned: set[str] = set()

    def check(self, key: str) -> Verdict:
        now = self._now()
        self._forget_quiet(now)
        times = self._seen.get(key)
        if times is None:
            times = self._seen[key] = deque()
        else:
            self._seen.move_to_end(key)
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        if len(times) < self._max:
            times.append(now)
            self._warned.discard(key)
            return Verdict.ALLOW
        if key in self._warned:
            return Verdict.DROP
        self._warned.add(key)
        return Verdict.WARN

    def _forget_quiet(self, now: float) -> None:
        """Drop, from the least recently active end, users with nothing left in the window."""
        while self._seen:
            key, times = next(iter(self._seen.items()))
            if times and now - times[-1] < WINDOW_SECONDS:
                return
            del self._seen[key]
            self._warned.discard(key)

    def __len__(self) -> int:
        """Users currently remembered (for tests and benchmarks)."""
        return len(self._seen)
