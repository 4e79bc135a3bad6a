"""Updates already handled in a batch the platform does not yet know we handled.

Telegram (the polling offset) and Matrix (the sync token) are told once a whole
batch is handled. After a crash mid-batch the platform delivers the batch again,
and an earlier message of a chat would meet the dialogue where a later one left
it: a "oui" meant for one question would answer the next. So when a chat has
more updates waiting in the same batch, each one handled is marked here first;
after a restart marked updates are skipped. The one update in flight at the
crash (at most one per chat) is delivered again, and the router answers it as it
was answered the first time. A chat with one update per batch costs no write.
"""

from __future__ import annotations

import json
import logging

from bot.transports.offers import KeyValues
from storage.db import StorageError

log = logging.getLogger(__name__)


class HandledMarks:
    def __init__(self, kv: KeyValues, key: str) -> None:
        self._kv = kv
        self._key = key
        self._batch: str | None = None
        self._ids: set[str] = set()

    async def load(self, batch: str | None) -> None:
        """The marks left by the previous process for this batch (its offset or sync token), if any."""
        raw = await self._kv.get(self._key)
        data = json.loads(raw) if raw else {}
        self._batch = batch
        self._ids = set(data.get("ids", ())) if batch is not None and data.get("batch") == batch else set()

    def seen(self, update_id: str) -> bool:
        return update_id in self._ids

    async def mark(self, batch: str | None, update_id: str) -> None:
        if batch != self._batch:
            self._batch, self._ids = batch, set()
        self._ids.add(update_id)
        try:
            await self._kv.set(self._key, json.dumps({"batch": batch, "ids": sorted(self._ids)}))
        except StorageError as exc:
            log.warning("handled update not marked: %s", type(exc).__name__)

    async def clear(self) -> None:
        """The platform now knows the batch is handled (the offset or token is stored)."""
        if not self._ids:
            return
        self._ids = set()
        try:
            await self._kv.set(self._key, "{}")
        except StorageError as exc:
            log.warning("handled marks not cleared: %s", type(exc).__name__)
