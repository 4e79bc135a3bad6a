"""The delivery worker: drains the outbox through one pacer per transport.

Each transport has its own lane (an asyncio task), separate from the router, so
interactive replies never wait behind a broadcast. A lane claims due deliveries,
sends each at its pacer's next slot through the platform's non-waiting `deliver`
(the `Deliverer` protocol: its limits come from its `pacing`), and settles the outcomes in batches. After a rate-limit
answer the lane's pacer sends nothing for `retry_after` seconds, then the same
delivery is tried again. A chat that is gone is marked so and not retried;
transient failures back off and finally fail with the reason recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import broadcast as broadcasting
from bot.events import Chat, ChatGone, ChatKind, DeliveryError, RateLimited, Reply, Sent, TransientError
from bot.markup import Rich
from bot.pacer import Pacer
from storage import broadcasts as store
from storage.broadcasts import BroadcastRepository
from storage.db import StorageError
from storage.outbox import (
    CANCELLED,
    FAILED,
    GONE,
    PENDING,
    SENT,
    Delivery,
    OutboxRepository,
    Outcome,
    Progress,
)
from storage.subscriptions import Destination

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.clock import Clock
    from bot.content import Content
    from bot.events import ChatEvents, Deliverer

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30.0
MAX_RATE_RETRIES = 20
IDLE_POLL_SECONDS = 1.0
PROGRESS_EVERY_SECONDS = 2.0
BAR_WIDTH = 10
SETTLE_EVERY = 10  # outcomes recorded in one transaction
STOP_GRACE_SECONDS = 5.0
SETTLED_POLL_SECONDS = 0.05


@dataclass
class _Lane:
    transport: str
    pacer: Pacer
    outcomes: list[Outcome] = field(default_factory=list)
    # One claim at a time in this process: a claim skips rows another claim holds (on
    # PostgreSQL), so a drain must not find the lane empty while the worker's claim is open.
    claiming: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _Tracking:
    """What the progress message needs between two edits."""

    started: float
    done_at_start: int
    last_edit: float = 0.0
    last_text: str = ""


@dataclass
class OutboxStats:
    sent: int = 0
    rate_limited: int = 0
    gone: int = 0
    failed: int = 0


class Outbox:
    name = "outbox"

    def __init__(
        self,
        *,
        deliveries: OutboxRepository,
        broadcasts: BroadcastRepository,
        content: Content,
        clock: Clock,
        outbounds: Mapping[str, Deliverer],
        chat_events: ChatEvents,
        backoff_seconds: float = BACKOFF_SECONDS,
        progress_every: float = PROGRESS_EVERY_SECONDS,
        idle_poll: float = IDLE_POLL_SECONDS,
    ) -> None:
        """`outbounds` is the registry the running platforms fill: a lane per platform found there."""
        self._repo = deliveries
        self._broadcasts = broadcasts
        self._content = content
        self._clock = clock
        self._outbounds = outbounds
        self._chat_events = chat_events
        self._backoff = backoff_seconds
        self._progress_every = progress_every
        self._idle_poll = idle_poll
        self._lanes: dict[str, _Lane] = {}
        self._renders: dict[tuple[int, str], Reply | None] = {}
        self._tracking: dict[int, _Tracking] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self.stats = OutboxStats()

    # Life cycle ---------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self._repo.recover(self._now())
        if recovered:
            log.warning("outbox: %d deliveries were in flight at the last stop; sending them again", recovered)
        self._running = True
        self._tasks = [asyncio.create_task(self._loop()), asyncio.create_task(self._progress_loop())]

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop claiming, let the sends in flight finish and be recorded (within `grace`), then stop."""
        self._running = False
        self._wake.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks[:1], timeout=grace)
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if late:
                log.warning("outbox: stopped with sends in flight; they will be sent again at the next start")
        self._tasks = []

    async def settled(self, transport: str) -> None:
        """Return once nothing is due or being sent on `transport` (the caller bounds the wait).

        For the console at end of piped input: an announcement queued by the last lines is
        printed before the process exits, instead of waiting in the table for the next start.
        """
        while await self._repo.busy(transport, self._now()):
            self.wake()
            await asyncio.sleep(SETTLED_POLL_SECONDS)

    def wake(self) -> None:
        """New deliveries are due: start sending without waiting for the next poll."""
        self._wake.set()

    # Sending -------------------------------------------------------------------

    async def drain(self) -> None:
        """Send everything due now on every transport with an outbound, then report progress."""
        transports = list(self._outbounds)
        await asyncio.gather(*(self._drain_lane(self._lane(t)) for t in transports))
        await self.report_progress(force=True)

    async def _loop(self) -> None:
        while self._running:
            try:
                await self.drain()
            except StorageError as exc:
                log.error("outbox: storage unavailable: %s", exc)
            except Exception:
                log.exception("outbox: drain failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._idle_poll)
            self._wake.clear()

    def _lane(self, transport: str) -> _Lane:
        lane = self._lanes.get(transport)
        if lane is None:
            # Each platform declares its limits (`Deliverer.pacing`): the outbox knows none by name.
            pacing = self._outbounds[transport].pacing
            pacer = Pacer(
                pacing.rate,
                self._clock,
                per_chat_seconds=pacing.per_chat_seconds,
                group_per_minute=pacing.group_per_minute,
            )
            lane = self._lanes[transport] = _Lane(transport, pacer)
        return lane

    async def _drain_lane(self, lane: _Lane) -> None:
        outbound = self._outbounds.get(lane.transport)
        if outbound is None:
            return
        # Enough sends in flight to keep the rate with slow round trips; claims of about
        # a quarter second of sending, settled as they complete: after a crash, only
        # what was claimed and not yet settled can be sent twice.
        concurrency = max(4, min(100, int(lane.pacer.rate)))
        batch = max(10, min(250, int(lane.pacer.rate / 4)))
        slots = asyncio.Semaphore(concurrency)
        running: set[asyncio.Task[None]] = set()
        try:
            while self._running or not self._tasks:
                async with lane.claiming:
                    claimed = await self._repo.claim(lane.transport, self._now(), batch)
                if not claimed and running:
                    # Sends in flight may queue more (a migrated group's new address): claim again after them.
                    await asyncio.gather(*list(running))
                    continue
                if not claimed:
                    break
                for delivery in claimed:
                    if not (self._running or not self._tasks):
                        # Stopping: what was claimed but not sent goes back, untouched.
                        lane.outcomes.append(Outcome(delivery.id, PENDING, None, None, counts_as_attempt=False))
                        continue
                    wait = lane.pacer.chat_wait(delivery.chat_id, delivery.chat_kind == "group")
                    if wait > 0:
                        retry = self._now() + dt.timedelta(seconds=wait)
                        lane.outcomes.append(Outcome(delivery.id, PENDING, None, retry, counts_as_attempt=False))
                        continue
                    await slots.acquire()
                    await lane.pacer.slot()
                    lane.pacer.sent_to(delivery.chat_id, delivery.chat_kind == "group")
                    task = asyncio.create_task(self._send_one(lane, outbound, delivery))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    task.add_done_callback(lambda _: slots.release())
                    if len(lane.outcomes) >= SETTLE_EVERY:
                        await self._settle(lane)
                await self._settle(lane)
            if running:
                await asyncio.gather(*running)
        finally:
            await self._settle(lane)

    async def _settle(self, lane: _Lane) -> None:
        outcomes, lane.outcomes = lane.outcomes, []
        if outcomes:
            await self._repo.settle(outcomes, self._now())

    async def _send_one(self, lane: _Lane, outbound: Deliverer, d: Delivery) -> None:
        outcome = await self._attempt(lane, outbound, d)
        lane.outcomes.append(outcome)
        if outcome.status == SENT:
            self.stats.sent += 1

    async def _attempt(self, lane: _Lane, outbound: Deliverer, d: Delivery) -> Outcome:
        reply = await self._render(d.broadcast_id, d.language)
        if reply is None:
            return Outcome(d.id, CANCELLED, "broadcast cancelled", counts_as_attempt=False)
        chat = Chat(d.transport, d.chat_id, ChatKind.GROUP if d.chat_kind == "group" else ChatKind.PRIVATE)
        for _ in range(MAX_RATE_RETRIES):
            try:
                await outbound.deliver(chat, reply)
                return Outcome(d.id, SENT)
            except RateLimited as exc:
                self.stats.rate_limited += 1
                lane.pacer.pause(exc.retry_after)
                log.warning("outbox: %s asked to wait %.1f s; pausing that transport", d.transport, exc.retry_after)
                await lane.pacer.slot()
            except ChatGone as exc:
                self.stats.gone += 1
                await self._chat_gone(chat, d, exc)
                return Outcome(d.id, GONE, str(exc))
            except TransientError as exc:
                attempts = d.attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    self.stats.failed += 1
                    return Outcome(d.id, FAILED, f"{type(exc).__name__}: {exc}")
                retry = self._now() + dt.timedelta(seconds=self._backoff * 2 ** (attempts - 1))
                return Outcome(d.id, PENDING, f"{type(exc).__name__}: {exc}", retry)
            except DeliveryError as exc:
                self.stats.failed += 1
                return Outcome(d.id, FAILED, f"{type(exc).__name__}: {exc}")
            except Exception as exc:
                self.stats.failed += 1
                log.exception("outbox: unexpected error sending on %s", d.transport)
                return Outcome(d.id, FAILED, type(exc).__name__)
        retry = self._now() + dt.timedelta(seconds=lane.pacer.paused_for() + 1)
        return Outcome(d.id, PENDING, "rate limited", retry, counts_as_attempt=False)

    async def _chat_gone(self, chat: Chat, d: Delivery, exc: ChatGone) -> None:
        try:
            if exc.new_chat_id:
                await self._chat_events.chat_migrated(chat, exc.new_chat_id)
                # This delivery still owes the group its message, at its new address.
                destination = Destination(d.transport, exc.new_chat_id, d.chat_kind, d.language)
                await self._repo.enqueue(d.broadcast_id, [destination], self._now())
            else:
                await self._chat_events.chat_gone(chat)
        except StorageError as exc2:
            log.error("outbox: could not record a gone chat: %s", exc2)

    async def _render(self, broadcast_id: int, lang: str) -> Reply | None:
        key = (broadcast_id, lang)
        if key not in self._renders:
            b = await self._broadcasts.get(broadcast_id)
            if b is None or b.status == store.CANCELLED:
                return None
            self._renders[key] = broadcasting.render(self._content, b, lang)
            if len(self._renders) > 200:
                self._renders.pop(next(iter(self._renders)))
        return self._renders[key]

    def forget(self, broadcast_id: int) -> None:
        """A cancelled broadcast: deliveries already claimed are not sent."""
        for key in [k for k in self._renders if k[0] == broadcast_id]:
            del self._renders[key]

    # Progress ------------------------------------------------------------------

    async def _progress_loop(self) -> None:
        while self._running:
            await asyncio.sleep(self._progress_every)
            try:
                await self.report_progress()
            except Exception:
                log.exception("outbox: progress report failed")

    async def report_progress(self, force: bool = False) -> None:
        """Edit each running broadcast's progress message (at most every few seconds); close finished ones."""
        now = self._now()
        for b in await self._broadcasts.active():
            if b.send_at > now:
                continue  # scheduled for later
            progress = await self._repo.progress(b.id)
            finished = progress.finished
            if finished:
                await self._broadcasts.finish(b.id, now)
                log.info("outbox: broadcast %d finished sent=%d failed=%d", b.id, progress.sent, progress.failed)
            await self._edit_progress(b, progress, force or finished)
            if finished:
                self._tracking.pop(b.id, None)

    async def _edit_progress(self, b: store.Broadcast, p: Progress, force: bool) -> None:
        if not (b.progress_message_id and b.admin_transport and b.admin_chat_id):
            return
        outbound = self._outbounds.get(b.admin_transport)
        if outbound is None:
            return
        mono = self._clock.monotonic()
        track = self._tracking.setdefault(b.id, _Tracking(mono, p.done))
        if not force and mono - track.last_edit < self._progress_every:
            return
        text = progress_text(self._content, str(b.body.get("admin_lang", "fr")), p, track, mono)
        if text.plain == track.last_text:
            return
        track.last_edit, track.last_text = mono, text.plain
        sent = Sent(Chat(b.admin_transport, b.admin_chat_id), b.progress_message_id)
        try:
            await outbound.edit(sent, Reply(text))
        except DeliveryError as exc:
            log.warning("outbox: progress message not edited error=%s", type(exc).__name__)

    def _now(self) -> dt.datetime:
        return self._clock.now()


def progress_text(content: Content, lang: str, p: Progress, track: _Tracking, mono: float) -> Rich:
    share = p.done / p.total if p.total else 1.0
    filled = round(share * BAR_WIDTH)
    elapsed = max(mono - track.started, 1e-6)
    rate = (p.done - track.done_at_start) / elapsed if p.waiting else 0.0
    key = "broadcast_progress" if p.waiting else "broadcast_progress_done"
    return content.rich(
        lang,
        key,
        bar="▓" * filled + "░" * (BAR_WIDTH - filled),
        percent=round(share * 100),
        sent=p.sent,
        failed=p.failed + p.gone,
        remaining=p.waiting,
        rate=f"{rate:.1f}",
    )
