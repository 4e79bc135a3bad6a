"""Neutral rich text as Matrix message content: the one place where text is escaped for Matrix.

Every span's text and every link address goes through `html.escape` here and
nowhere else, so a display name such as `<b>x</b>` arrives as those characters.
Each message carries the plain `body` (for clients without HTML, notifications and
search) beside the `org.matrix.custom.html` `formatted_body`.

Choices have no buttons on Matrix: they are shown as a numbered list, and the
user answers with the number, the label or its first words (`bot/choices.py`); a
yes/no question also accepts "oui"/"non" and a ✅ or ❌ reaction. Commands in
content are written `/name`; Element keeps `/` for its own commands, so they are
shown with the configured prefix (`!name` by default).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from bot.choices import NO, YES, by_meaning, is_yes_no
from bot.events import Choice
from bot.markup import Rich, Span, split

# An event may hold 65 536 bytes in all; body + formatted_body stay well below,
# even after Megolm encryption and base64 (about x1.4).
MESSAGE_LIMIT_BYTES = 30_000
HTML_FORMAT = "org.matrix.custom.html"
YES_KEYS = ("✅", "✔️", "✔", "👍")
NO_KEYS = ("❌", "✖️", "✖", "👎")
_SLASH_COMMAND = re.compile(r"(?<![\w/:.])/([a-z_]+)\b")


def with_prefix(text: Rich, prefix: str, names: Collection[str]) -> Rich:
    """`/signer` in content becomes `!signer` (the configured prefix), for known command names only."""
    if prefix == "/" or not names:
        return text

    def swap(m: re.Match[str]) -> str:
        return prefix + m.group(1) if m.group(1) in names else m.group(0)

    return Rich(tuple(s if s.link else replace(s, text=_SLASH_COMMAND.sub(swap, s.text)) for s in text.spans))


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>\n")


def _span_html(span: Span) -> str:
    piece = _escape(span.text)
    if span.italic:
        piece = f"<em>{piece}</em>"
    if span.bold:
        piece = f"<strong>{piece}</strong>"
    if span.link:
        piece = f'<a href="{html.escape(span.link, quote=True)}">{piece}</a>'
    return piece


def to_html(text: Rich) -> str:
    return "".join(_span_html(s) for s in text.spans)


def to_plain(text: Rich) -> str:
    """The plain body: a link shows its address after the label."""
    return "".join(f"{s.text} ({s.link})" if s.link and s.link != s.text else s.text for s in text.spans)


def encoded_size(text: Rich) -> int:
    return len(to_html(text).encode()) + len(to_plain(text).encode())


def chunks(text: Rich, limit: int = MESSAGE_LIMIT_BYTES) -> list[Rich]:
    """The text as one or more messages, cut on paragraph, then line, then word boundaries."""
    return split(text, limit, encoded_size)


def message_content(
    text: Rich, choices: Sequence[Choice] = (), hint: Rich | None = None, msgtype: str = "m.notice"
) -> dict[str, Any]:
    """One `m.room.message` content; choices are appended as a numbered list, then the hint."""
    body, formatted = to_plain(text), to_html(text)
    if choices:
        lines = [f"{i}. {c.label}" for i, c in enumerate(choices, start=1)]
        items = "".join(f"<li>{_escape(c.label)}</li>" for c in choices)
        body = "\n\n".join(p for p in (body, "\n".join(lines)) if p)
        formatted = f"{formatted}<ol>{items}</ol>" if formatted else f"<ol>{items}</ol>"
        if hint:
            body += "\n\n" + to_plain(hint)
            formatted += f"<p><em>{to_html(hint)}</em></p>"
    return {"msgtype": msgtype, "body": body, "format": HTML_FORMAT, "formatted_body": formatted}


def replacement_content(original_event_id: str, new: dict[str, Any]) -> dict[str, Any]:
    """An edit (`m.replace`): clients show `new`; the `* ` fallback is for clients without edits."""
    content = dict(new)
    content["body"] = "* " + new["body"]
    content["formatted_body"] = "* " + new["formatted_body"]
    content["m.new_content"] = new
    content["m.relates_to"] = {"rel_type": "m.replace", "event_id": original_event_id}
    return content


def reaction_choice(key: str, choices: Sequence[Choice]) -> Choice | None:
    """✅ (or 👍) presses the yes choice of a yes/no question, ❌ (or 👎) its no choice."""
    if key in YES_KEYS:
        return by_meaning(choices, YES) if is_yes_no(choices) else None
    if key in NO_KEYS:
        return by_meaning(choices, NO) if is_yes_no(choices) else None
    return None


def strip_reply_fallback(body: str) -> str:
    """Drop the `> <@user> quoted text` lines older clients put before a reply."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    return "\n".join(lines[i:]).strip()
