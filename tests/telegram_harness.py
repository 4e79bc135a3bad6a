"""The whole bot on Telegram for a test: the stand-in API, a real database, the real router and transport.

`world.say(user, text)` pushes an update as Telegram would, waits until the bot
has handled it (it asks for the next offset, or the webhook call returns), and
returns the messages the user received, as a Telegram client shows them.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from bot.app import Bot, build_bot
from bot.clock import Clock
from bot.events import Chat, ChatKind
from bot.transports.telegram import TelegramTransport
from tests.conftest import make_settings
from tests.telegram_stub import TOKEN, StoredMessage, TelegramStub, User


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RecordingChatEvents:
    """The core's chat hooks, recorded (the real ones move subscriptions)."""

    def __init__(self) -> None:
        self.gone: list[Chat] = []
        self.migrated: list[tuple[Chat, str]] = []

    async def chat_gone(self, chat: Chat) -> None:
        self.gone.append(chat)

    async def chat_migrated(self, old: Chat, new_id: str) -> None:
        self.migrated.append((old, new_id))


class TelegramWorld:
    def __init__(
        self, tmp_path: Path, clock: Clock | None = None, *, record_chat_events: bool = True, **settings: Any
    ) -> None:
        self.record_chat_events = record_chat_events  # False: the core's real hooks (subscriptions follow)
        self.tmp_path = tmp_path
        self.clock = clock
        self.overrides = settings
        # Calls are stamped with the bot's clock: a 429 pause it sleeps through shows in their times.
        self.stub = TelegramStub(monotonic=clock.monotonic) if clock is not None else TelegramStub()
        self.events = RecordingChatEvents()
        self.bot: Bot | None = None
        self.transport: TelegramTransport | None = None

    @property
    def webhook(self) -> bool:
        return self.overrides.get("telegram_mode") == "webhook"

    async def __aenter__(self) -> TelegramWorld:
        await self.stub.start()
        values: dict[str, Any] = {"telegram_bot_token": TOKEN, "telegram_api_url": self.stub.api_url}
        if self.webhook:
            port = free_port()
            values |= {
                "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram/hook",
                "telegram_webhook_port": port,
                "telegram_webhook_secret": "s3cret-token_value",
            }
        values |= self.overrides
        settings = make_settings(self.tmp_path, **values)
        self.bot = await build_bot(settings, self.clock, chat_events=self.events if self.record_chat_events else None)
        return self

    async def start(self) -> TelegramTransport:
        assert self.bot is not None
        self.transport = TelegramTransport(self.bot.services.for_transport(), self.bot.router, poll_timeout=1)
        await self.transport.start()
        return self.transport

    async def __aexit__(self, *exc: object) -> None:
        if self.transport is not None:
            await self.transport.stop(grace=0)
        if self.bot is not None:
            await self.bot.close()
        await self.stub.close()

    # Acting as Telegram's users --------------------------------------------------

    async def deliver(self, update: dict[str, Any], *, duplicate: bool = False) -> None:
        """Hand the update to the bot and wait until it is handled."""
        if self.webhook:
            status = await self.stub.post_webhook(update)
            assert status == 200
            if duplicate:
                assert await self.stub.post_webhook(update) == 200
            return
        self.stub.push(update, duplicate=duplicate)
        await self.handled(update["update_id"])

    async def handled(self, update_id: int, timeout: float = 5.0) -> None:
        """The bot asked for updates after this one: it has handled it (polling mode)."""

        def acknowledged() -> bool:
            return any(int(c.params.get("offset") or 0) > update_id for c in self.stub.sent("getUpdates"))

        await self.stub.wait_for(acknowledged, timeout)

    async def say(
        self, user: User, text: str, *, chat_id: int | None = None, chat_type: str = "private", **kw: Any
    ) -> list[StoredMessage]:
        where = chat_id if chat_id is not None else user.id
        before = set(self.stub.messages)
        await self.deliver(self.stub.message_update(user, text, chat_id=chat_id, chat_type=chat_type, **kw))
        return [m for k, m in sorted(self.stub.messages.items()) if k not in before and m.chat_id == where]

    async def press(
        self, user: User, message: StoredMessage, label: str, *, twice: bool = False
    ) -> list[StoredMessage]:
        """Press a button; `twice` is an impatient double press (two callback queries)."""
        data = button_data(message, label)
        before = set(self.stub.messages)
        first = self.stub.press_update(user, message, data)
        if twice and not self.webhook:
            self.stub.push(first)  # both queued before the bot fetches them: one batch
            await self.deliver(self.stub.press_update(user, message, data))
        else:
            await self.deliver(first)
            if twice:
                await self.deliver(self.stub.press_update(user, message, data))
        return [m for k, m in sorted(self.stub.messages.items()) if k not in before and m.chat_id == message.chat_id]


def buttons(message: StoredMessage) -> list[str]:
    markup = message.reply_markup or {"inline_keyboard": []}
    return [button["text"] for row in markup["inline_keyboard"] for button in row]


def button_data(message: StoredMessage, label: str) -> str:
    markup = message.reply_markup or {"inline_keyboard": []}
    for row in markup["inline_keyboard"]:
        for button in row:
            if label.lower() in button["text"].lower():
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {buttons(message)}")


def private(user: User) -> Chat:
    return Chat("telegram", str(user.id), ChatKind.PRIVATE)
