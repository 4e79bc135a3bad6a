"""The last choices shown in a chat, where choices are a numbered list (the console, Matrix).

A typed "2", "je signe" or a ✅ reaction means something only next to the list it
answers, so each transport that shows numbered lists remembers the last one per
chat, in the key-value table: a restart does not turn "1" into a question or a name.
What a typed reply means is decided by the core's one matching function.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.choices import ReplyWords, match_choice
from bot.events import Choice
from storage.db import StorageError

log = logging.getLogger(__name__)


class KeyValues(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class Offer:
    """The last choices shown in a chat.

    `asker` is whose question it was (in a group, only they answer it by typing);
    `answering` is the message whose handling showed these choices: if the platform
    delivers that message again, it must not be read as an answer to them.
    """

    message_id: str
    asker: str | None
    choices: tuple[Choice, ...]
    answering: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "event": self.message_id,
                "asker": self.asker,
                "answering": self.answering,
                "choices": [[c.label, c.payload, c.meaning] for c in self.choices],
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> Offer:
        data = json.loads(raw)
        choices = tuple(Choice(c[0], c[1], c[2] if len(c) > 2 else None) for c in data["choices"])
        return cls(data["event"], data.get("asker"), choices, data.get("answering"))

    def answer(self, typed: str, words: ReplyWords | None, message_id: str | None = None) -> Choice | None:
        """The choice a typed reply stands for: its number, its label, its first words, yes or no."""
        if message_id is not None and message_id == self.answering:
            return None  # the message that led to these choices, delivered again: not an answer to them
        return match_choice(typed, self.choices, words, numbers=True)


class Offers:
    """Offers per chat, cached in memory and kept in the key-value table under `key` (with `{chat}`)."""

    def __init__(self, kv: KeyValues | None, key: str) -> None:
        self._kv = kv
        self._key = key
        self._offers: dict[str, Offer | None] = {}

    async def get(self, chat_id: str) -> Offer | None:
        if chat_id not in self._offers:
            raw = await self._kv.get(self._key.format(chat=chat_id)) if self._kv is not None else None
            self._offers[chat_id] = Offer.from_json(raw) if raw else None
        return self._offers[chat_id]

    def cached(self, chat_id: str) -> Offer | None:
        return self._offers.get(chat_id)

    async def remember(self, chat_id: str, offer: Offer) -> None:
        self._offers[chat_id] = offer
        if self._kv is None:
            return
        try:
            await self._kv.set(self._key.format(chat=chat_id), offer.to_json())
        except StorageError as exc:
            log.warning("choices not stored: %s", type(exc).__name__)

    def forget(self, chat_id: str) -> None:
        self._offers.pop(chat_id, None)
