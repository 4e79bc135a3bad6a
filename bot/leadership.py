"""One leader among the instances sharing a database: it alone runs what must run once.

Telegram webhook calls may reach any instance (behind a load balancer), but the
scheduler and its outbox lanes, Telegram long polling and the Matrix sync must
run in exactly one process at a time. Those components are wrapped with
`Leadership.only(...)`: they start when this instance takes the lease and stop
when it loses it. A follower tries to take the lease every `CHECK_SECONDS`; the
leader checks every `CHECK_SECONDS` that it still holds it, and steps down at
once when its lease connection fails, since another instance may then lead.
The lease itself is the database's (`storage/lease.py`): always held on SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from bot.health import is_healthy

if TYPE_CHECKING:
    from bot.app import Component
    from storage.lease import Lease

log = logging.getLogger(__name__)

LEASE_NAME = "leader"
CHECK_SECONDS = 2.0  # + the server noticing a dead leader: a new leader well within 15 s
RETRY_SECONDS = 10.0  # after a leader-only part failed to start here, let another instance try first


class Leadership:
    """A `Component` started first and stopped last: holds or waits for the lease, runs its members with it."""

    name = "leadership"

    def __init__(self, lease: Lease, check_seconds: float = CHECK_SECONDS) -> None:
        self._lease = lease
        self._check_seconds = check_seconds
        self._members: list[Component] = []
        self._running: list[Component] = []
        self._changing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._retry_at = 0.0
        self.is_leader = False
        self.terms = 0  # times this instance took the lead (each failover adds one somewhere)

    def only(self, component: Component) -> LeaderOnly:
        return LeaderOnly(component, self)

    async def start(self) -> None:
        """Take the lease if it is free, so a single instance leads from its first second."""
        if await self._lease.acquire():
            self._lead()
        else:
            log.info("another instance leads; this one answers webhooks and waits for the lease")
        self._task = asyncio.create_task(self._watch(), name="leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._changing:
            await self._stop_members()
            self.is_leader = False
            await self._lease.release()

    def healthy(self) -> bool:
        """The lease is being watched (leading or waiting); a dead watcher could never take over."""
        return self._task is not None and not self._task.done()

    # Members ---------------------------------------------------------------------

    async def enrol(self, component: Component) -> None:
        """A leader-only component joins; it starts now if this instance leads (errors reach `run`, as before)."""
        async with self._changing:
            self._members.append(component)
            if self.is_leader:
                await component.start()
                self._running.append(component)

    async def withdraw(self, component: Component) -> None:
        async with self._changing:
            if component in self._members:
                self._members.remove(component)
            if component in self._running:
                self._running.remove(component)
                await component.stop()

    def runs(self, component: Component) -> bool:
        return component in self._running

    # The lease -------------------------------------------------------------------

    def _lead(self) -> None:
        self.is_leader = True
        self.terms += 1
        log.info("this instance is the leader: it runs the scheduler, the outbox and the platforms' receivers")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._check_seconds)
            try:
                if self.is_leader:
                    if not await self._lease.check():
                        await self._step_down("the lease was lost")
                elif time.monotonic() >= self._retry_at and await self._lease.acquire():
                    await self._take_over()
            except Exception:
                log.exception("leadership: unexpected error; stepping down")
                await self._step_down("an error")

    async def _take_over(self) -> None:
        async with self._changing:
            self._lead()
            try:
                for component in self._members:
                    await component.start()
                    self._running.append(component)
                    log.info("started %s as the leader", component.name)
            except Exception as exc:
                log.error("leadership: %s could not start (%s); giving the lease up", component.name, exc)
                self._retry_at = time.monotonic() + RETRY_SECONDS
                await self._stop_members()
                self.is_leader = False
                await self._lease.release()

    async def _step_down(self, why: str) -> None:
        async with self._changing:
            if not self.is_leader:
                return
            log.warning("no longer the leader (%s): stopping the scheduler, the outbox and the receivers", why)
            self.is_leader = False
            await self._stop_members()
            await self._lease.release()

    async def _stop_members(self) -> None:
        for component in reversed(self._running):
            try:
                await component.stop()
            except Exception:
                log.exception("could not stop %s cleanly", component.name)
        self._running = []


class LeaderOnly:
    """A component that runs only on the leader; on a follower it stands by (and counts as healthy)."""

    def __init__(self, inner: Component, leadership: Leadership) -> None:
        self.inner = inner
        self.name = inner.name
        self._leadership = leadership

    async def start(self) -> None:
        await self._leadership.enrol(self.inner)

    async def stop(self) -> None:
        await self._leadership.withdraw(self.inner)

    def healthy(self) -> bool:
        if self._leadership.runs(self.inner):
            return is_healthy(self.inner)
        return not self._leadership.is_leader  # a leader must run it; a follower waits
