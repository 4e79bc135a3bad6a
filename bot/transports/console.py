"""The console chat: one user talking to the bot through standard input and output.

It is the bot with no platform at all: for trying the bot, for scripts, and for
the story tests. Choices print as `[1] label`; typing the number, the label or
its first words (or "oui"/"non" on a yes/no question) presses it. The last list
shown is kept in the key-value table, so after a restart "1" still presses it.
With piped input, every line is handled in order and the process ends at end of
input. The person at the console is the operator: no flood limit applies to them.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

from bot.choices import ReplyWords
from bot.events import Chat, ChatKind, Inbound, Reply, Sender, Sent
from bot.markup import Rich
from bot.sanitize import fold
from bot.transports.offers import KeyValues, Offer, Offers

TRANSPORT = "console"
MENTION = "@bot"
OFFER_KEY = "console:choices:{chat}"

Dispatch = Callable[[Inbound, "ConsoleTransport"], Awaitable[object]]


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
    """Outbound port and input loop for the console."""

    def __init__(
        self,
        user: ConsoleUser,
        output: TextIO | None = None,
        words: ReplyWords | None = None,
        kv: KeyValues | None = None,
    ) -> None:
        self.user = user
        self.output = output or sys.stdout
        self.words = words  # "oui", "non merci" answer a yes/no question's numbered list too
        self.chat = (
            Chat(TRANSPORT, user.group, ChatKind.GROUP) if user.group else Chat(TRANSPORT, user.id, ChatKind.PRIVATE)
        )
        self._ids = itertools.count(1)
        self._offers = Offers(kv, OFFER_KEY)
        self._stopping = False
        self._lines: asyncio.Queue[str] | None = None

    # Outbound port -------------------------------------------------------

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        message_id = str(next(self._ids))
        self._print(reply)
        if chat == self.chat and reply.choices:
            await self._offers.remember(chat.id, Offer(message_id, self.user.id, reply.choices))
        return Sent(chat, message_id)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        self._print(reply)
        if sent.chat == self.chat and reply.choices:
            await self._offers.remember(sent.chat.id, Offer(sent.message_id, self.user.id, reply.choices))

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        return self.user.admin and user_id == self.user.id

    def _print(self, reply: Reply) -> None:
        lines = [render(reply.text)] if reply.text else []
        if reply.image is not None:
            lines.append(f"[image {reply.image.name}, {len(reply.image.png)} octets/bytes]")
        if reply.document is not None:
            lines.append(f"[fichier/file {reply.document.name}]")
            lines.append(reply.document.data.decode("utf-8", errors="replace"))
        lines += [f"[{i}] {choice.label}" for i, choice in enumerate(reply.choices, start=1)]
        self.output.write("\n".join(lines) + "\n\n")
        self.output.flush()

    # Input ---------------------------------------------------------------

    def to_inbound(self, line: str) -> Inbound:
        """A typed line: a press when it names one of the last choices, else a message."""
        text = line.rstrip("\n")
        sender = Sender(self.user.id, self.user.name, self.user.language)
        typed = text.strip()
        offer = self._offers.cached(self.chat.id)
        choice = offer.answer(typed, self.words) if offer is not None else None
        if choice is not None:
            return Inbound(self.chat, sender, choice=choice.payload, addressed=True, local=True)
        addressed = not self.chat.is_group
        if self.chat.is_group and fold(typed).startswith(MENTION):
            addressed, text = True, typed[len(MENTION) :].strip()
        return Inbound(self.chat, sender, text=text, addressed=addressed, local=True)

    async def run(self, dispatch: Dispatch, source: TextIO | None = None) -> None:
        """Read lines until end of input or `stop()`, handling each completely before the next."""
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
            await dispatch(self.to_inbound(line), self)

    def stop(self) -> None:
        """Take no further line; the one being handled finishes."""
        self._stopping = True
        if self._lines is not None:
            self._lines.put_nowait("")
