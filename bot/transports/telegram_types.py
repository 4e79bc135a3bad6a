"""Python-telegram-bot's objects translated to the core's and back: chats, senders, keyboards, 429 delays."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from telegram import Chat as TgChat
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram import User as TgUser
from telegram.error import RetryAfter

from bot.events import Chat, ChatKind, Choice, Sender
from bot.transports.telegram_platform import NAME
from bot.transports.telegram_render import checked_callback_data

TRANSPORT = NAME
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")


def deep_link(username: str, start: str | None = None) -> str:
    """Telegram's link to a private chat with a bot; `start` (at most 64 of A-Z a-z 0-9 _ -) reaches its /start."""
    return f"https://t.me/{username}" + (f"?start={start}" if start else "")


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """One button per row: labels are sentences (FAQ questions), too long to sit side by side."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=checked_callback_data(c.payload))] for c in choices]
    )


def chat_of(chat: TgChat) -> Chat | None:
    """Private chats and (super)groups; channels are not served."""
    if chat.type == TgChat.PRIVATE:
        return Chat(TRANSPORT, str(chat.id), ChatKind.PRIVATE)
    if chat.type in (TgChat.GROUP, TgChat.SUPERGROUP):
        return Chat(TRANSPORT, str(chat.id), ChatKind.GROUP)
    return None


def sender_of(user: TgUser) -> Sender:
    return Sender(str(user.id), user.full_name, user.language_code)


def retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 deprecates the int form; both forms are handled
        value = exc.retry_after
    seconds = value if isinstance(value, int | float) else value.total_seconds()
    return max(float(seconds), 0.0)


def kind_of(update: Update) -> str:
    for kind in ALLOWED_UPDATES:
        if getattr(update, kind, None) is not None:
            return kind
    return "other"
