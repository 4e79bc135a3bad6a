"""The scheduler component: at start it polls the count and announces a crossed milestone, through the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from bot.app import build_bot, components
from bot.scheduler import Scheduler
from storage.subscriptions import SubscriptionRepository
from tests.conftest import FakeClock, make_settings
from tests.outbox_fakes import RecordingPlatform, add_followers
from tests.test_count_source import PetitionSite


async def test_the_scheduler_polls_at_start_and_announces_the_crossed_milestone(
    tmp_path: Path, clock: FakeClock
) -> None:
    site = PetitionSite()
    await site.start()
    site.page = "petition_grown.html"  # 19 104 signatures: 19 000 is crossed
    bot = await build_bot(make_settings(tmp_path, count_source_url=site.url), clock)
    platform = RecordingPlatform()
    bot.services.outbounds["console"] = platform
    await SubscriptionRepository(bot.services.db).subscribe("console", "g1", ("milestones",), "fr", clock.now())
    [scheduler] = [getattr(c, "inner", c) for c in components(bot) if c.name == "scheduler"]  # leader-only
    assert isinstance(scheduler, Scheduler)
    try:
        await scheduler.start()
        assert scheduler.running
        for _ in range(500):
            if platform.delivered:
                break
            await asyncio.sleep(0.01)
        assert [d.chat.id for d in platform.delivered] == ["g1"]
        assert "19\u202f000 signatures" in platform.delivered[0].text
        assert scheduler.last_success.keys() >= {"count_poll", "milestones"}
    finally:
        await scheduler.stop()
        await bot.close()
        await site.stop()
    assert not scheduler.running


async def test_jobs_run_in_the_campaign_time_zone(tmp_path: Path, clock: FakeClock) -> None:
    bot = await build_bot(make_settings(tmp_path, digest_time="18:30", count_poll_minutes=5), clock)
    try:
        jobs = {job_id: trigger for job_id, _, trigger in Scheduler(bot.services).jobs()}
        assert set(jobs) == {"count_poll", "milestones", "digest", "outbox", "purge"}
        digest = jobs["digest"]
        assert isinstance(digest, CronTrigger)
        assert str(digest.timezone) == "Europe/Paris"
        assert "hour='18'" in repr(digest) and "minute='30'" in repr(digest)
        assert "seconds=300" in repr(jobs["count_poll"])
    finally:
        await bot.close()


async def test_the_daily_purge_applies_the_retention_rule(tmp_path: Path, clock: FakeClock) -> None:
    bot = await build_bot(make_settings(tmp_path), clock)
    try:
        await add_followers(bot, ("telegram", "42", "fr"))
        purge = {job_id: func for job_id, func, _ in Scheduler(bot.services).jobs()}["purge"]
        await purge()  # before the campaign's end + retention: nothing goes
        async with bot.services.db.read() as tx:
            assert (await tx.fetchone("SELECT COUNT(*) AS n FROM contacts"))["n"] == 1  # type: ignore[index]
        clock.current = dt.datetime(2027, 9, 28, 3, 30, tzinfo=dt.UTC)  # end date 2027-06-30 + 90 days
        await purge()
        async with bot.services.db.read() as tx:
            assert (await tx.fetchone("SELECT COUNT(*) AS n FROM contacts"))["n"] == 0  # type: ignore[index]
    finally:
        await bot.close()
