"""Building broadcasts: checking an admin's text, rendering what recipients see, enqueueing deliveries.

A broadcast is one row plus one delivery per destination, written in a single
transaction, so a crash leaves either the whole broadcast queued or nothing.
What recipients read is rendered per language when each delivery is sent, from
the broadcast's stored body: the admin's markup, or a message key and its values.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot import formatting
from bot.events import Image, Reply
from bot.markup import Rich, parse
from storage import broadcasts as store
from storage.db import Transaction
from storage.outbox import enqueue_in
from storage.subscriptions import audience_in

if TYPE_CHECKING:
    import datetime as dt

    from bot.content import Content
    from bot.context import Services

# Telegram's limit (4 096 characters of visible text) is the smallest of the platforms.
MAX_BROADCAST_CHARS = 4_096
CHART_NAME = "progression.png"

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_URL = re.compile(r"^(https?://|mailto:)\S+$")


def markup_problem(text: str) -> tuple[str, str] | None:
    """Why an admin's markup would not render as intended (a message key and the marker at fault)."""
    for m in _LINK.finditer(text):
        if not _URL.match(m.group(2)):
            return "markup_bad_url", ""
    rest = _LINK.sub(lambda m: m.group(1), text)
    if "](" in rest or re.search(r"\[[^\]\n]*\]\(", rest):
        return "markup_broken_link", "[…](https://…)"
    if rest.count("**") % 2:
        return "markup_unclosed_bold", "**"
    if rest.replace("**", "").count("__") % 2:
        return "markup_unclosed_italic", "__"
    return None


def text_problem(text: str) -> tuple[str, dict[str, object]] | None:
    """A reason to refuse an admin's broadcast text (message key and values), or None."""
    if not text.strip():
        return "broadcast_empty", {}
    problem = markup_problem(text)
    if problem is not None:
        return "broadcast_bad_markup", {"reason_key": problem[0], "marker": problem[1]}
    length = len(parse(text).plain)
    if length > MAX_BROADCAST_CHARS:
        return "broadcast_too_long", {"length": length, "limit": MAX_BROADCAST_CHARS}
    return None


def admin_text(markup: str) -> Rich:
    """The admin's text exactly as recipients will see it (the preview uses this too)."""
    return parse(markup.strip())


def render(content: Content, broadcast: store.Broadcast, lang: str) -> Reply:
    """One delivery's message in the recipient's language."""
    body = broadcast.body
    if broadcast.kind == store.MESSAGE:
        return Reply(admin_text(str(body["markup"])))
    return announcement(content, str(body["key"]), body.get("numbers", {}), broadcast.image, lang)


def announcement(content: Content, key: str, numbers: dict[str, int], image: bytes | None, lang: str) -> Reply:
    """A message of the campaign's own (milestone, digest): its text with the numbers, and its chart."""
    values = {k: formatting.number(int(v), lang) for k, v in numbers.items()}
    chart = Image(image, CHART_NAME) if image else None
    return Reply(content.rich(lang, key, **values), image=chart, silent=True)


async def enqueue(
    tx: Transaction,
    services: Services,
    new: store.NewBroadcast,
    first_attempt_at: dt.datetime,
    group_kind: str | None = None,
) -> tuple[int, int] | None:
    """Create the broadcast and its deliveries to every destination on a running transport.

    Returns (broadcast id, deliveries), or None when this broadcast already exists
    (same dedup key: a second press, a second instance of the job).
    """
    broadcast_id = await store.create_in(tx, new)
    if broadcast_id is None:
        return None
    destinations = await audience_in(tx, new.audience, served(services), group_kind)
    count = await enqueue_in(tx, broadcast_id, destinations, first_attempt_at)
    return broadcast_id, count


async def recipients(services: Services, audience: str, group_kind: str | None = None) -> int:
    """How many chats a broadcast to `audience` would reach now (platforms served, here or by the leader)."""
    async with services.db.read() as tx:
        return len(await audience_in(tx, audience, served(services), group_kind))


def served(services: Services) -> tuple[str, ...]:
    """Platforms a broadcast reaches: running here, or on the leader instance that sends it."""
    return tuple(sorted(set(services.outbounds) | services.platforms))
