"""Telegram, through python-telegram-bot: updates become `Inbound` events, `Reply`s become Bot API calls.

This module and its parts (`telegram_send.py`: replies as Bot API calls and errors as the
core's; `telegram_render.py`, `telegram_types.py`) are the only ones that import `telegram`.
They use PTB's `Bot` (HTTP client,
request encoding, error mapping, `Update` parsing) but neither its `Application`
dispatch nor its `Updater`:

- Restart safety: PTB's updater acknowledges updates (by asking for the next
  offset) before handlers have finished, so a crash could lose a pressed
  confirmation. Here the polling loop asks for the next offset only after every
  update of a batch is handled, and stores it, so a restart resumes there. When a
  chat has several updates in one batch, each handled one is marked first
  (`bot/transports/handled.py`), so after a crash only the one in flight comes
  again, and the router answers it as it did the first time.
- Dialogues, jobs and persistence belong to the core and serve every platform;
  PTB's `ConversationHandler`, `JobQueue` and persistence are not used.
- `start()` and `stop()` run inside the process's one event loop, beside Matrix
  and the scheduler (`run_polling()` would own the loop).
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    CallbackQuery,
    ChatMember,
    ChatMemberUpdated,
    Message,
    Update,
)
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.config import SettingsError
from bot.content import LANGUAGES
from bot.context import TransportServices
from bot.events import (
    Chat,
    DeliveryError,
    Inbound,
    Pacing,
    Reply,
    Sent,
    TransientError,
)
from bot.router import Command, Router
from bot.transports.handled import HandledMarks
from bot.transports.loops import stop_receiving
from bot.transports.rate_gate import RateGate
from bot.transports.telegram_send import MessageSender
from bot.transports.telegram_types import (
    ALLOWED_UPDATES,
    TRANSPORT,
    chat_of,
    deep_link,
    kind_of,
    sender_of,
)
from storage.db import StorageError

log = logging.getLogger(__name__)

T = TypeVar("T")

OFFSET_KEY = "telegram:update_offset"
HANDLED_KEY = "telegram:handled"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
GROUP_PER_MINUTE = 20  # Bot API FAQ: at most 20 messages per minute to one group
ADMIN_CACHE_SECONDS = 60.0  # a demoted admin keeps their rights this long, at most
DOUBLE_PRESS_SECONDS = 5.0  # a second press of the same button by the same user within this is a double press
PRESSED_MEMORY = 2048  # presses remembered for that purpose
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")  # what setMyCommands accepts


class TelegramTransport:
    """The Telegram transport: the `Outbound` port for the core and a `Component` of the process.

    `send` (interactive replies) waits out a 429; `deliver` (the broadcast outbox)
    never waits and raises `RateLimited` (see `telegram_send.py`).
    """

    name = TRANSPORT

    def __init__(self, services: TransportServices, router: Router, *, poll_timeout: float = 30.0) -> None:
        self._services = services
        self._settings = services.settings
        self._router = router
        self._poll_timeout = poll_timeout
        self._api: Bot | None = None
        self.username = ""
        self._bot_id = 0
        self._mention: re.Pattern[str] | None = None
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._clock = services.clock
        self._sender = MessageSender(lambda: self.api, RateGate(TRANSPORT, services.clock, services.metrics))
        self._admin_cache: dict[tuple[str, str], tuple[float, bool]] = {}
        self._pressed: collections.OrderedDict[tuple[str, str, str], float] = collections.OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: collections.Counter[str] = collections.Counter()
        self._handled = HandledMarks(services.kv, HANDLED_KEY)
        self._runner: web.AppRunner | None = None
        # Bot API FAQ: about 30 messages/s overall (the configured rate leaves room for replies),
        # about 1/s to one chat, at most 20 per minute to one group.
        self.pacing = Pacing(self._settings.broadcast_rate_telegram, group_per_minute=GROUP_PER_MINUTE)

    # Component -------------------------------------------------------------

    async def start(self) -> None:
        """Check the settings, identify the bot (getMe), publish the command menus, then listen."""
        s = self._settings
        webhook = s.telegram_mode == "webhook"
        if s.telegram_bot_token is None or not s.telegram_bot_token.get_secret_value():
            raise SettingsError("invalid setting TELEGRAM_BOT_TOKEN: required to start Telegram")
        if webhook and (s.telegram_webhook_secret is None or not s.telegram_webhook_secret.get_secret_value()):
            raise SettingsError("invalid setting TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_MODE is webhook")
        if webhook and not s.telegram_webhook_url:
            raise SettingsError("invalid setting TELEGRAM_WEBHOOK_URL: required when TELEGRAM_MODE is webhook")
        api_url = s.telegram_api_url
        file_url = api_url[: -len("bot")] + "file/bot" if api_url.endswith("/bot") else api_url
        self._api = Bot(
            s.telegram_bot_token.get_secret_value(),
            base_url=api_url,
            base_file_url=file_url,
            request=HTTPXRequest(connection_pool_size=64, read_timeout=15.0, media_write_timeout=30.0),
            get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=10.0),
        )
        try:
            await self._connect(webhook)
        except BaseException:
            await self.stop(grace=0)  # close what was opened; the process reports the error
            raise
        log.info("telegram started mode=%s", s.telegram_mode)

    async def _connect(self, webhook: bool) -> None:
        try:
            await self.api.initialize()
        except InvalidToken:
            raise SettingsError("invalid setting TELEGRAM_BOT_TOKEN: refused by the Bot API") from None
        except TelegramError as exc:
            raise TransientError(f"Telegram unreachable at start-up ({type(exc).__name__})") from None
        self.username = self.api.username
        self._bot_id = self.api.id
        self._mention = re.compile(rf"(?<![\w@])@{re.escape(self.username)}(?!\w)", re.IGNORECASE)
        self._services.outbounds[TRANSPORT] = self
        self._router.set_username(TRANSPORT, self.username)
        await self._publish_commands()
        self._stopping = False
        if webhook:
            await self._start_webhook()
        else:
            await self._call(lambda: self.api.delete_webhook(drop_pending_updates=False), wait=True)
            stored = await self._services.kv.get(OFFSET_KEY)
            self._offset = int(stored) if stored else None
            await self._handled.load(str(self._offset))
            self._task = asyncio.create_task(self._poll(), name="telegram-polling")

    def healthy(self) -> bool:
        """For /healthz: the webhook server listens, or the polling loop is alive."""
        if self._stopping or self._api is None:
            return False
        return self._runner is not None or (self._task is not None and not self._task.done())

    async def stop(self, grace: float = 10.0) -> None:
        """Let the batch being handled finish (up to `grace` seconds), then stop listening and close."""
        self._stopping = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await stop_receiving(self._task, self._idle, grace, TRANSPORT)
        self._task = None
        if self._services.outbounds.get(TRANSPORT) is self:
            del self._services.outbounds[TRANSPORT]
        if self._api is not None:
            await self._api.shutdown()
            self._api = None

    @property
    def leader_only(self) -> bool:
        """Webhook calls may reach any instance; long polling must be done by one only (the leader)."""
        return self._settings.telegram_mode != "webhook"

    @property
    def api(self) -> Bot:
        if self._api is None:
            raise RuntimeError("the Telegram transport is not started")
        return self._api

    # Command menus ----------------------------------------------------------

    async def _publish_commands(self) -> None:
        """French menu by default, English for English-speaking clients; in private chats and in groups, what
        works there (as /aide says); admin commands only in admins' chats."""
        commands = self._services.commands
        public = [c for c in commands if not c.admin]
        scopes: list[tuple[BotCommandScope | None, list[Command]]] = [
            (None, public),
            (BotCommandScopeAllPrivateChats(), [c for c in public if c.works_in(is_group=False)]),
            (BotCommandScopeAllGroupChats(), [c for c in public if c.works_in(is_group=True)]),
        ]
        for user_id in sorted(user for transport, user in self._services.admins if transport == TRANSPORT):
            if user_id.lstrip("-").isdigit() and any(c.admin for c in commands):
                scopes.append((BotCommandScopeChat(int(user_id)), [c for c in commands if c.works_in(is_group=False)]))
        for scope, shown in scopes:
            for lang in LANGUAGES:  # the first language's menu is the default, the others by language_code
                code = None if lang == LANGUAGES[0] else lang
                await self._set_commands(self._menu(shown, lang), language_code=code, scope=scope)

    def _menu(self, commands: Iterable[Command], lang: str) -> list[BotCommand]:
        menu = []
        for command in commands:
            if command.menu_key is None:
                continue
            name = command.name_in(lang)
            if not _COMMAND_NAME.match(name):
                continue
            label = self._services.template(lang, command.menu_key).plain.strip()[:256]
            if label:
                menu.append(BotCommand(name, label))
        return menu

    async def _set_commands(
        self, menu: list[BotCommand], language_code: str | None, scope: BotCommandScope | None = None
    ) -> None:
        try:
            await self._call(
                lambda: self.api.set_my_commands(menu, scope=scope, language_code=language_code), wait=True
            )
        except DeliveryError as exc:
            # A menu is a convenience: an admin who never opened a chat with the bot makes this fail.
            log.warning("command menu not published scope=%s error=%s", scope and scope.type, type(exc).__name__)

    # Polling ----------------------------------------------------------------

    async def _poll(self) -> None:
        backoff = 0.0
        while not self._stopping:
            try:
                updates = await self._call(
                    lambda: self.api.get_updates(
                        offset=self._offset, timeout=int(self._poll_timeout), allowed_updates=ALLOWED_UPDATES
                    ),
                    wait=True,
                )
                backoff = 0.0
            except DeliveryError as exc:
                backoff = min(30.0, max(1.0, backoff * 2))
                log.warning("telegram getUpdates failed error=%s retry_in=%.0fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                continue
            if not updates:
                continue
            self._idle.clear()
            try:
                await self._handle_batch(updates)
            finally:
                self._idle.set()

    async def _handle_batch(self, updates: Sequence[Update]) -> None:
        """Handle a batch (in order within each chat, chats concurrently), then move the offset past it."""
        fresh: dict[int, Update] = {}
        batch = str(self._offset)
        for update in updates:
            if self._offset is not None and update.update_id < self._offset:
                continue  # already handled and acknowledged
            if not self._handled.seen(str(update.update_id)):  # else handled just before a crash
                fresh.setdefault(update.update_id, update)
        if fresh:
            await asyncio.gather(*(self._handle_in_order(u, batch) for u in fresh.values()))
        self._offset = max(u.update_id for u in updates) + 1
        try:
            await self._services.kv.set(OFFSET_KEY, str(self._offset))
            await self._handled.clear()
        except StorageError as exc:
            log.warning("telegram offset not stored: %s", type(exc).__name__)

    async def _handle_in_order(self, update: Update, batch: str | None = None) -> None:
        chat = update.effective_chat
        key = str(chat.id) if chat is not None else ""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._lock_users[key] += 1
        try:
            async with lock:
                await self._handle(update)
                if batch is not None and self._lock_users[key] > 1:  # the chat's next update waits behind it
                    await self._handled.mark(batch, str(update.update_id))
        except Exception:
            log.exception("telegram update not handled kind=%s", kind_of(update))
        finally:
            self._lock_users[key] -= 1
            if not self._lock_users[key]:
                del self._lock_users[key]
                del self._locks[key]

    async def _handle(self, update: Update) -> None:
        if update.callback_query is not None:
            await self._on_press(update.callback_query)
        elif update.my_chat_member is not None:
            await self._on_membership(update.my_chat_member)
        elif update.message is not None:
            await self._on_message(update.message)

    # Webhook ----------------------------------------------------------------

    async def _start_webhook(self) -> None:
        s = self._settings
        path = urlsplit(s.telegram_webhook_url).path or "/"
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(path, self._on_webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.telegram_webhook_listen, s.telegram_webhook_port).start()
        secret = s.telegram_webhook_secret.get_secret_value() if s.telegram_webhook_secret else ""
        await self._call(
            lambda: self.api.set_webhook(
                s.telegram_webhook_url, allowed_updates=ALLOWED_UPDATES, secret_token=secret, drop_pending_updates=False
            ),
            wait=True,
        )

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """One update from Telegram; answered only after it is handled, so Telegram retries a crash."""
        secret = self._settings.telegram_webhook_secret
        expected = secret.get_secret_value().encode() if secret else b""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            log.warning("telegram webhook call refused: wrong or missing secret")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.api)
        except Exception:
            log.warning("telegram webhook call refused: not an update")
            return web.Response(status=400)
        await self._handle_in_order(update)
        return web.Response(status=200)

    # Inbound ----------------------------------------------------------------

    async def _on_message(self, message: Message) -> None:
        chat = chat_of(message.chat)
        if chat is None:
            return
        if message.migrate_to_chat_id:
            log.info("telegram group migrated to a supergroup")
            await self._services.chat_events.chat_migrated(chat, str(message.migrate_to_chat_id))
            return
        user = message.from_user
        if user is None or user.is_bot:
            return
        text = message.text or message.caption or ""
        if not text and (chat.is_group or message.effective_attachment is None):
            return  # service messages (members joining, pins...) are not addressed to the bot
        addressed = not chat.is_group
        reply_to = message.reply_to_message
        if reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == self._bot_id:
            addressed = True
        if self._mention is not None and not text.startswith(("/", "!")) and self._mention.search(text):
            addressed = True
            text = " ".join(self._mention.sub(" ", text).split())
        inbound = Inbound(chat, sender_of(user), text=text, message_id=str(message.message_id), addressed=addressed)
        await self._router.dispatch(inbound, self)

    async def _on_press(self, query: CallbackQuery) -> None:
        """A button press: always answered (clients show a spinner until then).

        In a private chat the pressed keyboard is removed, so it cannot be pressed
        again. A group message is shared: its keyboard stays for the others (a
        bystander's press on someone's dialogue is answered "expired" by the router).
        A double press (same user, same message, within seconds) is handled once.
        """
        message = query.message
        chat = chat_of(message.chat) if message is not None else None
        if message is None or chat is None or query.data is None:
            await self._quietly(self._call(lambda: self.api.answer_callback_query(query.id), wait=True))
            return
        message_id = str(message.message_id)
        if self._double_press((chat.id, message_id, str(query.from_user.id))):
            await self._quietly(self._call(lambda: self.api.answer_callback_query(query.id), wait=True))
            return
        inbound = Inbound(chat, sender_of(query.from_user), choice=query.data, message_id=message_id, addressed=True)
        courtesy: list[Awaitable[object]] = [self._call(lambda: self.api.answer_callback_query(query.id), wait=True)]
        if not chat.is_group:
            courtesy.append(
                self._call(
                    lambda: self.api.edit_message_reply_markup(chat_id=int(chat.id), message_id=int(message_id)),
                    wait=True,
                )
            )
        await asyncio.gather(*(self._quietly(c) for c in courtesy), self._router.dispatch(inbound, self))

    def _double_press(self, key: tuple[str, str, str]) -> bool:
        now = self._clock.monotonic()
        previous = self._pressed.pop(key, None)
        self._pressed[key] = now
        while len(self._pressed) > PRESSED_MEMORY:
            self._pressed.popitem(last=False)
        return previous is not None and now - previous < DOUBLE_PRESS_SECONDS

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        """The bot was added, removed, blocked or unblocked."""
        chat = chat_of(change.chat)
        if chat is None:
            return
        status = change.new_chat_member.status
        gone = status in (ChatMember.LEFT, ChatMember.BANNED)
        log.info("telegram membership changed kind=%s status=%s", chat.kind.value, status)
        if gone:
            self._admin_cache = {k: v for k, v in self._admin_cache.items() if k[0] != chat.id}
            await self._services.chat_events.chat_gone(chat)

    # Outbound port ------------------------------------------------------------

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        return await self._sender.send(chat, reply, wait=True)

    async def deliver(self, chat: Chat, reply: Reply) -> Sent:
        """Send without waiting out a rate limit: raises `RateLimited` so the caller reschedules."""
        return await self._sender.send(chat, reply, wait=False)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        await self._sender.edit(sent, reply)
        if reply.choices:
            # A fresh keyboard on the same message may be pressed again at once.
            for key in [k for k in self._pressed if k[:2] == (sent.chat.id, sent.message_id)]:
                del self._pressed[key]

    def chat_link(self, start: str | None = None) -> str | None:
        """t.me/<bot>, and with `start` a deep link: opening it sends the bot `/start <start>`."""
        return deep_link(self.username, start) if self.username else None

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        """Group owners and administrators; in a private chat, its one user. Cached for a minute."""
        if not chat.is_group:
            return chat.id == user_id
        key = (chat.id, user_id)
        now = self._clock.monotonic()
        cached = self._admin_cache.get(key)
        if cached is not None and now - cached[0] < ADMIN_CACHE_SECONDS:
            return cached[1]
        member = await self._call(lambda: self.api.get_chat_member(int(chat.id), int(user_id)), wait=True)
        is_admin = member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
        self._admin_cache[key] = (now, is_admin)
        return is_admin

    # Errors ---------------------------------------------------------------------

    async def _call(self, request: Callable[[], Awaitable[T]], *, wait: bool) -> T:
        return await self._sender.call(request, wait=wait)

    async def _quietly(self, request: Awaitable[object]) -> None:
        """Calls whose failure changes nothing for the user (answering a press, removing a used keyboard)."""
        try:
            await request
        except (DeliveryError, TelegramError) as exc:
            log.debug("telegram courtesy call failed error=%s", type(exc).__name__)
