"""Choices on Matrix: a numbered list in the message, answered by a number, words or a ✅/❌ reaction.

The last list of each room is kept (`offers.py`) with whose question it answered: in a
group, only that person answers it by typing or reacting (or anyone replying to it).
Who is being answered is known while their message is handled (`answering`), so the
choices sent meanwhile are remembered as theirs.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from bot.choices import ReplyWords
from bot.events import Chat, Choice, Inbound
from bot.transports.matrix_render import reaction_choice
from bot.transports.offers import Offers

# A press on choices the bot no longer remembers: no route has this prefix, so the router answers "expired".
EXPIRED_PAYLOAD = "matrix-expired:"

# The sender being answered: choices sent while handling their message are theirs to answer in a group.
_asker: contextvars.ContextVar[str | None] = contextvars.ContextVar("matrix_asker", default=None)
# The event being answered: choices shown while handling it are not answered by it if it is delivered again.
_answering: contextvars.ContextVar[str | None] = contextvars.ContextVar("matrix_answering", default=None)


@contextlib.contextmanager
def answering(inbound: Inbound) -> Iterator[None]:
    """While `inbound` is handled, the choices sent are its sender's, in answer to its event."""
    asker, event = _asker.set(inbound.sender.id), _answering.set(inbound.message_id)
    try:
        yield
    finally:
        _asker.reset(asker)
        _answering.reset(event)


class RoomChoices:
    """The last choices of each room, and what a typed message or a reaction presses among them."""

    def __init__(self, offers: Offers, words: ReplyWords | None) -> None:
        self.offers = offers
        self._words = words

    async def remember(self, room_id: str, event_id: str, choices: tuple[Choice, ...]) -> None:
        """Kept in storage too, so a number typed after a restart still presses the choice."""
        await self.offers.remember(room_id, event_id, _asker.get(), choices, _answering.get())

    async def typed(
        self, chat: Chat, sender: str, text: str, event_id: str, reply_to: str | None, addressed: bool
    ) -> str | None:
        """The payload a typed message presses (`EXPIRED_PAYLOAD` for a number answering a lost list), or None."""
        offer = await self.offers.get(chat.id)
        if offer is not None and (
            not chat.is_group or self.offers.asker(sender) == offer.asker or reply_to == offer.message_id
        ):
            choice = offer.answer(text, self._words, event_id)
            return None if choice is None else choice.payload
        if offer is None and addressed and text.strip().rstrip(".)").isdigit() and len(text.strip()) <= 2:
            return EXPIRED_PAYLOAD  # a number answering choices the bot no longer knows (sent before a data loss)
        return None

    async def reacted(self, chat: Chat, sender: str, key: str, reacts_to: str) -> str | None:
        """✅ or ❌ on the bot's yes/no question presses its first or second choice."""
        offer = await self.offers.get(chat.id)
        if offer is None or offer.message_id != reacts_to:
            return None
        if chat.is_group and offer.asker not in (None, self.offers.asker(sender)):
            return None
        choice = reaction_choice(key, offer.choices)
        return None if choice is None else choice.payload
