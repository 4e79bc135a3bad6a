"""The health and metrics server: `/healthz` for the supervisor, `/metrics` for Prometheus.

Off unless HEALTH_PORT is set, and bound to 127.0.0.1 unless HEALTH_HOST says
otherwise: the metrics hold no personal data, but nothing about a campaign's bot
needs to face the internet.

`/healthz` answers 200 when the database takes a write, the data folder has
room, and every other component reports itself healthy; 503 naming the failing
parts otherwise. A component says how it is through `healthy()`; one without it
counts as healthy while it runs (it raised at start-up if it could not start).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aiohttp import web

from bot.check import MIN_FREE_BYTES
from bot.config import SettingsError
from bot.metrics import CONTENT_TYPE, Scheduled
from storage.db import StorageError

if TYPE_CHECKING:
    from bot.app import Component
    from bot.context import Services

log = logging.getLogger(__name__)

HEALTH_KEY = "health.checked_at"
PROBE_SECONDS = 5.0  # a database write slower than this is a failing database for the supervisor


@runtime_checkable
class Checked(Protocol):
    """A component that can tell whether it is doing its job (a transport connected, jobs running)."""

    def healthy(self) -> bool: ...


@runtime_checkable
class Leading(Protocol):
    """The leadership component: whether this instance is the one running the jobs."""

    is_leader: bool


def is_healthy(component: object) -> bool:
    """`healthy()` when the component has it, else its `running` flag when it has one, else true."""
    if isinstance(component, Checked):
        return bool(component.healthy())
    running = getattr(component, "running", None)
    if isinstance(running, bool):
        return running
    return True


class HealthServer:
    """A `Component`, started last and stopped first, so it never reports on parts already stopped."""

    name = "health"

    def __init__(self, services: Services, watched: Sequence[Component]) -> None:
        self._services = services
        self._watched = list(watched)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        settings = self._services.settings
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.health_host, settings.health_port or 0)
            await site.start()
        except OSError as exc:  # taken since the pre-flight check: still one line naming the setting
            await runner.cleanup()
            raise SettingsError(
                f"invalid setting HEALTH_PORT: cannot listen on {settings.health_host}:{settings.health_port}"
                f" ({exc.strerror})"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("health server listening on %s:%d", settings.health_host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def parts(self) -> dict[str, bool]:
        """Each part's state, the database first."""
        found = {"database": await self._database_writable(), "data folder": self._room_left()}
        for component in self._watched:
            found[component.name] = is_healthy(component)
        return found

    async def _database_writable(self) -> bool:
        s = self._services
        try:
            await asyncio.wait_for(s.kv.set(HEALTH_KEY, s.clock.now().isoformat()), PROBE_SECONDS)
        except (StorageError, TimeoutError) as exc:
            log.warning("health: the database does not take writes (%s)", type(exc).__name__)
            return False
        return True

    def _room_left(self) -> bool:
        try:
            return shutil.disk_usage(self._services.settings.data_folder).free >= MIN_FREE_BYTES
        except OSError:
            return False

    async def _healthz(self, request: web.Request) -> web.Response:
        parts = await self.parts()
        failing = [name for name, ok in parts.items() if not ok]
        body: dict[str, Any] = {"status": "failing" if failing else "ok", "leader": self.is_leader(), "parts": parts}
        if failing:
            body["failing"] = failing
        return web.Response(
            status=503 if failing else 200,
            text=json.dumps(body) + "\n",
            content_type="application/json",
        )

    def is_leader(self) -> bool:
        """Whether this instance runs the scheduler and the outbox (always, with SQLite)."""
        return any(isinstance(c, Leading) and c.is_leader for c in self._watched)

    async def _metrics(self, request: web.Request) -> web.Response:
        metrics = self._services.metrics
        scheduler: Scheduled | None = None
        for component in self._watched:
            inner = getattr(component, "inner", component)  # a leader-only part runs its component inside
            if isinstance(inner, Scheduled):
                scheduler = inner
        await metrics.refresh(self._services, scheduler, await self.parts(), self.is_leader())
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response


__all__ = ["Checked", "HealthServer", "Scheduled", "is_healthy"]
