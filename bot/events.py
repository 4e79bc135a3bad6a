"""The boundary between platforms and the bot: plain inbound events, replies and the outbound port.

Transports translate their platform into these types and back; handlers see
nothing else, so a command written once works on the console, Telegram and Matrix.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from bot.markup import Rich


class ChatKind(enum.Enum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True)
class Chat:
    """Where a message came from or goes to: a platform and that platform's chat id."""

    transport: str
    id: str
    kind: ChatKind = ChatKind.PRIVATE

    @property
    def is_group(self) -> bool:
        return self.kind is ChatKind.GROUP


@dataclass(frozen=True)
class Sender:
    id: str
    display_name: str = ""
    language: str | None = None  # the platform's hint ("fr", "en-GB"), not the user's choice


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: a message, or a press on a choice (`choice` holds its payload; `text`, the
    words typed for it where a typed answer stood for the choice).

    `addressed` is true when a group message mentions the bot or replies to it; in
    private chats everything is addressed to the bot.
    """

    chat: Chat
    sender: Sender
    text: str = ""
    choice: str | None = None
    message_id: str | None = None
    addressed: bool = False
    local: bool = False  # typed at the machine running the bot (the console): no flood limit


@dataclass(frozen=True)
class Choice:
    """A button (Telegram), a numbered answer (Matrix, console); `payload` is what comes back."""

    label: str
    payload: str
    meaning: str | None = None  # "yes" or "no" on a yes/no question: typed "oui"/"non", ✅/❌ reactions answer it


@dataclass(frozen=True)
class Image:
    png: bytes
    name: str = "image.png"


@dataclass(frozen=True)
class Document:
    """A file for the user to keep (the personal data export), sent where the platform allows."""

    data: bytes
    name: str
    mime: str = "application/json"


@dataclass(frozen=True)
class Reply:
    text: Rich
    choices: tuple[Choice, ...] = ()
    image: Image | None = None
    document: Document | None = None
    silent: bool = False  # announcements and digests: no notification sound


@dataclass(frozen=True)
class Sent:
    """A message the bot sent, enough to edit it later."""

    chat: Chat
    message_id: str
    extra: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Pacing:
    """How fast the broadcast outbox may send on one platform: declared by its transport, from the
    platform's published limits, so the outbox itself knows no platform."""

    rate: float  # messages per second, evenly spaced
    per_chat_seconds: float = 1.0  # at most one broadcast message per this many seconds to one chat
    group_per_minute: int | None = None  # and at most this many per minute to one group


class DeliveryError(Exception):
    """Base of the few errors a transport may raise to the core."""


class RateLimited(DeliveryError):
    """The platform asked to wait; nothing may be sent on that transport before `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:g} s")
        self.retry_after = retry_after


class ChatGone(DeliveryError):
    """The chat can no longer be reached: blocked, kicked, deleted, migrated."""

    def __init__(self, reason: str, new_chat_id: str | None = None) -> None:
        super().__init__(reason)
        self.new_chat_id = new_chat_id


class TransientError(DeliveryError):
    """A network or server failure worth retrying later."""


class Outbound(Protocol):
    """What handlers and jobs may ask of a platform."""

    async def send(self, chat: Chat, reply: Reply) -> Sent: ...

    async def edit(self, sent: Sent, reply: Reply) -> None: ...

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool: ...

    def chat_link(self, start: str | None = None) -> str | None:
        """A link that opens a private chat with the bot, or None where the platform has none.

        `start` is what the bot's /start receives when the link is opened (Telegram's deep
        links, `/start sign`); a platform that cannot pass it on gives the plain link.
        """
        ...


class Deliverer(Outbound, Protocol):
    """A running platform, as the outbox and broadcasts see it: every transport registered in
    `Services.outbounds` is one, so the core asks it for its limits and never knows it by name."""

    pacing: Pacing  # the platform's published limits, for the outbox's pacer

    async def deliver(self, chat: Chat, reply: Reply) -> Sent:
        """Like `send`, but raises `RateLimited` at once instead of waiting, so the outbox reschedules."""
        ...


class ChatEvents(Protocol):
    """What a transport tells the core about chats themselves, so subscriptions follow them."""

    async def chat_gone(self, chat: Chat) -> None:
        """The bot was removed from a group or blocked by a user: stop sending there."""

    async def chat_migrated(self, old: Chat, new_id: str) -> None:
        """A group became a supergroup under a new id: whatever pointed at `old` moves to `new_id`."""
