"""What a handler receives: the event, the user's language, the services and a way to answer.

Handlers are plain `async def handler(ctx: Context) -> None` functions; all they
know of the platform is this object, so they run unchanged on every transport.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.events import ChatEvents, Choice, Deliverer, Document, Image, Inbound, Outbound, Reply, Sent
from bot.markup import Rich
from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.answers import AnswerIndex
    from bot.clock import Clock
    from bot.config import Settings
    from bot.content import Content
    from bot.counts import Counts
    from bot.outbox import Outbox
    from bot.pseudonyms import Pseudonymizer
    from bot.router import Command
    from storage.broadcasts import BroadcastRepository
    from storage.contacts import ContactRepository
    from storage.db import Database
    from storage.dialogues import Dialogue, DialogueRepository
    from storage.kv import KeyValueRepository
    from storage.offers import OfferRepository
    from storage.outbox import OutboxRepository
    from storage.preferences import PreferenceRepository
    from storage.signatures import SignatureRepository
    from storage.stats import StatsRepository
    from storage.subscriptions import SubscriptionRepository

# Choice payloads that belong to a dialogue step start with this prefix, then the
# step's nonce: the router refuses them once the dialogue has moved on.
DIALOGUE_PREFIX = "d"


@dataclass(frozen=True)
class Services:
    """Everything handlers may use, built once and complete in `bot/app.py`: nothing optional, nothing reassigned.

    Handlers never build a repository themselves. The one thing that changes while the bot runs
    is the content of the `outbounds` registry (the dict itself is never replaced).
    """

    settings: Settings
    content: Content
    db: Database
    clock: Clock
    pseudonyms: Pseudonymizer
    answers: AnswerIndex
    kv: KeyValueRepository
    dialogues: DialogueRepository
    preferences: PreferenceRepository
    counts: Counts
    signatures: SignatureRepository
    contacts: ContactRepository
    offers: OfferRepository  # the last choices shown where choices are numbered (console, Matrix)
    subscriptions: SubscriptionRepository
    broadcasts: BroadcastRepository
    deliveries: OutboxRepository  # one row per broadcast and destination
    stats: StatsRepository
    commands: tuple[Command, ...]  # the command table, for /aide and menus
    chat_events: ChatEvents  # told by transports when a chat is gone or migrated
    outbox: Outbox  # the broadcast delivery worker, woken when deliveries are queued
    # Running platforms by name, for jobs: a registry each platform fills when it starts and
    # empties when it stops (the one mutable part; the outbox holds the same dict).
    outbounds: dict[str, Deliverer]
    platforms: frozenset[str] = frozenset()  # every platform served, here or by the leader (audiences)
    admins: frozenset[tuple[str, str]] = frozenset()
    metrics: Metrics = field(default_factory=Metrics)  # counters for /metrics (counts only, no ids)

    def for_transport(self) -> TransportServices:
        """What a platform's transport receives: no database, no repository of people."""
        return TransportServices(
            settings=self.settings,
            content=self.content,
            clock=self.clock,
            metrics=self.metrics,
            kv=self.kv,
            offers=self.offers,
            pseudonyms=self.pseudonyms,
            commands=self.commands,
            admins=self.admins,
            chat_events=self.chat_events,
            outbounds=self.outbounds,
        )

    def commands_include(self, name: str) -> bool:
        return any(name in command.names for command in self.commands)

    @cached_property
    def dialogue_commands(self) -> frozenset[str]:
        """Names of the commands that open a dialogue: a message asking for several things runs one of them, last."""
        return frozenset(name for command in self.commands if command.opens is not None for name in command.names)

    def template(self, lang: str, key: str, **values: object) -> Rich:
        return self.content.rich(lang, key, **values)


@dataclass(frozen=True)
class TransportServices:
    """What a running transport uses, and nothing more: it reaches people's data only through the router."""

    settings: Settings
    content: Content  # its own messages, and the words that answer a yes/no question
    clock: Clock
    metrics: Metrics
    kv: KeyValueRepository  # its own state: offsets, sync tokens, handled updates, the Matrix session
    offers: OfferRepository  # the numbered lists shown (console, Matrix), keyed by pseudonyms
    pseudonyms: Pseudonymizer
    commands: tuple[Command, ...]  # command names (Matrix: a word typed alone; Telegram: the menus)
    admins: frozenset[tuple[str, str]]  # Telegram: the admins' own command menu
    chat_events: ChatEvents  # told when a chat is gone or migrated
    outbounds: dict[str, Deliverer]  # the registry a transport joins when it starts, leaves when it stops

    def template(self, lang: str, key: str, **values: object) -> Rich:
        return self.content.rich(lang, key, **values)


@dataclass
class Context:
    event: Inbound
    services: Services
    outbound: Outbound
    lang: str
    user_key: str  # the sender's pseudonym
    owner: str  # the sender's pseudonym in this chat: the key of dialogue state
    dialogue: Dialogue | None = None
    args: str = ""  # text after a command name
    chosen: str | None = None  # the option value a dialogue step is handling (pressed or typed)
    # The language set with /langue, else the one the person last wrote in: "merci" typed by someone writing
    # English is still answered in English.
    known_lang: str | None = None
    # The FAQ entry last answered to this person, then its "see also" entries (in memory only, for a while),
    # which a follow-up leans on: "qui a dit ça ?", "et pour combien de temps ?", "et en anglais ?".
    # `answered`: the same, for the answer this message gave; `offered`: the entries a "did you mean" offered,
    # which a follow-up leans on too ("When?": about the likeliest), though nothing was answered.
    previous: tuple[str, ...] = ()
    answered: tuple[str, ...] = ()
    offered: tuple[str, ...] = ()
    # The message got no answer (a decline, a "did you mean"): an optional step is asked again after it.
    unanswered: bool = False
    # `previous` was the reply to the message just before (no decline since): "the answer just above".
    previous_fresh: bool = False
    sent: list[Sent] = field(default_factory=list)

    @property
    def now(self) -> dt.datetime:
        return self.services.clock.now()

    @property
    def is_admin(self) -> bool:
        return (self.event.chat.transport, self.event.sender.id) in self.services.admins

    @property
    def user_tag(self) -> str:
        """A short pseudonym for logs and the audit trail."""
        return self.user_key[:10]

    def t(self, key: str, **values: object) -> Rich:
        """A content message in the user's language; values are inserted as plain text."""
        return self.services.template(self.lang, key, **values)

    def label(self, key: str, **values: object) -> str:
        """A button label from content (labels are plain text on every platform)."""
        return self.t(key, **values).plain

    async def reply(
        self,
        text: Rich,
        choices: tuple[Choice, ...] | list[Choice] = (),
        image: Image | None = None,
        document: Document | None = None,
    ) -> Sent:
        sent = await self.outbound.send(
            self.event.chat, Reply(text=text, choices=tuple(choices), image=image, document=document)
        )
        self.sent.append(sent)
        return sent

    async def say(self, key: str, choices: tuple[Choice, ...] | list[Choice] = (), **values: object) -> Sent:
        return await self.reply(self.t(key, **values), choices)
