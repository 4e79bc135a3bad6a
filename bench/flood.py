"""Flood guard cost per message, from 1 000 to 100 000 distinct users all active in the window.

Each size runs the same number of messages, spread round-robin over that many users
in 30 s of simulated time (every user stays inside the 60 s window, the worst case
for memory, and has written once before the timing starts), through
`FloodGuard.check`; the best of five runs is kept. Figures are the cost per message and its
ratio to the 1 000-user cost measured in the same run; a flat cost means ratios near
1.0. The baseline is a bare `dict` counter increment per message, to show what the
machine does in the same time.

Run: .venv/bin/python -m bench.flood [--messages 300000]
"""

from __future__ import annotations

import argparse
import time

from bot.flood import FloodGuard

SIZES = (1_000, 10_000, 30_000, 100_000)
SPAN_SECONDS = 30.0


def per_message(users: int, messages: int) -> float:
    """Steady state: every user has written once before the timed messages start."""
    clock = [0.0]
    guard = FloodGuard(20, lambda: clock[0])
    keys = [f"user{i:06d}" for i in range(users)]
    for key in keys:
        guard.check(key)
    step = SPAN_SECONDS / messages
    started = time.perf_counter()
    for n in range(messages):
        clock[0] = n * step
        guard.check(keys[n % users])
    elapsed = time.perf_counter() - started
    assert len(guard) == users  # all of them still inside the window: nothing was forgotten
    return elapsed / messages


def baseline(users: int, messages: int) -> float:
    counts: dict[str, int] = {}
    keys = [f"user{i:06d}" for i in range(users)]
    started = time.perf_counter()
    for n in range(messages):
        key = keys[n % users]
        counts[key] = counts.get(key, 0) + 1
    return (time.perf_counter() - started) / messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300_000)
    args = parser.parse_args()
    print(f"flood guard: {args.messages:,} messages per size, all users active within {SPAN_SECONDS:.0f} s")
    print(f"{'users':>9}  {'µs/message':>10}  {'vs 1 000 users':>14}  {'bare dict µs':>12}  {'vs dict':>8}")
    first: float | None = None
    for users in SIZES:
        ours = min(per_message(users, args.messages) for _ in range(5))
        bare = min(baseline(users, args.messages) for _ in range(5))
        first = first or ours
        print(f"{users:>9,}  {ours * 1e6:>10.2f}  {ours / first:>13.2f}x  {bare * 1e6:>12.3f}  {ours / bare:>7.1f}x")


if __name__ == "__main__":
    main()
