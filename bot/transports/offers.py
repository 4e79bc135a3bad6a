"""The last choices shown in a chat, where choices are a numbered list (the console, Matrix).

A typed "2", "je signe" or a ✅ reaction means something only next to the list it
answers, so each transport that shows numbered lists remembers the last one per
chat, in storage (`storage/offers.py`): a restart does not turn "1" into a question or
a name. The chat and the asker are stored as pseudonyms, so erasing a person deletes
what they were offered and no platform id is kept. What a typed reply means is decided
by the core's one matching function.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.choices import ReplyWords, match_choice
from bot.events import Choice
from bot.pseudonyms import Pseudonymizer
from storage.db import StorageError

log = logging.getLogger(__name__)


class KeyValues(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


class OfferStore(Protocol):
    """Where offers are kept (`storage.offers.OfferRepository`): by chat pseudonym, with the asker's."""

    async def get(self, chat: str) -> str | None: ...

    async def set(self, chat: str, asker: str | None, body: str) -> None: ...


@dataclass(frozen=True)
class Offer:
    """The last choices shown in a chat.

    `asker` is whose question it was, by pseudonym (in a group, only they answer it by typing);
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
            },
            ensure_ascii=False,  # text as typed, so a scan of the files for a name finds it
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
    """One transport's offers per chat, cached in memory and kept in `store` (none: in memory only)."""

    def __init__(self, store: OfferStore | None, transport: str, pseudonyms: Pseudonymizer) -> None:
        self._store = store
        self._transport = transport
        self._pseudonyms = pseudonyms
        self._offers: dict[str, Offer | None] = {}

    def asker(self, user_id: str) -> str:
        """How an offer names who it was for: compare a sender's with `Offer.asker`."""
        return self._pseudonyms.user(self._transport, user_id)

    async def get(self, chat_id: str) -> Offer | None:
        if chat_id not in self._offers:
            raw = await self._store.get(self._key(chat_id)) if self._store is not None else None
            self._offers[chat_id] = Offer.from_json(raw) if raw else None
        return self._offers[chat_id]

    def cached(self, chat_id: str) -> Offer | None:
        return self._offers.get(chat_id)

    async def remember(
        self,
        chat_id: str,
        message_id: str,
        asker_id: str | None,
        choices: tuple[Choice, ...],
        answering: str | None = None,
    ) -> None:
        """The choices just shown in a chat, in answer to `asker_id`'s message (its id: `answering`)."""
        offer = Offer(message_id, None if asker_id is None else self.asker(asker_id), choices, answering)
        self._offers[chat_id] = offer
        if self._store is None:
            return
        try:
            await self._store.set(self._key(chat_id), offer.asker, offer.to_json())
        except StorageError as exc:
            log.warning("choices not stored: %s", type(exc).__name__)

    def forget(self, chat_id: str) -> None:
        self._offers.pop(chat_id, None)

    def _key(self, chat_id: str) -> str:
        return self._pseudonyms.chat(self._transport, chat_id)
