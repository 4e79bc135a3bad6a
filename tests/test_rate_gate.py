"""The rate gate every transport shares: a platform's "retry after" pauses every call on the account."""

from __future__ import annotations

import pytest

from bot.events import RateLimited
from bot.metrics import Metrics
from bot.transports.rate_gate import MAX_RETRIES, MAX_WAIT_SECONDS, RateGate
from tests.conftest import FakeClock


class Platform:
    """Answers each call with the next of `answers` ("ok" or a retry-after in seconds), recording when."""

    def __init__(self, clock: FakeClock, *answers: str | float) -> None:
        self.clock = clock
        self.answers = list(answers)
        self.calls: list[float] = []

    async def call(self) -> str:
        self.calls.append(self.clock.monotonic())
        answer = self.answers.pop(0) if self.answers else "ok"
        if isinstance(answer, str):
            return answer
        raise RateLimited(answer)


def limits(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("petition_bot_rate_limit_answers_total", {"sender": "test"}) or 0.0


async def test_a_reply_waits_out_the_pause_and_nothing_else_goes_out_meanwhile() -> None:
    clock, metrics = FakeClock(), Metrics()
    gate = RateGate("test", clock, metrics)
    platform = Platform(clock, 30.0)
    start = clock.monotonic()
    assert await gate.call(platform.call, wait=True) == "ok"
    assert [t - start for t in platform.calls] == [0, 30]  # the same call again, once the pause is over
    assert limits(metrics) == 1

    with pytest.raises(RateLimited):  # a later answer pauses the account again...
        await gate.call(Platform(clock, 10.0).call, wait=False)
    other = Platform(clock)
    with pytest.raises(RateLimited) as limited:  # ...and a broadcast meanwhile is not even tried
        await gate.call(other.call, wait=False)
    assert other.calls == [] and limited.value.retry_after == pytest.approx(10)
    assert limits(metrics) == 1  # the outbox counts its own


async def test_retries_are_bounded() -> None:
    clock = FakeClock()
    gate = RateGate("test", clock, Metrics())
    platform = Platform(clock, *([1.0] * (MAX_RETRIES + 5)))
    with pytest.raises(RateLimited):
        await gate.call(platform.call, wait=True)
    assert len(platform.calls) == MAX_RETRIES + 1


async def test_a_pause_longer_than_the_cap_is_not_waited_out() -> None:
    clock = FakeClock()
    gate = RateGate("test", clock, Metrics())
    platform = Platform(clock, MAX_WAIT_SECONDS + 1)
    with pytest.raises(RateLimited):
        await gate.call(platform.call, wait=True)
    assert len(platform.calls) == 1 and gate.paused_for() == pytest.approx(MAX_WAIT_SECONDS + 1)
