"""The console chat: one user talking to the bot through standard input and output.

It is the bot with no platform at all: for trying the bot, for scripts, and for
the story tests. Choices print as `[1] label`; typing the number or the label
presses it. With piped input, every line is handled in order and the process
ends at end of input.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

from bot.events import Chat, ChatKind, Choice, Inbound, Reply, Sender, Sent
from bot.markup import Rich
from bot.sanitize import fold

TRANSPORT = "console"
MENTION = "@bot"

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

    def __init__(self, user: ConsoleUser, output: TextIO | None = None) -> None:
        self.user = user
        self.output = output or sys.stdout
        self.chat = (
            Chat(TRANSPORT, user.group, ChatKind.GROUP) if user.group else Chat(TRANSPORT, user.id, ChatKind.PRIVATE)
        )
        self._ids = itertools.count(1)
        self._choices: tuple[Choice, ...] = ()
        self._stopping = False
        self._lines: asyncio.Queue[str] | None = None

    # Outbound port -------------------------------------------------------

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        message_id = str(next(self._ids))
        self._print(reply)
        if chat == self.chat:
            self._choices = reply.choices
        return Sent(chat, message_id)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        self._print(reply)
        if sent.chat == self.chat:
            self._choices = reply.choices

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
        choice = self._match_choice(typed)
        if choice is not None:
            return Inbound(self.chat, sender, choice=choice.payload, addressed=True)
        addressed = not self.chat.is_group
        if self.chat.is_group and fold(typed).startswith(MENTION):
            addressed, text = True, typed[len(MENTION) :].strip()
        return Inbound(self.chat, sender, text=text, addressed=addressed)

    def _match_choice(self, typed: str) -> Choice | None:
        if not typed or not self._choices:
            return None
        if typed.isdigit() and 1 <= int(typed) <= len(self._choices):
            return self._choices[int(typed) - 1]
        wanted = fold(typed)
        return next((c for c in self._choices if fold(c.label) == wanted), None)

    async def run(self, dispatch: Dispatch, source: TextIO | None = None) -> None:
        """Read lines until end of input or `stop()`, handling each completely before the next."""
        source = source or sys.stdin
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
