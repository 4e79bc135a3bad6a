"""Stopping a transport's receive loop the same way on every platform."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


async def stop_receiving(task: asyncio.Task[None] | None, idle: asyncio.Event, grace: float, platform: str) -> None:
    """Let the batch being handled finish (up to `grace` seconds), then cancel the loop.

    Whatever is cut off was not acknowledged to the platform, so it is received again at the next start.
    """
    if task is None:
        return
    if not idle.is_set() and grace > 0:
        try:
            await asyncio.wait_for(idle.wait(), grace)
        except TimeoutError:
            log.warning("%s stopped while handling updates; they will be received again", platform)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
