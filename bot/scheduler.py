"""The scheduler component: periodic jobs beside the transports, in the same event loop.

APScheduler's `AsyncIOScheduler` runs coroutine jobs on the running loop, in the
campaign's time zone: polling the published count, checking milestones, the daily
digest, nudging the outbox, and the daily purges. Every job has `max_instances=1`
and `coalesce=True`, so a slow run is never doubled and a missed run happens once.
A job's failure is logged and the job runs again at its next time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import count_source, digest, milestones, retention
from storage.db import StorageError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import Services

log = logging.getLogger(__name__)

Job = Callable[["Services"], Awaitable[object]]

MILESTONE_CHECK_SECONDS = 60
OUTBOX_NUDGE_SECONDS = 30
STOP_GRACE_SECONDS = 10.0  # jobs running at a stop get this long to finish
PURGE_TIME = dt.time(3, 30)  # local time: a quiet moment
AT_START_UP = ("count_poll", "milestones")  # checked at start-up too, not only after a first interval


def triggers(settings: Settings) -> dict[str, BaseTrigger]:
    """When each job runs, in the campaign's time zone (also what `petition-bot check` lists)."""
    zone = settings.zone
    digest_hour, digest_minute = (int(x) for x in settings.digest_time.strip().split(":"))
    return {
        "count_poll": IntervalTrigger(minutes=settings.count_poll_minutes, timezone=zone),
        "milestones": IntervalTrigger(seconds=MILESTONE_CHECK_SECONDS, timezone=zone),
        "digest": CronTrigger(hour=digest_hour, minute=digest_minute, timezone=zone),
        "outbox": IntervalTrigger(seconds=OUTBOX_NUDGE_SECONDS, timezone=zone),
        "purge": CronTrigger(hour=PURGE_TIME.hour, minute=PURGE_TIME.minute, timezone=zone),
    }


def describe(settings: Settings, now: dt.datetime) -> list[tuple[str, str]]:
    """Each job and when it runs if the bot starts at `now`, in words for the operator (`petition-bot check`)."""
    found = []
    for job_id, trigger in triggers(settings).items():
        if isinstance(trigger, IntervalTrigger):
            every = _duration(trigger.interval)
            found.append((job_id, f"at start-up, then every {every}" if job_id in AT_START_UP else f"every {every}"))
            continue
        next_run = trigger.get_next_fire_time(None, now.astimezone(settings.zone))
        found.append((job_id, f"daily at {next_run:%H:%M} ({settings.timezone}), next {next_run:%Y-%m-%d %H:%M}"))
    return found


def _duration(interval: dt.timedelta) -> str:
    seconds = int(interval.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


class Scheduler:
    """A `Component`: starts the outbox worker and the periodic jobs; stops them in reverse."""

    name = "scheduler"
    leader_only = True  # jobs and outbox lanes run in one instance (bot/leadership.py)

    def __init__(self, services: Services, purges: list[Job] | None = None) -> None:
        self._services = services
        self._outbox = services.outbox
        self._purges: list[Job] = [purge_dialogues, purge_personal_data, *(purges or [])]
        self._scheduler: AsyncIOScheduler | None = None
        self._in_flight: set[asyncio.Task[object]] = set()
        self.last_success: dict[str, dt.datetime] = {}

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def jobs(self) -> list[tuple[str, Callable[[], Awaitable[None]], BaseTrigger]]:
        """Each job's id, coroutine and trigger (listed for tests and the operations guide)."""
        funcs = {
            "count_poll": self._count_poll,
            "milestones": self._milestones,
            "digest": self._digest,
            "outbox": self._nudge_outbox,
            "purge": self._purge,
        }
        return [(job_id, funcs[job_id], trigger) for job_id, trigger in triggers(self._services.settings).items()]

    async def start(self) -> None:
        await self._outbox.start()
        scheduler = AsyncIOScheduler(timezone=self._services.settings.zone)
        now = dt.datetime.now(self._services.settings.zone)
        for job_id, func, trigger in self.jobs():
            first = now if job_id in AT_START_UP else None
            scheduler.add_job(
                func,
                trigger,
                id=job_id,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
                **({"next_run_time": first} if first else {}),
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started with %d jobs", len(scheduler.get_jobs()))

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            # Jobs running now (the start-up poll, when the console's input ends at once) finish
            # first: APScheduler would cancel them, and report a normal stop as their failure.
            self._scheduler.pause()
            if self._in_flight:
                await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_SECONDS)
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        await self._outbox.stop()

    def lag_seconds(self, now: dt.datetime) -> dict[str, float]:
        """How overdue each job is (0 when on time): a blocked event loop shows here first."""
        if self._scheduler is None:
            return {}
        lags = {}
        for job in self._scheduler.get_jobs():
            due = job.next_run_time
            lags[str(job.id)] = max(0.0, (now - due).total_seconds()) if due is not None else 0.0
        return lags

    async def _run(self, job_id: str, job: Job) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            outcome = await job(self._services)
            if isinstance(outcome, count_source.PollResult) and outcome.value is None:
                return  # nothing believable was read: the poll's age keeps growing, so an alert can fire
            self.last_success[job_id] = self._services.clock.now()
        except StorageError as exc:
            self._services.metrics.error("storage")
            log.error("job %s: storage unavailable: %s", job_id, exc)
        except Exception:
            self._services.metrics.error("job")
            log.exception("job %s failed", job_id)
        finally:
            self._in_flight.discard(task)

    async def _count_poll(self) -> None:
        await self._run("count_poll", count_source.poll_count)
        await self._milestones()

    async def _milestones(self) -> None:
        await self._run("count_record", lambda s: count_source.record_count(s, "bot"))
        await self._run("milestones", milestones.check_milestones)

    async def _digest(self) -> None:
        await self._run("digest", digest.send_digest)

    async def _nudge_outbox(self) -> None:
        self._outbox.wake()

    async def _purge(self) -> None:
        for purge in self._purges:
            await self._run("purge", purge)


async def purge_dialogues(services: Services) -> int:
    """Expired dialogues hold nothing worth keeping."""
    purged = await services.dialogues.purge_expired(services.clock.now())
    log.info("purged %d expired dialogues", purged)
    return purged


async def purge_personal_data(services: Services) -> retention.PurgeReport:
    """The campaign's retention rule (signing feature): nothing happens before the purge date."""
    return await retention.purge(services.db, services.content.campaign, services.clock.now())
