"""What happens when a transport reports a chat gone or moved: subscriptions follow or end.

A group that removed the bot, or a user who blocked it, gets no more broadcasts:
its subscriptions end, its contact row (for followers) is inactive, and deliveries
still waiting for it are marked gone. A Telegram group upgraded to a supergroup
gets a new id: its subscriptions and waiting deliveries move to that id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from storage import outbox, subscriptions

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.events import Chat
    from storage.db import Database

log = logging.getLogger(__name__)


class SubscriptionChatEvents:
    """The `ChatEvents` hook the transports call."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def chat_gone(self, chat: Chat) -> None:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            ended = await subscriptions.end_chat_in(tx, chat.transport, chat.id)
            dropped = await outbox.drop_chat_in(tx, chat.transport, chat.id, now)
        log.info("chat gone transport=%s kind=%s ended=%d dropped=%d", chat.transport, chat.kind.value, ended, dropped)

    async def chat_migrated(self, old: Chat, new_id: str) -> None:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            moved = await subscriptions.move_chat_in(tx, old.transport, old.id, new_id)
            moved_deliveries = await outbox.move_chat_in(tx, old.transport, old.id, new_id, now)
        log.info("chat migrated transport=%s subscriptions=%d deliveries=%d", old.transport, moved, moved_deliveries)
