"""The composition root: the only place where settings, storage, content, handlers and transports meet."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot import messages
from bot.chat_events import SubscriptionChatEvents
from bot.check import configured, preflight
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import load_content
from bot.context import Services
from bot.counts import Counts
from bot.events import ChatEvents, Deliverer
from bot.outbox import Outbox
from bot.pseudonyms import Pseudonymizer, load_or_create_key
from bot.router import Router
from bot.transports.console import TRANSPORT as CONSOLE
from bot.transports.console import ConsoleTransport, ConsoleUser
from bot.transports.matrix_platform import MATRIX
from bot.transports.platform import Platform
from bot.transports.telegram_platform import TELEGRAM
from storage.broadcasts import BroadcastRepository
from storage.contacts import ContactRepository
from storage.db import open_database
from storage.dialogues import DialogueRepository
from storage.kv import KeyValueRepository
from storage.offers import OfferRepository
from storage.outbox import OutboxRepository
from storage.preferences import PreferenceRepository
from storage.signatures import SignatureRepository
from storage.stats import StatsRepository
from storage.subscriptions import SubscriptionRepository

log = logging.getLogger(__name__)

# The chat platforms this bot can serve, in start order: one line per platform. A platform is its
# transport module(s) under bot/transports/; its declaration says how to check and start it.
PLATFORMS: tuple[Platform, ...] = (TELEGRAM, MATRIX)

SHUTDOWN_GRACE_SECONDS = 10.0  # handlers in flight get this long after SIGTERM (systemd waits 90 s)
SETTLE_AT_END_SECONDS = 10.0  # at the console's end of input, what is due to it gets this long to print
STOP_DEADLINE_SECONDS = 30.0  # after a stop signal the process ends within this, whatever is stuck


@dataclass
class Bot:
    services: Services
    router: Router

    async def close(self) -> None:
        await self.services.db.close()


async def build_bot(
    settings: Settings,
    clock: Clock | None = None,
    more_admins: frozenset[tuple[str, str]] = frozenset(),
    chat_events: ChatEvents | None = None,
    platforms: frozenset[str] = frozenset(),
) -> Bot:
    """Load content, open and migrate the database, build the index, the outbox and the router.

    `chat_events`: what transports tell when a chat is gone or moved (by default, subscriptions
    and deliveries follow); tests pass a recorder. `platforms`: the platforms this run serves,
    here or on the leader instance (`served`), so broadcast audiences cover them all.
    """
    # Imported here, not at the top: question answering takes a good part of a second to import,
    # which `check` (it reads `PLATFORMS`) does not need.
    from bot.answers import AnswerIndex
    from handlers import build_routes

    content = load_content(settings.campaign_folder, messages.required())
    db = await open_database(settings.database_path, settings.postgres_url)
    try:
        secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
        pseudonyms = Pseudonymizer(load_or_create_key(secret, settings.data_folder))
        kv = KeyValueRepository(db)
        signatures = SignatureRepository(db, settings.zone)
        broadcasts = BroadcastRepository(db)
        deliveries = OutboxRepository(db)
        routes = build_routes()
        clock = clock or SystemClock()
        chat_events = chat_events or SubscriptionChatEvents(db, clock)
        outbounds: dict[str, Deliverer] = {}  # filled by the platforms as they start
        services = Services(
            settings=settings,
            content=content,
            db=db,
            clock=clock,
            pseudonyms=pseudonyms,
            answers=AnswerIndex.build(content, commands=(n for c in routes.commands for n in c.names)),
            kv=kv,
            dialogues=DialogueRepository(db),
            preferences=PreferenceRepository(db),
            counts=Counts(kv, content, bot_signatures=signatures.count),
            admins=settings.admin_ids | more_admins,
            signatures=signatures,
            contacts=ContactRepository(db),
            offers=OfferRepository(db),
            subscriptions=SubscriptionRepository(db),
            broadcasts=broadcasts,
            deliveries=deliveries,
            stats=StatsRepository(db),
            commands=tuple(routes.commands),
            chat_events=chat_events,
            outbounds=outbounds,
            platforms=platforms,
            outbox=Outbox(
                deliveries=deliveries,
                broadcasts=broadcasts,
                content=content,
                clock=clock,
                outbounds=outbounds,
                chat_events=chat_events,
            ),
        )
        router = Router(routes, services)
    except BaseException:
        await db.close()
        raise
    return Bot(services, router)


def served(settings: Settings, console: ConsoleUser | None) -> frozenset[str]:
    """The platforms a run serves, for broadcast audiences: the configured ones, else the console.

    The console beside configured platforms serves none: it is a chat to try commands on their
    database, never the audience of announcements (nor their sender to the other platforms).
    """
    platforms = frozenset(p.name for p in configured(PLATFORMS, settings))
    if console is None:
        return platforms
    return frozenset() if platforms else frozenset({CONSOLE})


async def run(settings: Settings) -> None:
    """Start every configured platform; with none configured, the console chat is the platform."""
    await serve(settings, None if configured(PLATFORMS, settings) else ConsoleUser())


async def run_console(settings: Settings, user: ConsoleUser) -> None:
    """`petition-bot console`: the console chat on the configured database, until end of input."""
    await serve(settings, user)


async def serve(settings: Settings, console: ConsoleUser | None, clock: Clock | None = None) -> None:
    """Start the components, run until a signal or the console's end of input, then stop them in reverse."""
    # Settings are valid here; the data folder, ports and credentials are checked before anything starts.
    platforms = configured(PLATFORMS, settings)
    # The console beside configured platforms starts neither them nor any server.
    await preflight(settings, platforms if console is None else [], listening=console is None or not platforms)
    admins = frozenset({(CONSOLE, console.id)}) if console is not None and console.admin else frozenset()
    bot = await build_bot(settings, clock, admins, platforms=served(settings, console))
    if platforms and bot.services.content.placeholders:
        log.warning(
            "campaign content has %d placeholder(s) to fill in; `petition-bot check` names them",
            len(bot.services.content.placeholders),
        )
    signals = StopSignals()
    started: list[Component] = []
    try:
        if await _start_until_stopped(components(bot, console), started, signals.requested):
            ended = await _until_stopped(signals.requested, started)
            if ended is not None and ended.name in bot.services.outbounds:
                # The console's input ended: what the campaign owes it now is printed before the process exits.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SETTLE_AT_END_SECONDS):
                        await bot.services.outbox.settled(ended.name)
        log.info("stopping")
        for component in started:
            if isinstance(component, Reading):
                component.stop_reading()  # no new input from now on: only what is in flight finishes
        await bot.services.db.stopping()  # and nothing new waits for a locked database
        await bot.router.drain(SHUTDOWN_GRACE_SECONDS)
    finally:
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                log.exception("could not stop %s cleanly", component.name)
        signals.restore()
        await bot.close()


async def _until_stopped(stop: asyncio.Event, started: list[Component]) -> Component | None:
    """Wait for a signal (None), or for a component that ends by itself (the console at end of input)."""
    waits: dict[asyncio.Task[object], Component | None] = {asyncio.create_task(stop.wait()): None}
    for component in started:
        if isinstance(component, Ending):
            waits[asyncio.create_task(component.ended())] = component
    done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    return None if any(waits[task] is None for task in done) else waits[next(iter(done))]


class StopSignals:
    """SIGTERM (systemd, docker) and SIGINT (Ctrl-C) ask for a clean stop instead of killing the process.

    The clean stop is bounded too: if the process is still stopping
    `STOP_DEADLINE_SECONDS` after the signal, it exits anyway, so a stop always stops.
    `restore()` ends the watch once the run is over.
    """

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self._watchdog: threading.Timer | None = None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):  # not the main thread: the caller stops us
                loop.add_signal_handler(sig, self._asked)

    def _asked(self) -> None:
        if self.requested.is_set():
            return
        self.requested.set()
        self._watchdog = threading.Timer(STOP_DEADLINE_SECONDS, _exit_now)
        self._watchdog.daemon = True
        self._watchdog.start()

    def restore(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(sig)


def _exit_now() -> None:
    log.error("still stopping %.0f s after the stop signal: exiting now", STOP_DEADLINE_SECONDS)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(1)


class Component(Protocol):
    """Something that runs beside the others in the one event loop: a transport, the scheduler."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@runtime_checkable
class Ending(Protocol):
    """A component that can end by itself (the console at end of input): the whole process then stops."""

    name: str

    async def ended(self) -> None: ...


@runtime_checkable
class Reading(Protocol):
    """A component that takes input lines itself (the console): told to take no more at a stop."""

    def stop_reading(self) -> None: ...


def components(bot: Bot, console: ConsoleUser | None = None) -> list[Component]:
    """What runs, in start order (stopped in reverse): the leadership, the platforms, the jobs, health.

    Parts that must run in one instance only (`leader_only`: the scheduler and its
    outbox, Telegram polling, the Matrix sync) run while this instance holds the lease.
    """
    # Imported here, not at the top: the platform libraries and matplotlib take most of a
    # second to import, and the console chat needs none of them.
    from bot.health import HealthServer
    from bot.leadership import LEASE_NAME, Leadership
    from bot.scheduler import Scheduler

    services = bot.services
    platforms: list[Component] = []
    if console is not None:
        # Beside configured platforms (commands tried on their database), the console is a chat
        # only: it must not become the audience of announcements meant for supporters, nor run
        # a second scheduler. Otherwise it is the platform, with the scheduler and the outbox.
        beside = bool(configured(PLATFORMS, services.settings))
        console_chat = ConsoleTransport(
            services.for_transport(), bot.router, console, offers=services.offers, receives_broadcasts=not beside
        )
        if beside:
            return [console_chat]
        platforms.append(console_chat)
    else:
        platforms += [
            p.transport(services.for_transport(), bot.router) for p in configured(PLATFORMS, services.settings)
        ]
    jobs: list[Component] = [Scheduler(services)]
    # First: it decides whether this instance leads, which the leader-only parts ask.
    leadership = Leadership(services.db.lease(LEASE_NAME))
    found: list[Component] = [leadership]
    for part in platforms + jobs:
        found.append(leadership.only(part) if getattr(part, "leader_only", False) else part)
    if services.settings.health_port is not None:
        found.append(HealthServer(services, list(found)))  # last: it reports on the others
    return found


async def _start_until_stopped(parts: list[Component], started: list[Component], stop: asyncio.Event) -> bool:
    """Start the components in order; False when a stop signal came first (the rest is not started)."""

    async def start_all() -> None:
        for component in parts:
            await component.start()
            started.append(component)
            log.info("started %s", component.name)

    starting = asyncio.create_task(start_all())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if starting.done():
        starting.result()  # a component that could not start ends the run, with its error
        return True
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await starting
    return False
