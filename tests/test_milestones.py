"""Milestones: each announced once, ever, to subscribed groups and followers; quiet hours wait for morning."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import Bot, build_bot
from bot.config import Settings
from bot.milestones import after_quiet_hours, between, check_milestones, count_up_to, reached
from storage.broadcasts import MilestoneRepository
from tests.conftest import Chat, FakeClock
from tests.outbox_fakes import RecordingPlatform, add_followers

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
async def world(bot: Bot, chat: Callable[..., Chat]) -> AsyncIterator[tuple[Bot, RecordingPlatform]]:
    platform = RecordingPlatform()
    bot.services.outbounds["console"] = platform
    for group in ("g1", "g2"):
        assert "C'est noté" in await chat(group=group, admin=True).say("/abonner jalons")
    assert "C'est noté" in await chat(group="g3", admin=True).say("/abonner quotidien")  # digest only
    await add_followers(bot, ("console", "f1", "fr"), ("console", "f2", "en"))
    yield bot, platform


async def set_total(bot: Bot, official: int) -> None:
    await bot.services.counts.set_official(official, bot.services.clock.now())


async def announce(bot: Bot) -> int | None:
    found = await check_milestones(bot.services)
    await bot.services.outbox.drain()
    return found


async def test_a_crossed_milestone_is_announced_once_to_groups_and_followers(world) -> None:  # type: ignore[no-untyped-def]
    bot, platform = world
    await set_total(bot, 19_010)
    assert await announce(bot) == 19_000
    assert sorted(d.chat.id for d in platform.delivered) == ["f1", "f2", "g1", "g2"]
    assert "19\u202f000 signatures" in platform.to("g1")[0].text
    assert "19,000 signatures" in platform.to("f2")[0].text  # in the follower's language
    assert "Prochain objectif : 20\u202f000" in platform.to("f1")[0].text
    assert await announce(bot) is None
    assert len(platform.delivered) == 4


async def test_a_restart_never_announces_it_again(
    world,
    settings: Settings,
    clock: FakeClock,  # type: ignore[no-untyped-def]
) -> None:
    bot, platform = world
    await set_total(bot, 19_010)
    await announce(bot)
    again = await build_bot(settings, clock)
    again.services.outbounds["console"] = platform
    try:
        await again.services.outbox.start()
        assert await check_milestones(again.services) is None
        await again.services.outbox.drain()
        await again.services.outbox.stop()
    finally:
        await again.close()
    assert len(platform.delivered) == 4


async def test_two_milestones_crossed_at_once_announce_the_highest_only(world) -> None:  # type: ignore[no-untyped-def]
    bot, platform = world
    await set_total(bot, 20_500)
    assert await announce(bot) == 20_000
    assert len(platform.delivered) == 4
    assert all("20\u202f000 signatures" in d.text or "20,000" in d.text for d in platform.delivered)
    recorded = await MilestoneRepository(bot.services.db).recorded()
    assert {m: r.status for m, r in recorded.items()} == {20_000: "announced"}  # no row for the one skipped


async def test_a_count_going_down_and_up_again_does_not_repeat(world) -> None:  # type: ignore[no-untyped-def]
    bot, platform = world
    await set_total(bot, 19_010)
    await announce(bot)
    await set_total(bot, 18_990)
    assert await announce(bot) is None
    await set_total(bot, 19_020)
    assert await announce(bot) is None
    assert len(platform.delivered) == 4


async def test_two_instances_of_the_job_announce_once(world) -> None:  # type: ignore[no-untyped-def]
    bot, platform = world
    await set_total(bot, 19_010)
    results = await asyncio.gather(*(check_milestones(bot.services) for _ in range(5)))
    assert results.count(19_000) == 1
    await bot.services.outbox.drain()
    assert len(platform.delivered) == 4


async def test_quiet_hours_hold_announcements_until_morning(world, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    bot, platform = world
    clock.current = dt.datetime(2026, 11, 29, 23, 15, tzinfo=PARIS).astimezone(dt.UTC)
    await set_total(bot, 19_010)
    assert await announce(bot) == 19_000
    assert platform.delivered == []
    clock.current = dt.datetime(2026, 11, 30, 7, 59, tzinfo=PARIS).astimezone(dt.UTC)
    await bot.services.outbox.drain()
    assert platform.delivered == []
    clock.current = dt.datetime(2026, 11, 30, 8, 0, tzinfo=PARIS).astimezone(dt.UTC)
    await bot.services.outbox.drain()
    assert len(platform.delivered) == 4


def test_quiet_windows_across_midnight_end_in_the_morning() -> None:
    window = (dt.time(22), dt.time(8))

    def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 11, day, hour, minute, tzinfo=PARIS).astimezone(dt.UTC)

    assert after_quiet_hours(local(29, 21, 59), PARIS, window) == local(29, 21, 59)
    assert after_quiet_hours(local(29, 22), PARIS, window) == local(30, 8)
    assert after_quiet_hours(local(30, 3), PARIS, window) == local(30, 8)
    assert after_quiet_hours(local(30, 8), PARIS, window) == local(30, 8)
    assert after_quiet_hours(local(30, 3), PARIS, None) == local(30, 3)
    assert after_quiet_hours(local(30, 13), PARIS, (dt.time(12), dt.time(14))) == local(30, 14)


async def test_milestones_continue_past_the_list(bot: Bot) -> None:
    campaign = bot.services.content.campaign
    assert reached(campaign, 18_999) is None
    assert reached(campaign, 25_000) == 25_000
    assert reached(campaign, 199_999) == 150_000
    assert reached(campaign, 10**11) == 100_000 + (10**11 - 100_000) // 50_000 * 50_000  # arithmetic, no list
    assert count_up_to(campaign, 25_000) == 3 and count_up_to(campaign, 200_000) == 10
    assert between(campaign, 18_000, 30_000) == [19_000, 20_000, 25_000, 30_000]
    assert len(between(campaign, 0, 10**11)) == 12  # a chart's marks stay few


async def test_without_any_running_platform_nothing_is_marked_announced(bot: Bot) -> None:
    await set_total(bot, 19_010)
    assert await check_milestones(bot.services) is None  # the console alone: nobody to tell
    assert await MilestoneRepository(bot.services.db).recorded() == {}
