"""Synapse's default rate limits (0.2 messages/s per sender after a burst of 10): nothing lost, nothing reordered.

A stock homeserver throttles the bot like any user. Interactive replies wait out
`retry_after_ms` and arrive complete and in order; the outbox's `deliver()` does
not wait, it reports `RateLimited` so the outbox reschedules. The supporter here
is exempted (admin API `override_ratelimit`) so only the bot is throttled.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.context import Context
from bot.events import Chat, ChatKind, RateLimited, Reply
from bot.markup import plain
from bot.router import Router
from handlers import build_routes
from tests.matrix_harness import MatrixWorld
from tests.synapse import Synapse, SynapseError

BURST = 30


@pytest.fixture(scope="module")
def stock_synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse-default-limits"), default_rate_limits=True)
    try:
        server.start()
    except SynapseError as exc:
        pytest.fail(f"the Matrix tests need a local Synapse: {exc}", pytrace=False)
    yield server
    server.stop()


async def echo(ctx: Context) -> None:
    await ctx.reply(plain(f"écho {ctx.args}"))


@pytest.mark.timeout(240)  # past the burst, the homeserver lets one reply through every ~5 s: about a minute
async def test_a_burst_of_30_replies_arrives_complete_and_in_order(tmp_path: Path, stock_synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, stock_synapse, flood_max_per_minute=1000) as world:
        assert world.bot is not None
        routes = build_routes()
        routes.command("echo", handler=echo)
        world.bot.router = Router(routes, world.bot.services)
        transport = await world.start()
        alice = await world.user()
        stock_synapse.exempt_from_rate_limits(alice.user_id)
        room = await alice.open_dm(world.bot_id)

        for i in range(1, BURST + 1):
            await alice.send(room, f"!echo {i}")
        replies = await alice.wait(room, replies=12)  # past the burst: the bot is being throttled
        with pytest.raises(RateLimited) as limited:
            await transport.deliver(Chat("matrix", room, ChatKind.PRIVATE), Reply(plain("annonce")))
        assert 0 < limited.value.retry_after < 60  # the outbox is told to come back later, at once

        while len(replies) < BURST:
            replies += await alice.wait(room, replies=1)
        assert [m.body for m in replies] == [f"écho {i}" for i in range(1, BURST + 1)]
