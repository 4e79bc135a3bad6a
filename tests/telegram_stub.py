"""A local stand-in for the Telegram Bot API: real HTTP on 127.0.0.1, Telegram's request and response shapes.

It implements the methods the bot uses, keeps the messages it "delivered" per chat
(with their keyboards), long-polls `getUpdates` with Telegram's offset semantics,
calls a webhook like Telegram does, and can be told to fail: 429 with
`retry_after`, 403, 400 "chat not found", migrated groups, 5xx, slow answers.
Every call is recorded with the time it arrived, so a test can check that nothing
reached the API during a rate-limit pause.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "PetitionTestBot"
_JSON_FIELDS = ("reply_markup", "allowed_updates", "commands", "scope", "link_preview_options", "entities")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly"
    " the same as a current content and reply markup of the message"
)
_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # on arrival, by the stub's clock (the bot's test clock when the world has one)


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    text: str  # visible text, as a Telegram client shows it
    html: str
    reply_markup: dict[str, Any] | None
    kind: str = "text"  # text, photo, document
    silent: bool = False


@dataclass
class Fault:
    status: int
    description: str
    parameters: dict[str, Any] | None = None
    delay: float = 0.0


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "fr"

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


class _Visible(HTMLParser):
    """Telegram's HTML parse mode, strictly: known tags only, properly nested, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = f'Can\'t find end tag corresponding to start tag "{tag}"'

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(text_html: str) -> str:
    """The text a user sees; raises ValueError like Telegram's "can't parse entities"."""
    parser = _Visible()
    parser.feed(text_html)
    parser.close()
    if parser.error or parser.stack:
        raise ValueError(parser.error or "unclosed tag")
    return "".join(parser.text)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


@dataclass
class TelegramStub:
    """Start with `await stub.start()`; `stub.api_url` goes into TELEGRAM_API_URL."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], StoredMessage] = field(default_factory=dict)
    admins: dict[int, set[int]] = field(default_factory=dict)  # chat id -> administrator user ids
    blocked: set[int] = field(default_factory=set)  # 403 on any send there
    unknown_chats: set[int] = field(default_factory=set)  # 400 chat not found
    migrated: dict[int, int] = field(default_factory=dict)  # old chat id -> new id (400 with parameter)
    webhook_url: str = ""
    webhook_secret: str = ""
    monotonic: Callable[[], float] = time.monotonic  # stamps calls: the bot's clock, so pauses compare

    def __post_init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._faults: dict[str, list[Fault]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.base = ""
        self.changed = asyncio.Event()
        self._closing = False

    # Life cycle ---------------------------------------------------------------

    async def start(self) -> TelegramStub:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._endpoint)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        self._closing = True
        self._new_update.set()  # end long polls now rather than at their timeout
        for event in self._holds.values():
            event.set()
        for task in self._tasks:
            task.cancel()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}/bot"

    # What the test does as Telegram's users -------------------------------------

    def push(self, update: dict[str, Any], *, delay: float = 0.0, duplicate: bool = False) -> dict[str, Any]:
        """Queue an update for getUpdates (after `delay` seconds; twice with `duplicate`)."""
        update.setdefault("update_id", next(self._update_ids))

        def add() -> None:
            self._pending.append(update)
            if duplicate:
                self._pending.append(dict(update))
            self._new_update.set()

        if delay:
            self._spawn(self._later(delay, add))
        else:
            add()
        return update

    def message_update(
        self,
        user: User,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: StoredMessage | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        chat = self._chat_json(chat_id if chat_id is not None else user.id, chat_type, user)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user.json(),
            "text": text,
        }
        entities = _entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(reply_to)
        message.update(extra or {})
        return {"update_id": next(self._update_ids), "message": message}

    def press_update(self, user: User, message: StoredMessage, data: str) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids)),
                "from": user.json(),
                "chat_instance": "ci",
                "data": data,
                "message": self._message_json(message),
            },
        }

    def membership_update(self, user: User, chat_id: int, chat_type: str, old: str, new: str) -> dict[str, Any]:
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Petition", "username": BOT_USERNAME}
        return {
            "update_id": next(self._update_ids),
            "my_chat_member": {
                "chat": self._chat_json(chat_id, chat_type, user),
                "from": user.json(),
                "date": int(time.time()),
                "old_chat_member": {"status": old, "user": bot},
                "new_chat_member": {"status": new, "user": bot, **({"until_date": 0} if new == "kicked" else {})},
            },
        }

    async def post_webhook(self, update: dict[str, Any], secret: str | None = None) -> int:
        """Call the registered webhook as Telegram does; `secret` overrides the registered one."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        if secret == "":
            headers = {}
        async with self._session.post(self.webhook_url, json=update, headers=headers) as response:
            return response.status

    # What the test tells the API to do ------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """The next `times` calls of `method` fail this way."""
        self._faults.setdefault(method, []).extend([Fault(status, description, parameters, delay)] * times)

    def rate_limit(self, method: str, retry_after: int, times: int = 1) -> None:
        self.fail(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
            times=times,
        )

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait until the returned event is set (a slow API, or a crash mid-request)."""
        event = asyncio.Event()
        self._holds[method] = event
        return event

    # What the test reads --------------------------------------------------------

    def sent(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if method is None or c.method == method]

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    def last_message(self, chat_id: int) -> StoredMessage:
        return self.chat_messages(chat_id)[-1]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until the bot has done something (polling is asynchronous)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the bot did not do what the test waited for")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    # HTTP -----------------------------------------------------------------------

    async def _endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await _params(request)
        self.calls.append(Call(method, params, self.monotonic()))
        self.changed.set()
        held = self._holds.get(method)
        if held is not None:
            await held.wait()
        faults = self._faults.get(method)
        if faults:
            fault = faults.pop(0)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return _error(fault.status, fault.description, fault.parameters)
        handler = getattr(self, "_m_" + re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower(), None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except _ApiError as exc:
            return _error(exc.status, exc.description, exc.parameters)
        finally:
            self.changed.set()
        return web.json_response({"ok": True, "result": result})

    # Methods ------------------------------------------------------------------

    async def _m_get_me(self, p: dict[str, Any]) -> Any:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Petition",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_get_updates(self, p: dict[str, Any]) -> Any:
        if self.webhook_url:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        if offset:
            # Telegram forgets every update before the offset: they are confirmed.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._pending:
            if self._closing:
                return []
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                return []
        return self._pending[:limit]

    async def _m_delete_webhook(self, p: dict[str, Any]) -> Any:
        self.webhook_url = ""
        self.webhook_secret = ""
        return True

    async def _m_set_webhook(self, p: dict[str, Any]) -> Any:
        self.webhook_url = str(p["url"])
        self.webhook_secret = str(p.get("secret_token") or "")
        return True

    async def _m_get_webhook_info(self, p: dict[str, Any]) -> Any:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._pending)}

    async def _m_set_my_commands(self, p: dict[str, Any]) -> Any:
        scope = p.get("scope") or {}
        if scope.get("type") == "chat" and int(scope["chat_id"]) in self.unknown_chats:
            raise _ApiError(400, "Bad Request: chat not found")
        return True

    async def _m_send_message(self, p: dict[str, Any]) -> Any:
        chat_id = self._reachable(p["chat_id"])
        shown = self._visible(str(p["text"]), 4096, "text")
        return self._store(chat_id, shown, str(p["text"]), p, "text")

    async def _m_send_photo(self, p: dict[str, Any]) -> Any:
        chat_id = self._reachable(p["chat_id"])
        caption = str(p.get("caption") or "")
        shown = self._visible(caption, 1024, "caption") if caption else ""
        return self._store(chat_id, shown, caption, p, "photo")

    async def _m_send_document(self, p: dict[str, Any]) -> Any:
        chat_id = self._reachable(p["chat_id"])
        caption = str(p.get("caption") or "")
        shown = self._visible(caption, 1024, "caption") if caption else ""
        return self._store(chat_id, shown, caption, p, "document")

    async def _m_edit_message_text(self, p: dict[str, Any]) -> Any:
        message = self._find(p)
        shown = self._visible(str(p["text"]), 4096, "text")
        markup = _markup(p)
        if shown == message.text and markup == message.reply_markup:
            raise _ApiError(
                400,
                _NOT_MODIFIED,
            )
        message.text, message.html, message.reply_markup = shown, str(p["text"]), markup
        return self._message_json(message)

    async def _m_edit_message_caption(self, p: dict[str, Any]) -> Any:
        message = self._find(p)
        caption = str(p.get("caption") or "")
        message.text = self._visible(caption, 1024, "caption") if caption else ""
        message.html, message.reply_markup = caption, _markup(p)
        return self._message_json(message)

    async def _m_edit_message_reply_markup(self, p: dict[str, Any]) -> Any:
        message = self._find(p)
        markup = _markup(p)
        if markup == message.reply_markup:
            raise _ApiError(
                400,
                _NOT_MODIFIED,
            )
        message.reply_markup = markup
        return self._message_json(message)

    async def _m_answer_callback_query(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_get_chat_member(self, p: dict[str, Any]) -> Any:
        chat_id, user_id = self._reachable(p["chat_id"]), int(p["user_id"])
        user = {"id": user_id, "is_bot": False, "first_name": "Member"}
        if user_id in self.admins.get(chat_id, set()):
            return _administrator(user)
        return {"status": "member", "user": user}

    async def _m_get_chat_administrators(self, p: dict[str, Any]) -> Any:
        chat_id = self._reachable(p["chat_id"])
        return [_administrator({"id": u, "is_bot": False, "first_name": "Admin"}) for u in self.admins.get(chat_id, ())]

    # Helpers --------------------------------------------------------------------

    def _reachable(self, raw: Any) -> int:
        chat_id = int(raw)
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.unknown_chats:
            raise _ApiError(400, "Bad Request: chat not found")
        if chat_id in self.migrated:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        return chat_id

    def _visible(self, text_html: str, limit: int, what: str) -> str:
        try:
            shown = visible(text_html)
        except ValueError as exc:
            raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if not shown.strip() and what == "text":
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16(shown) > limit:
            raise _ApiError(400, f"Bad Request: message {what} is too long")
        return shown

    def _find(self, p: dict[str, Any]) -> StoredMessage:
        key = (int(p["chat_id"]), int(p["message_id"]))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _store(self, chat_id: int, shown: str, raw: str, p: dict[str, Any], kind: str) -> dict[str, Any]:
        markup = _markup(p)
        if markup is not None:
            for row in markup["inline_keyboard"]:
                for button in row:
                    if len(str(button.get("callback_data", "")).encode()) > 64:
                        raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        message = StoredMessage(
            chat_id, next(self._message_ids), shown, raw, markup, kind, _truthy(p.get("disable_notification"))
        )
        self.messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    def _chat_json(self, chat_id: int, chat_type: str, user: User) -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": user.first_name}
        return {"id": chat_id, "type": chat_type, "title": "Groupe de test"}

    def _message_json(self, m: StoredMessage) -> dict[str, Any]:
        chat_type = "private" if m.chat_id > 0 else ("supergroup" if m.chat_id < -1_000_000_000_000 else "group")
        data: dict[str, Any] = {
            "message_id": m.message_id,
            "date": int(time.time()),
            "chat": {"id": m.chat_id, "type": chat_type, **({"title": "Groupe de test"} if m.chat_id < 0 else {})},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Petition", "username": BOT_USERNAME},
        }
        if m.kind == "text":
            data["text"] = m.text
        else:
            data["caption"] = m.text
            if m.kind == "photo":
                data["photo"] = [{"file_id": "p1", "file_unique_id": "up1", "width": 800, "height": 600}]
            else:
                data["document"] = {"file_id": "d1", "file_unique_id": "ud1"}
        if m.reply_markup:
            data["reply_markup"] = m.reply_markup
        return data

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _later(delay: float, action: Callable[[], None]) -> None:
        await asyncio.sleep(delay)
        action()


async def _params(request: web.Request) -> dict[str, Any]:
    """Form-encoded, multipart or JSON bodies, or query parameters, as Telegram accepts them."""
    params: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = {"filename": value.filename, "size": len(value.file.read())}
                else:
                    params[key] = value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _markup(p: dict[str, Any]) -> dict[str, Any] | None:
    markup = p.get("reply_markup")
    if not markup or not markup.get("inline_keyboard"):
        return None
    return dict(markup)


def _truthy(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _administrator(user: dict[str, Any]) -> dict[str, Any]:
    rights = (
        "can_be_edited is_anonymous can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members"
        " can_promote_members can_change_info can_invite_users can_post_stories can_edit_stories can_delete_stories"
    ).split()
    return {"status": "administrator", "user": user, **{r: r not in ("can_be_edited", "is_anonymous") for r in rights}}


def _entities(text: str) -> list[dict[str, Any]]:
    """Mentions and a leading command, with UTF-16 offsets as Telegram computes them."""
    out = []
    if text.startswith("/"):
        word = text.split()[0]
        out.append({"type": "bot_command", "offset": 0, "length": _utf16(word)})
    pos = 0
    for word in text.split(" "):
        if word.startswith("@") and len(word) > 1:
            out.append({"type": "mention", "offset": _utf16(text[:pos]), "length": _utf16(word)})
        pos += len(word) + 1
    return out
