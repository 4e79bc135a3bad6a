"""A recording platform for outbox tests: it keeps what was delivered and can fail on demand."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.app import Bot
from bot.events import Chat, Pacing, Reply, Sent
from bot.outbox import Outbox
from storage.db import to_db_time
from tests.conftest import Chat as Console

ADMIN = ("console", "1")  # the console's default user, an admin in `admin_world`


def restarted_outbox(bot: Bot) -> Outbox:
    """A second outbox worker on the bot's database and platforms, as after a restart."""
    s = bot.services
    return Outbox(
        deliveries=s.deliveries,
        broadcasts=s.broadcasts,
        content=s.content,
        clock=s.clock,
        outbounds=s.outbounds,
        chat_events=s.chat_events,
    )


@dataclass(frozen=True)
class Delivered:
    chat: Chat
    reply: Reply
    at: float  # the platform's monotonic clock (the test's clock when it has one)

    @property
    def text(self) -> str:
        return self.reply.text.plain


class RecordingPlatform:
    """A platform as the outbox sees it (a `Deliverer`): it records what it is given."""

    pacing = Pacing(25.0)  # the configured Telegram rate, 1 message/s per chat
    link: str | None = None  # the link to a private chat with the bot, when a test gives it one

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self.delivered: list[Delivered] = []
        self.edits: list[tuple[Sent, Reply]] = []
        self.errors: dict[str, list[Exception]] = {}  # chat id -> errors raised by the next deliveries
        self.always: dict[str, Exception] = {}  # chat id -> error raised every time
        self.attempts: list[tuple[str, float]] = []
        self._ids = itertools.count(1)

    def fail_next(self, chat_id: str, *errors: Exception) -> None:
        self.errors.setdefault(chat_id, []).extend(errors)

    async def deliver(self, chat: Chat, reply: Reply) -> Sent:
        self.attempts.append((chat.id, self._monotonic()))
        if chat.id in self.always:
            raise self.always[chat.id]
        queued = self.errors.get(chat.id)
        if queued:
            raise queued.pop(0)
        self.delivered.append(Delivered(chat, reply, self._monotonic()))
        return Sent(chat, str(next(self._ids)))

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        return await self.deliver(chat, reply)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        self.edits.append((sent, reply))

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        return True

    def chat_link(self, start: str | None = None) -> str | None:
        return f"{self.link}?start={start}" if self.link and start else self.link

    def to(self, chat_id: str) -> list[Delivered]:
        return [d for d in self.delivered if d.chat.id == chat_id]


async def add_followers(bot: Bot, *followers: tuple[str, str, str]) -> None:
    """Supporters who opted in to news: (transport, chat id, language)."""
    now = to_db_time(bot.services.clock.now())
    async with bot.services.db.transaction() as tx:
        for i, (transport, chat_id, lang) in enumerate(followers):
            await tx.execute(
                "INSERT INTO contacts (pseudonym, transport, chat_id, language, created_at, active)"
                " VALUES (?, ?, ?, ?, ?, 1)",
                (f"p{transport}{chat_id}{i}", transport, chat_id, lang, now),
            )


async def admin_world(bot: Bot, subscribe: dict[str, str], *followers: tuple[str, str, str]) -> RecordingPlatform:
    """A recording platform as the outbox's audience, groups subscribed (group id -> the words after
    /abonner), and followers; the bot is built with the console user "1" an admin (`ADMIN`)."""
    assert ADMIN in bot.services.admins, "build the bot with ADMIN among its admins (the `admins` fixture)"
    platform = RecordingPlatform()
    bot.services.outbounds["console"] = platform
    for group, kinds in subscribe.items():
        await Console(bot, Console.user(group=group, admin=True)).say(f"/abonner {kinds}".strip())
    await add_followers(bot, *followers)
    return platform
