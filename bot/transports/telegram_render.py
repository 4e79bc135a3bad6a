"""Neutral rich text as Telegram HTML: the one place where text is escaped for Telegram.

Every span's text and every link address goes through `html.escape` here and
nowhere else, so a display name such as `<b>x</b>` or `</a>` arrives as those
characters, never as markup. Telegram measures its limits (4 096 characters per
message, 1 024 per caption) on the text *after* entity parsing, in UTF-16 code
units, so chunks are measured on the visible text, not on the HTML.
"""

from __future__ import annotations

import html

from bot.markup import Rich, split

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes, UTF-8 (Bot API, InlineKeyboardButton.callback_data)


def visible_length(text: Rich) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text without tags."""
    return len(text.plain.encode("utf-16-le")) // 2


def to_html(text: Rich) -> str:
    out: list[str] = []
    for span in text.spans:
        piece = html.escape(span.text, quote=False)
        if span.italic:
            piece = f"<i>{piece}</i>"
        if span.bold:
            piece = f"<b>{piece}</b>"
        if span.link:
            piece = f'<a href="{html.escape(span.link, quote=True)}">{piece}</a>'
        out.append(piece)
    return "".join(out)


def message_chunks(text: Rich, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The text as one or more HTML messages, cut on paragraph, then line, then word boundaries."""
    return [to_html(chunk) for chunk in split(text, limit, visible_length)]


def fits_caption(text: Rich) -> bool:
    return visible_length(text) <= CAPTION_LIMIT


def checked_callback_data(payload: str) -> str:
    """Telegram refuses a whole keyboard when one button's data exceeds 64 bytes: fail loudly here instead."""
    size = len(payload.encode("utf-8"))
    if not payload or size > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data must be 1-{CALLBACK_DATA_LIMIT} bytes, got {size}")
    return payload
