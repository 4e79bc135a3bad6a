"""One platform's rate-limit pause, shared by every call the bot makes on its account.

Telegram (429 `retry_after`) and Matrix (`M_LIMIT_EXCEEDED` `retry_after_ms`) limit
the bot's account as a whole, so a rate-limit answer to one call pauses all of
them: nothing reaches the platform before the pause is over. Each transport
translates its platform's answer into `RateLimited` inside the call it hands to
`RateGate.call`; the gate does the rest the same way on every platform:

- `wait=True` (interactive replies: someone is waiting for the answer): wait the
  pause out and try the same call again, at most `MAX_RETRIES` times, and never
  wait longer than `MAX_WAIT_SECONDS` in all; past either, `RateLimited` reaches
  the caller and the reply is reported as not delivered.
- `wait=False` (the broadcast outbox's `deliver`): never wait; during a pause, or
  on a rate-limit answer, raise `RateLimited` at once, so the outbox holds that
  platform's lane and reschedules instead of holding a task.

Pauses are timed and slept through the injected clock, so a test's clock drives them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.events import RateLimited

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRIES = 5  # rate-limit answers in a row for one interactive call before it is given up
MAX_WAIT_SECONDS = 600.0  # and at most this long waited for it in all


class RateGate:
    def __init__(
        self,
        platform: str,
        clock: Clock,
        metrics: Metrics,
        *,
        max_retries: int = MAX_RETRIES,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.platform = platform
        self._clock = clock
        self._metrics = metrics
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._paused_until = 0.0

    def paused_for(self) -> float:
        """Seconds before anything may reach the platform again (0 when it may now)."""
        return max(0.0, self._paused_until - self._clock.monotonic())

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)
        log.warning("%s rate limit: pausing %.1f s", self.platform, seconds)

    async def call(self, attempt: Callable[[], Awaitable[T]], *, wait: bool) -> T:
        """`attempt()` once the pause is over; on `RateLimited`, pause and (when `wait`) try it again."""
        retries = 0
        waited = 0.0
        while True:
            remaining = self.paused_for()
            if remaining > 0:
                if not wait or waited + remaining > self._max_wait:
                    raise RateLimited(remaining)
                await self._clock.sleep(remaining)
                waited += remaining
                continue
            try:
                return await attempt()
            except RateLimited as limited:
                self.pause(limited.retry_after)
                if not wait:
                    raise  # the outbox counts its own
                self._metrics.rate_limited(self.platform)
                retries += 1
                if retries > self._max_retries or waited + limited.retry_after > self._max_wait:
                    raise
