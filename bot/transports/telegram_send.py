"""Sending on Telegram: a `Reply` becomes Bot API calls, and Telegram's errors become the core's.

- `send(chat, reply, wait=True)` (interactive replies): on a 429 it waits
  `retry_after` and retries (within the rate gate's bounds, `rate_gate.py`),
  because the user is waiting for that reply; nothing else goes out on the token
  meanwhile. With `wait=False` (the broadcast outbox) it never waits: it raises
  `RateLimited(retry_after)` on a 429, or at once while a pause is running.
- Both raise `ChatGone` (blocked, kicked, chat not found, migrated: then with
  `new_chat_id`) and `TransientError` (network, timeouts, 5xx).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.events import Chat, ChatGone, DeliveryError, RateLimited, Reply, Sent, TransientError
from bot.transports.rate_gate import RateGate
from bot.transports.telegram_render import fits_caption, message_chunks, to_html
from bot.transports.telegram_types import keyboard, retry_after

T = TypeVar("T")

_NOT_MODIFIED = "message is not modified"
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class _NotModified(DeliveryError):
    """An edit that would change nothing; Telegram refuses it, and nothing needs doing."""


class MessageSender:
    """Replies and edits through the Bot API, every call through the transport's one rate gate."""

    def __init__(self, api: Callable[[], Bot], gate: RateGate) -> None:
        self._api = api
        self._gate = gate

    async def call(self, request: Callable[[], Awaitable[T]], *, wait: bool) -> T:
        """One Bot API call with Telegram's errors translated into the core's, and 429 pauses honoured.

        A 429 means nothing may reach the API on this token until `retry_after`
        has passed, so the pause (the rate gate) is shared by every call of this transport.
        """
        return await self._gate.call(lambda: _translated(request), wait=wait)

    async def send(self, chat: Chat, reply: Reply, *, wait: bool) -> Sent:
        markup = keyboard(reply.choices)  # validated before anything is sent
        chat_id = int(chat.id)
        silent = reply.silent
        attachments: list[tuple[str, bytes, str]] = []
        if reply.image is not None:
            attachments.append(("photo", reply.image.png, reply.image.name))
        if reply.document is not None:
            attachments.append(("document", reply.document.data, reply.document.name))
        caption = to_html(reply.text) if reply.text and attachments and fits_caption(reply.text) else None
        chunks = [] if caption is not None or not reply.text else message_chunks(reply.text)
        last: Message | None = None
        kind = "text"
        for i, (what, data, filename) in enumerate(attachments):
            final = i == len(attachments) - 1
            last = await self._send_file(
                what,
                chat_id,
                InputFile(data, filename=filename),
                caption=caption if final else None,
                markup=markup if final and not chunks else None,
                silent=silent,
                wait=wait,
            )
            kind = "caption"
        for i, chunk in enumerate(chunks):
            final = i == len(chunks) - 1
            last = await self._send_text(chat_id, chunk, markup if final else None, silent=silent, wait=wait)
            kind = "text"
        if last is None:
            raise ValueError("a reply needs text, an image or a document")
        return Sent(chat, str(last.message_id), {"kind": kind})

    async def _send_text(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None, *, silent: bool, wait: bool
    ) -> Message:
        return await self.call(
            lambda: self._api().send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_notification=silent,
                link_preview_options=_NO_PREVIEW,
            ),
            wait=wait,
        )

    async def _send_file(
        self,
        what: str,
        chat_id: int,
        file: InputFile,
        *,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
        silent: bool,
        wait: bool,
    ) -> Message:
        api = self._api()
        send = api.send_photo if what == "photo" else api.send_document
        return await self.call(
            lambda: send(
                chat_id,
                file,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_notification=silent,
            ),
            wait=wait,
        )

    async def edit(self, sent: Sent, reply: Reply) -> None:
        markup = keyboard(reply.choices)
        chat_id, message_id = int(sent.chat.id), int(sent.message_id)
        try:
            if sent.extra.get("kind") == "caption":
                caption = to_html(reply.text) if fits_caption(reply.text) else None
                await self.call(
                    lambda: self._api().edit_message_caption(
                        chat_id=chat_id,
                        message_id=message_id,
                        caption=caption,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    ),
                    wait=True,
                )
                if caption is None:
                    await self.send(sent.chat, Reply(reply.text, silent=True), wait=True)
            else:
                chunks = message_chunks(reply.text) or [""]
                first_markup = markup if len(chunks) == 1 else None
                await self.call(
                    lambda: self._api().edit_message_text(
                        chunks[0],
                        chat_id=chat_id,
                        message_id=message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=first_markup,
                        link_preview_options=_NO_PREVIEW,
                    ),
                    wait=True,
                )
                for i, chunk in enumerate(chunks[1:], start=2):
                    final = i == len(chunks)
                    await self._send_text(chat_id, chunk, markup if final else None, silent=False, wait=True)
        except _NotModified:
            pass


async def _translated(request: Callable[[], Awaitable[T]]) -> T:
    """The call, with Telegram's errors as the core's (`RateLimited`, `ChatGone`, `TransientError`…)."""
    try:
        return await request()
    except RetryAfter as exc:
        raise RateLimited(retry_after(exc)) from None
    except ChatMigrated as exc:
        raise ChatGone("migrated to a supergroup", new_chat_id=str(exc.new_chat_id)) from None
    except Forbidden:
        raise ChatGone("blocked or removed") from None
    except BadRequest as exc:
        reason = exc.message.lower()
        if "chat not found" in reason:
            raise ChatGone("chat not found") from None
        if _NOT_MODIFIED in reason:
            raise _NotModified(reason) from None
        raise DeliveryError(f"request refused by Telegram: {exc.message}") from None
    except InvalidToken:
        raise DeliveryError("token refused by Telegram") from None
    except Conflict:
        raise TransientError("conflict: another instance is polling, or a webhook is set") from None
    except (TimedOut, NetworkError) as exc:
        raise TransientError(type(exc).__name__) from None
    except TelegramError as exc:
        raise DeliveryError(type(exc).__name__) from None
