"""The outbox: every destination once, gone chats dropped, 429 pauses honoured, transient errors retried."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from bot import broadcast
from bot.app import Bot
from bot.events import ChatGone, RateLimited, TransientError
from bot.outbox import MAX_ATTEMPTS, Outbox
from bot.pacer import Pacer
from storage import broadcasts as store
from storage.outbox import OutboxRepository
from storage.subscriptions import BOTH, SubscriptionRepository
from tests.conftest import FakeClock
from tests.outbox_fakes import RecordingPlatform, add_followers, restarted_outbox


@pytest.fixture
async def platform(bot: Bot, clock: FakeClock) -> AsyncIterator[RecordingPlatform]:
    p = RecordingPlatform(clock.monotonic)
    bot.services.outbounds["console"] = p
    yield p


async def subscribe_groups(bot: Bot, *ids: str) -> None:
    repo = SubscriptionRepository(bot.services.db)
    for chat_id in ids:
        await repo.subscribe("console", chat_id, ("milestones",), "fr", bot.services.clock.now())


async def queue(bot: Bot, markup: str = "Bonjour **à tous**", key: str = "t1") -> int:
    s = bot.services
    async with s.db.transaction() as tx:
        created = await broadcast.enqueue(
            tx,
            s,
            store.NewBroadcast(
                kind=store.MESSAGE,
                audience=BOTH,
                body={"markup": markup},
                dedup_key=key,
                created_by="test",
                created_at=s.clock.now(),
                send_at=s.clock.now(),
            ),
            s.clock.now(),
        )
    assert created is not None
    return created[0]


def outbox(bot: Bot) -> Outbox:
    return bot.services.outbox


async def test_a_broadcast_reaches_every_destination_exactly_once(bot: Bot, platform: RecordingPlatform) -> None:
    await subscribe_groups(bot, "g1", "g2", "g3")
    await add_followers(bot, ("console", "f1", "fr"), ("console", "f2", "en"), ("telegram", "t9", "fr"))
    broadcast_id = await queue(bot)
    await outbox(bot).drain()
    # The Telegram follower waits: no Telegram outbound is running in this test.
    assert sorted(d.chat.id for d in platform.delivered) == ["f1", "f2", "g1", "g2", "g3"]
    assert platform.to("g1")[0].text == "Bonjour à tous"
    assert platform.to("g1")[0].reply.text.spans[1].bold
    await outbox(bot).drain()
    assert len(platform.delivered) == 5
    statuses = await OutboxRepository(bot.services.db).statuses(broadcast_id)
    assert {s for s, _, _ in statuses.values()} == {"sent"}


async def test_the_same_broadcast_cannot_be_queued_twice(bot: Bot, platform: RecordingPlatform) -> None:
    await subscribe_groups(bot, "g1")
    await queue(bot, key="same")
    with pytest.raises(AssertionError):
        await queue(bot, key="same")
    await outbox(bot).drain()
    assert len(platform.delivered) == 1


async def test_a_blocked_chat_is_marked_gone_and_never_retried(
    bot: Bot, platform: RecordingPlatform, clock: FakeClock
) -> None:
    await subscribe_groups(bot, "g1", "g2")
    await add_followers(bot, ("console", "f1", "fr"))
    platform.always["g2"] = ChatGone("blocked or removed")
    platform.always["f1"] = ChatGone("blocked or removed")
    first = await queue(bot, key="a")
    await outbox(bot).drain()
    statuses = await OutboxRepository(bot.services.db).statuses(first)
    assert statuses[("console", "g2")][0] == "gone"
    assert statuses[("console", "f1")][0] == "gone"
    assert await SubscriptionRepository(bot.services.db).kinds("console", "g2") == []
    async with bot.services.db.read() as tx:
        row = await tx.fetchone("SELECT active FROM contacts WHERE chat_id = 'f1'")
    assert row is not None and row["active"] == 0
    # The next broadcast does not even try them.
    clock.advance(2)  # past the 1 message/s per chat limit
    tries = len(platform.attempts)
    await queue(bot, key="b")
    await outbox(bot).drain()
    assert [c for c, _ in platform.attempts[tries:]] == ["g1"]


async def test_a_rate_limit_pauses_the_transport_then_retries_the_same_delivery(
    bot: Bot, platform: RecordingPlatform
) -> None:
    await subscribe_groups(bot, *(f"g{i:02d}" for i in range(12)))
    platform.fail_next("g03", RateLimited(0.4))
    await queue(bot)
    await outbox(bot).drain()
    assert sorted(d.chat.id for d in platform.delivered) == sorted(f"g{i:02d}" for i in range(12))
    limited_at = next(t for c, t in platform.attempts if c == "g03")
    during = [c for c, t in platform.attempts if limited_at < t < limited_at + 0.4]
    assert during == []  # nothing at all on that transport during the pause
    retried = [t for c, t in platform.attempts if c == "g03"]
    assert len(retried) == 2 and retried[1] - retried[0] >= 0.4 - 1e-9
    assert outbox(bot).stats.rate_limited == 1


async def test_transient_errors_back_off_then_fail_with_the_reason(
    bot: Bot, platform: RecordingPlatform, clock: FakeClock
) -> None:
    await subscribe_groups(bot, "g1", "g2")
    platform.always["g2"] = TransientError("NetworkError")
    broadcast_id = await queue(bot)
    repo = OutboxRepository(bot.services.db)
    await outbox(bot).drain()
    status, attempts, error = (await repo.statuses(broadcast_id))[("console", "g2")]
    assert (status, attempts) == ("pending", 1) and "NetworkError" in (error or "")
    await outbox(bot).drain()
    assert len([c for c, _ in platform.attempts if c == "g2"]) == 1  # not before the backoff
    for _ in range(MAX_ATTEMPTS):
        clock.advance(3600)
        await outbox(bot).drain()
    status, attempts, error = (await repo.statuses(broadcast_id))[("console", "g2")]
    assert (status, attempts) == ("failed", MAX_ATTEMPTS) and "NetworkError" in (error or "")
    assert len(platform.to("g1")) == 1


async def test_a_migrated_group_receives_the_message_at_its_new_id(bot: Bot, platform: RecordingPlatform) -> None:
    await subscribe_groups(bot, "-100", "g2")
    platform.fail_next("-100", ChatGone("migrated", new_chat_id="-100200"))
    await queue(bot)
    await outbox(bot).drain()
    assert [d.chat.id for d in platform.delivered if d.chat.id.startswith("-100")] == ["-100200"]
    repo = SubscriptionRepository(bot.services.db)
    assert await repo.kinds("console", "-100200") == ["milestones"]
    assert await repo.kinds("console", "-100") == []


async def test_deliveries_in_flight_at_a_crash_are_sent_again_and_nothing_is_lost(
    bot: Bot, platform: RecordingPlatform
) -> None:
    await subscribe_groups(bot, *(f"g{i}" for i in range(10)))
    broadcast_id = await queue(bot)
    repo = OutboxRepository(bot.services.db)
    claimed = await repo.claim("console", bot.services.clock.now(), 3)  # then the process "dies"
    assert len(claimed) == 3
    await outbox(bot).drain()
    assert len(platform.delivered) == 7  # the claimed ones are stuck until a restart
    fresh = restarted_outbox(bot)
    await fresh.start()
    try:
        await fresh.drain()
    finally:
        await fresh.stop()
    assert sorted(d.chat.id for d in platform.delivered) == sorted(f"g{i}" for i in range(10))
    assert {s for s, _, _ in (await repo.statuses(broadcast_id)).values()} == {"sent"}


async def test_a_cancelled_broadcast_sends_nothing_more(bot: Bot, platform: RecordingPlatform) -> None:
    await subscribe_groups(bot, "g1", "g2")
    broadcast_id = await queue(bot)
    async with bot.services.db.transaction() as tx:
        from storage import outbox as outbox_store

        assert await store.cancel_in(tx, broadcast_id, bot.services.clock.now())
        assert await outbox_store.cancel_in(tx, broadcast_id, bot.services.clock.now()) == 2
    await outbox(bot).drain()
    assert platform.delivered == []


def test_the_pacer_keeps_one_second_per_chat_and_twenty_a_minute_per_group() -> None:
    clock = FakeClock()
    pacer = Pacer(25, clock, group_per_minute=20)
    pacer.sent_to("u1", False)
    assert pacer.chat_wait("u1", False) == pytest.approx(1.0)
    assert pacer.chat_wait("u2", False) == 0
    clock.advance(1.0)
    assert pacer.chat_wait("u1", False) == 0
    for _ in range(20):
        pacer.sent_to("g", True)
        clock.advance(1.0)
    assert pacer.chat_wait("g", True) == pytest.approx(40.0)
    clock.advance(40.0)
    assert pacer.chat_wait("g", True) == 0


async def test_the_pacer_spaces_sends_evenly_and_honours_a_pause() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock)
    times = []
    for _ in range(5):
        await pacer.slot()
        times.append(clock.monotonic())
    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [0.1] * 4
    pacer.pause(3.0)
    start = clock.monotonic()
    await pacer.slot()
    assert clock.monotonic() - start >= 3.0


async def test_a_clean_stop_finishes_what_is_in_flight_and_the_next_start_sends_the_rest_once(
    bot: Bot, platform: RecordingPlatform
) -> None:
    ten_sent = asyncio.Event()

    class Slow(RecordingPlatform):
        async def deliver(self, chat, reply):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.02)  # real time: sends are still in flight when the stop comes
            sent = await super().deliver(chat, reply)
            if len(self.delivered) >= 10:
                ten_sent.set()
            return sent

    slow = Slow()
    bot.services.outbounds["console"] = slow
    await subscribe_groups(bot, *(f"g{i:02d}" for i in range(60)))
    broadcast_id = await queue(bot)
    first = restarted_outbox(bot)
    await first.start()
    try:
        await asyncio.wait_for(ten_sent.wait(), timeout=10)
    finally:
        await first.stop()
    statuses = await OutboxRepository(bot.services.db).statuses(broadcast_id)
    assert [s for s, _, _ in statuses.values()].count("sending") == 0
    assert [s for s, _, _ in statuses.values()].count("sent") == len(slow.delivered) < 60
    second = restarted_outbox(bot)
    await second.start()
    try:
        await second.drain()
    finally:
        await second.stop()
    assert sorted(d.chat.id for d in slow.delivered) == sorted(f"g{i:02d}" for i in range(60))  # each once
