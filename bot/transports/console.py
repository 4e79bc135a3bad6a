"""The console chat: the bot's platform when no other is configured, in this terminal.

One person types, one message per line, in a private chat with the bot; with
`--group`, in one group chat too (`:prive` and `:groupe` switch between the two).
Choices print as `[1] label`; typing the number, the label or its first words (or
"oui"/"non" on a yes/no question) presses it. The last list shown in each chat is
kept in the key-value table, so after a restart "1" still presses it. With piped
input, every line is handled in order and the process ends at end of input. The
person at the console is the operator: no flood limit applies to them.

The console is a platform like the others for the broadcast outbox: what the
campaign sends to a console chat (milestone announcements, digests, admin
broadcasts) is printed marked as coming from the campaign, an edited message
(a broadcast's progress) prints as a `↻` line, and images are saved as PNG files
in the data folder, with their path printed.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.events import Chat, ChatKind, Inbound, Pacing, Reply, Sender, Sent
from bot.markup import Rich, join
from bot.sanitize import fold
from bot.transports.loops import stop_receiving
from bot.transports.offers import Offers, OfferStore

if TYPE_CHECKING:
    from bot.context import TransportServices
    from bot.router import Router

TRANSPORT = "console"
MENTION = "@bot"
TO_PRIVATE = (":prive", ":private")  # typed alone on a line: the next lines go to the private chat
TO_GROUP = (":groupe", ":group")  # and back to the group
IMAGES_FOLDER = "console-images"  # in the data folder
STOP_GRACE_SECONDS = 10.0


def render(text: Rich) -> str:
    """Plain text; a link shows its address after the label."""
    out = []
    for span in text.spans:
        if span.link and span.link != span.text:
            out.append(f"{span.text} ({span.link})")
        else:
            out.append(span.text)
    return "".join(out)


@dataclass(frozen=True)
class ConsoleUser:
    id: str = "1"
    name: str = "Console"
    language: str | None = None
    group: str | None = None
    admin: bool = False


class ConsoleTransport:
    """The console platform: the `Outbound` port, a `Component` reading standard input, and the outbox's target."""

    name = TRANSPORT
    # No platform behind it, so no limits to respect: nothing holds a chat back (the same console
    # chat may get several messages at once), and what the campaign sends prints at once.
    pacing = Pacing(rate=200.0, per_chat_seconds=0.0)

    def __init__(
        self,
        services: TransportServices,
        router: Router,
        user: ConsoleUser,
        output: TextIO | None = None,
        *,
        source: TextIO | None = None,
        offers: OfferStore | None = None,
        receives_broadcasts: bool = True,
    ) -> None:
        """`offers` keeps the last choices shown across a restart (none: in memory only).
        `receives_broadcasts=False` beside configured platforms (trying commands on a real
        database): the console must not stand in for them as the audience of announcements."""
        self._services = services
        self._router = router
        self.user = user
        self.output = output or sys.stdout
        self._source = source
        self._receives_broadcasts = receives_broadcasts
        self.private = Chat(TRANSPORT, user.id, ChatKind.PRIVATE)
        self.group = Chat(TRANSPORT, user.group, ChatKind.GROUP) if user.group else None
        self.chat = self.group or self.private  # where typed lines go
        self.words = services.content.replies  # "oui", "non merci" answer a yes/no question's numbered list too
        self._ids = itertools.count(1)
        self._offers = Offers(offers, TRANSPORT, services.pseudonyms)
        self._stopping = False
        self._lines: asyncio.Queue[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    # Component -----------------------------------------------------------

    async def start(self) -> None:
        if self._receives_broadcasts:
            self._services.outbounds[TRANSPORT] = self
        await self.send(self.chat, Reply(self._banner()))
        self._task = asyncio.create_task(self.run(self._source))

    def _banner(self) -> Rich:
        """How to talk to the bot here, and where the campaign's messages appear."""
        parts = [self._t("console_banner", db=self._services.settings.database_path)]
        if self._receives_broadcasts:
            parts.append(self._t("console_banner_platform"))
        if self.group is not None:
            parts.append(self._t("console_banner_group", group=self.group.id))
            if not self.user.admin:
                parts.append(self._t("console_banner_member"))
        return join(parts, "\n")

    async def ended(self) -> None:
        """Returns at end of input: the person closed the chat, so the process stops."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        self.stop_reading()
        await stop_receiving(self._task, self._idle, grace, TRANSPORT)
        self._task = None
        if self._services.outbounds.get(TRANSPORT) is self:
            del self._services.outbounds[TRANSPORT]

    # Outbound port -------------------------------------------------------

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        message_id = str(next(self._ids))
        self._print(self._lines_of(reply))
        if chat == self.chat and reply.choices:
            await self._offers.remember(chat.id, message_id, self.user.id, reply.choices)
        return Sent(chat, message_id)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        """An edited message (a broadcast's progress) prints again, marked as an update."""
        lines = self._lines_of(reply)
        self._print([f"↻ {lines[0]}", *lines[1:]] if lines else [])
        if sent.chat == self.chat and reply.choices:
            await self._offers.remember(sent.chat.id, sent.message_id, self.user.id, reply.choices)

    async def deliver(self, chat: Chat, reply: Reply) -> Sent:
        """What the campaign sends through the outbox, marked as such and naming the chat it reached."""
        if chat == self.private:
            header = self._say("console_from_campaign_private")
        elif chat.is_group:
            header = self._say("console_from_campaign_group", group=chat.id)
        else:
            header = self._say("console_from_campaign_other", user=chat.id)
        self._print([header, *self._lines_of(reply)])
        return Sent(chat, str(next(self._ids)))

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        return self.user.admin and user_id == self.user.id

    def chat_link(self, start: str | None = None) -> str | None:
        return None  # the console's chats are in this terminal: nothing to link to

    def _lines_of(self, reply: Reply) -> list[str]:
        lines = [render(reply.text)] if reply.text else []
        if reply.image is not None:
            lines.append(
                self._say("console_image_saved", path=str(self._save_image(reply.image.png, reply.image.name)))
            )
        if reply.document is not None:
            lines.append(f"[fichier/file {reply.document.name}]")
            lines.append(reply.document.data.decode("utf-8", errors="replace"))
        lines += [f"[{i}] {choice.label}" for i, choice in enumerate(reply.choices, start=1)]
        return lines

    def _save_image(self, png: bytes, name: str) -> Path:
        """A terminal shows no image: it is written to a file the person can open."""
        folder = self._services.settings.data_folder / IMAGES_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._ids)}-{Path(name).name}"
        path.write_bytes(png)
        return path

    def _print(self, lines: list[str]) -> None:
        self.output.write("\n".join(lines) + "\n\n")
        self.output.flush()

    def _t(self, key: str, **values: object) -> Rich:
        lang = (self.user.language or self._services.settings.default_language)[:2]
        return self._services.template(lang, key, **values)

    def _say(self, key: str, **values: object) -> str:
        return self._t(key, **values).plain

    # Input ---------------------------------------------------------------

    def to_inbound(self, line: str) -> Inbound:
        """A typed line: a press when it names one of the last choices, else a message."""
        text = line.rstrip("\n")
        sender = Sender(self.user.id, self.user.name, self.user.language)
        typed = text.strip()
        offer = self._offers.cached(self.chat.id)
        choice = offer.answer(typed, self.words) if offer is not None else None
        if choice is not None:
            # The words come along: if the list is no longer in play, the router reads them as a message.
            return Inbound(self.chat, sender, text=typed, choice=choice.payload, addressed=True, local=True)
        addressed = not self.chat.is_group
        if self.chat.is_group and fold(typed).startswith(MENTION):
            addressed, text = True, typed[len(MENTION) :].strip()
        return Inbound(self.chat, sender, text=text, addressed=addressed, local=True)

    async def switch(self, typed: str) -> bool:
        """`:prive` / `:groupe` alone on a line: later lines go to that chat. False for any other line."""
        word = fold(typed.strip())
        if word in TO_PRIVATE:
            self.chat = self.private
            self._print([self._say("console_now_private")])
        elif word in TO_GROUP and self.group is None:
            self._print([self._say("console_no_group")])
        elif word in TO_GROUP and self.group is not None:
            self.chat = self.group
            self._print([self._say("console_now_group", group=self.group.id)])
        else:
            return False
        await self._offers.get(self.chat.id)  # that chat's last list still answers "1"
        return True

    async def handle(self, line: str) -> None:
        """One typed line, handled completely."""
        if not await self.switch(line):
            await self._router.dispatch(self.to_inbound(line), self)

    async def run(self, source: TextIO | None = None) -> None:
        """Read lines until end of input or `stop_reading()`, handling each completely before the next."""
        source = source or sys.stdin
        await self._offers.get(self.chat.id)  # the list shown before a restart still answers "1"
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()
        self._lines = lines

        def read() -> None:
            while True:
                line = source.readline()
                try:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                except RuntimeError:  # the loop is closed: the process is exiting
                    return
                if line == "":
                    return

        # A daemon thread, not the loop's executor: a stop (SIGTERM) must not wait for a line to be typed.
        threading.Thread(target=read, name="console-input", daemon=True).start()
        while not self._stopping:
            line = await lines.get()
            if line == "" or self._stopping:
                return
            self._idle.clear()
            try:
                await self.handle(line)
            finally:
                self._idle.set()

    def stop_reading(self) -> None:
        """Take no further line; the one being handled finishes."""
        self._stopping = True
        if self._lines is not None:
            self._lines.put_nowait("")
