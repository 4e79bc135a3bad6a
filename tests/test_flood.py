"""The flood guard: the limit per user and per minute, a notice once, and memory that forgets quiet users."""

from __future__ import annotations

from bot.flood import WINDOW_SECONDS, FloodGuard, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_over_the_limit_one_notice_then_silence_until_the_window_passes() -> None:
    clock = Clock()
    guard = FloodGuard(3, clock)
    assert [guard.check("ana") for _ in range(5)] == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP]
    assert guard.check("bob") is Verdict.ALLOW  # others are not affected
    clock.now += WINDOW_SECONDS
    assert guard.check("ana") is Verdict.ALLOW


def test_the_window_slides_message_by_message() -> None:
    clock = Clock()
    guard = FloodGuard(2, clock)
    assert guard.check("ana") is Verdict.ALLOW
    clock.now = 30
    assert guard.check("ana") is Verdict.ALLOW
    assert guard.check("ana") is Verdict.WARN
    clock.now = 60  # the first message left the window, the second has not
    assert guard.check("ana") is Verdict.ALLOW
    assert guard.check("ana") is Verdict.WARN


def test_users_quiet_for_a_whole_window_are_forgotten_and_a_flooder_is_not() -> None:
    clock = Clock()
    guard = FloodGuard(2, clock)
    for i in range(1000):
        guard.check(f"user{i}")
    for _ in range(3):
        guard.check("flooder")
    assert len(guard) == 1001
    clock.now = WINDOW_SECONDS + 1
    assert guard.check("flooder") is Verdict.ALLOW
    assert len(guard) == 1  # the thousand quiet users are gone, the active one is kept
    assert guard.check("flooder") is Verdict.ALLOW
    assert guard.check("flooder") is Verdict.WARN  # still counted after the others were forgotten
