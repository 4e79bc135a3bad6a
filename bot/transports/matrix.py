"""Matrix, through matrix-nio: sync responses become `Inbound` events, `Reply`s become `m.notice` messages.

This module and its parts are the only ones that import `nio`: `matrix_session.py`
(settings, login or the stored session, the crypto store), `matrix_choices.py` (the
numbered lists and what a typed message or a reaction presses), `matrix_send.py`
(replies as events, uploads, errors as the core's), `matrix_render.py` (HTML and
plain bodies). This one is the client loop. It runs its own sync loop rather than
nio's `sync_forever`:

- Restart safety: the `next_batch` token is stored in the key-value table only
  after every event of a sync response is handled, so a restart continues exactly
  there: what arrived while the bot was down is answered once, old history never.
  (nio's own stored token is saved before callbacks run, and `sync_forever` stops
  for good when a callback raises.) The very first start skips history with a
  first-sync filter whose timeline limit is 0. Later starts ask for the full room
  state with the stored token, so room membership, power levels and encryption
  are known at once without replaying any message. A message followed by others
  of the same room in one sync is marked handled first (`handled.py`), so after a
  crash only the one in flight comes again, answered by the router as before.
- Encryption: matrix-nio's `e2e` extra (vodozemac), a crypto store in the data
  folder (`matrix-store/`), one fixed device. The bot refuses to start without a
  loaded store, and refuses to send into an encrypted room without encryption, so
  plain text never leaks into an encrypted room. Trust policy, documented in the
  README: trust on first use. Every device of every user the bot shares a room
  with is marked verified when the bot first sees it, so supporters never have to
  verify the bot to be answered; a device that was later blacklisted by an
  operator stays excluded. A message the bot cannot decrypt is answered with one
  notice (at most one per room and minute) asking the sender to send it again:
  their client then shares a fresh key.
- Rate limits: nio is configured not to retry (`max_limit_exceeded=0`), so
  `M_LIMIT_EXCEEDED` comes back here with `retry_after_ms`. Synapse limits a
  sender, not a room, so a pause applies to every send of the transport (the
  shared rate gate, `rate_gate.py`). `send()` (the port, for interactive replies)
  waits the pause out and retries under the same transaction id, so a retried
  message is never duplicated; `deliver()` (for the broadcast outbox) never waits:
  it raises `RateLimited(retry_after)` and the outbox reschedules (`matrix_send.py`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    Event,
    InviteInfo,
    InviteMemberEvent,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    ProfileGetDisplayNameResponse,
    ReactionEvent,
    RoomCreateEvent,
    RoomInfo,
    RoomMemberEvent,
    RoomMessagesResponse,
    RoomMessageText,
    RoomUpgradeEvent,
    SyncResponse,
)

from bot.content import LANGUAGES
from bot.context import TransportServices
from bot.events import (
    Chat,
    ChatKind,
    Inbound,
    Pacing,
    Reply,
    Sender,
    Sent,
    TransientError,
)
from bot.markup import join
from bot.router import Router
from bot.transports.handled import HandledMarks
from bot.transports.loops import stop_receiving
from bot.transports.matrix_choices import RoomChoices, answering
from bot.transports.matrix_platform import HANDLED_KEY, NAME, SYNC_KEY
from bot.transports.matrix_render import strip_reply_fallback
from bot.transports.matrix_send import RoomSender
from bot.transports.matrix_session import open_client, quietly, trust_new_devices
from bot.transports.offers import Offers
from bot.transports.rate_gate import RateGate
from storage.db import StorageError

log = logging.getLogger(__name__)

TRANSPORT = NAME
SYNC_TIMEOUT_MS = 30_000
FIRST_SYNC_FILTER: dict[str, Any] = {"room": {"timeline": {"limit": 0}}}
TIMELINE_LIMIT = 100  # events per room in one sync response; more are fetched page by page
BACKFILL_PAGE = 100
BACKFILL_PAGES = 50  # at most this many pages of missed messages per room and sync (5 000 messages)
ADMIN_POWER = 50  # Matrix's "moderator" level: the default power needed to kick, ban or change settings
# Room versions before "privileged creators" (MSC4289, room version 12): there, creators hold power 100 in the
# power levels like anyone else; from version 12 on they are above any power level and not listed in it.
_PLAIN_CREATOR_VERSIONS = frozenset(str(v) for v in range(1, 12))
UNDECRYPTABLE_NOTICE_SECONDS = 60.0


class MatrixTransport:
    """The Matrix transport: the `Outbound` port for the core and a `Component` of the process."""

    name = TRANSPORT
    leader_only = True  # one sync per account: only the leader instance runs it (bot/leadership.py)

    def __init__(
        self,
        services: TransportServices,
        router: Router,
        *,
        sync_timeout_ms: int = SYNC_TIMEOUT_MS,
        timeline_limit: int = TIMELINE_LIMIT,
    ) -> None:
        self._services = services
        self._settings = services.settings
        self._router = router
        self._sync_timeout_ms = sync_timeout_ms
        self._sync_filter: dict[str, Any] = {"room": {"timeline": {"limit": timeline_limit}}}
        self._client: AsyncClient | None = None
        self.user_id = services.settings.matrix_user_id
        self.display_name = ""
        self._mention: re.Pattern[str] | None = None
        self._since: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._clock = services.clock
        self._gate = RateGate(TRANSPORT, services.clock, services.metrics)
        self._choices = RoomChoices(Offers(services.offers, TRANSPORT, services.pseudonyms), services.content.replies)
        self._sender = RoomSender(services, lambda: self.client, self._gate, self._choices)
        self._handled = HandledMarks(services.kv, HANDLED_KEY.format(user=self.user_id))
        self._kinds: dict[str, ChatKind] = {}
        self._creators: dict[str, frozenset[str]] = {}
        self._seen_rooms: set[str] = set()
        self._sync_ok = False
        self._notified: dict[str, float] = {}
        # The homeserver sets the limits (and answers M_LIMIT_EXCEEDED): the configured rate, 1/s per room.
        self.pacing = Pacing(self._settings.broadcast_rate_matrix)

    # Component -------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (or restore the stored session), load the crypto store, sync once, then keep syncing."""
        self._client = await open_client(self._settings, self._services.kv)
        try:
            await self._connect()
        except BaseException:
            await self.stop(grace=0)
            raise
        log.info("matrix started encrypted_rooms=%d", len(self.client.encrypted_rooms))

    async def _connect(self) -> None:
        client = self.client
        profile = await client.get_displayname(self.user_id)
        if isinstance(profile, ProfileGetDisplayNameResponse) and profile.displayname:
            self.display_name = profile.displayname
        names = [re.escape(self.user_id)] + ([re.escape(self.display_name)] if self.display_name else [])
        self._mention = re.compile(rf"(?<![\w@])@?(?:{'|'.join(names)})(?![\w])[:,]?", re.IGNORECASE)
        self._sender.commands = frozenset(name for command in self._services.commands for name in command.names)
        self._services.outbounds[TRANSPORT] = self
        self._router.set_username(TRANSPORT, self.user_id[1:].split(":", 1)[0])
        self._since = await self._services.kv.get(SYNC_KEY.format(user=self.user_id))
        await self._handled.load(self._since)
        self._stopping = False
        try:
            first = await self._sync(first=True)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"Matrix homeserver unreachable at start-up ({type(exc).__name__})") from None
        self._sync_ok = True
        self._task = asyncio.create_task(self._loop(first), name="matrix-sync")

    def healthy(self) -> bool:
        """For /healthz: the sync loop is alive and its last sync succeeded."""
        return self._task is not None and not self._task.done() and not self._stopping and self._sync_ok

    async def stop(self, grace: float = 10.0) -> None:
        """Let the sync response being handled finish (up to `grace` seconds), then stop syncing and close."""
        self._stopping = True
        await stop_receiving(self._task, self._idle, grace, TRANSPORT)
        self._task = None
        if self._services.outbounds.get(TRANSPORT) is self:
            del self._services.outbounds[TRANSPORT]
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("the Matrix transport is not started")
        return self._client

    # Sync loop --------------------------------------------------------------------

    async def _sync(self, *, first: bool = False) -> SyncResponse:
        if first and self._since is None:
            response = await self.client.sync(timeout=0, sync_filter=FIRST_SYNC_FILTER)
        elif first:
            response = await self.client.sync(
                timeout=0, sync_filter=self._sync_filter, since=self._since, full_state=True
            )
        else:
            response = await self.client.sync(
                timeout=self._sync_timeout_ms, sync_filter=self._sync_filter, since=self._since
            )
        if not isinstance(response, SyncResponse):
            raise TransientError(f"sync refused ({response.status_code})")
        return response

    async def _loop(self, pending: SyncResponse | None) -> None:
        backoff = 0.0
        first = True
        while not self._stopping:
            response = pending
            pending = None
            if response is None:
                try:
                    response = await self._sync()
                    backoff = 0.0
                    self._sync_ok = True
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._sync_ok = False
                    backoff = min(30.0, max(1.0, backoff * 2))
                    log.warning("matrix sync failed error=%s retry_in=%.0fs", type(exc).__name__, backoff)
                    await asyncio.sleep(backoff)
                    continue
            self._idle.clear()
            try:
                await self._crypto_chores()
                await self._handle_sync(response, first=first)
                # Stored before the loop counts as idle: a stop right after handling must not lose the token.
                self._since = response.next_batch
                try:
                    await self._services.kv.set(SYNC_KEY.format(user=self.user_id), response.next_batch)
                    await self._handled.clear()
                except StorageError as exc:
                    log.warning("matrix sync token not stored: %s", type(exc).__name__)
            finally:
                self._idle.set()
            first = False

    async def _crypto_chores(self) -> None:
        """What `sync_forever` does between syncs: keys out, keys in, then trust on first use."""
        client = self.client
        await quietly(client.send_to_device_messages())
        if client.should_upload_keys:
            await quietly(client.keys_upload())
        if client.should_query_keys:
            await quietly(client.keys_query())
        if client.should_claim_keys:
            await quietly(client.keys_claim(client.get_users_for_key_claiming()))
        trust_new_devices(client, self.user_id)

    async def _handle_sync(self, response: SyncResponse, *, first: bool = False) -> None:
        joined = response.rooms.join
        # The first sync of a process brings every room the bot is in (full state), with only what came after the
        # stored token; later, a room not seen before is one the bot has just joined.
        new = set() if first else {room_id for room_id in joined if room_id not in self._seen_rooms}
        self._seen_rooms.update(joined)
        self._seen_rooms.difference_update(response.rooms.leave)
        for room_id, invite in response.rooms.invite.items():
            await self._guard(self._on_invite(room_id, invite), "invite")
        for room_id, left in response.rooms.leave.items():
            await self._guard(self._on_leave(room_id, left), "leave")
        for room_id, info in response.rooms.join.items():
            for event in (*info.state, *info.timeline.events):
                if isinstance(event, RoomCreateEvent):
                    extra = event.source.get("content", {}).get("additional_creators") or []
                    self._creators[room_id] = frozenset([event.sender, *(u for u in extra if isinstance(u, str))])
        await asyncio.gather(*(self._on_room_events(room_id, info, room_id in new) for room_id, info in joined.items()))

    async def _on_room_events(self, room_id: str, info: RoomInfo, just_joined: bool) -> None:
        """One room's events in order (rooms run concurrently); one failing event never stops the others."""
        events = list(info.timeline.events)
        if just_joined:
            events = self._since_invited(events)
        elif info.timeline.limited and self._since is not None:
            try:
                events = await self._missed(room_id, info.timeline.prev_batch) + events
            except Exception as exc:
                log.error("matrix missed messages not fetched error=%s", type(exc).__name__)
        batch = self._since
        for i, event in enumerate(events):
            if self._handled.seen(event.event_id):
                continue  # handled just before a crash, the sync token not stored yet
            await self._guard(self._on_event(room_id, event), type(event).__name__)
            if isinstance(event, RoomMessageText | ReactionEvent) and i < len(events) - 1:
                await self._handled.mark(batch, event.event_id)

    def _since_invited(self, events: list[Event]) -> list[Event]:
        """A room just joined shows some of its history: only what was said since the bot was invited is for it."""
        for i, event in enumerate(events):
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.user_id
                and event.membership in ("invite", "join")
            ):
                return events[i + 1 :]
        return []

    async def _missed(self, room_id: str, prev_batch: str | None) -> list[Event]:
        """A sync gives at most `timeline_limit` events per room (a "limited" timeline): fetch the rest.

        They run from our stored token (`since`) up to the sync's `prev_batch`; they
        were sent while the bot was busy or down, and each is answered once.
        """
        missed: list[Event] = []
        start = prev_batch
        for _ in range(BACKFILL_PAGES):
            if not start:
                break
            response = await self.client.room_messages(
                room_id, start=start, end=self._since, direction=MessageDirection.back, limit=BACKFILL_PAGE
            )
            if not isinstance(response, RoomMessagesResponse):
                log.warning("matrix missed messages not fetched error=%s", response.status_code)
                break
            missed.extend(response.chunk)
            if not response.chunk or not response.end or response.end == start:
                break
            start = response.end
        log.info("matrix fetched %d missed events", len(missed))
        return list(reversed(missed))

    @staticmethod
    async def _guard(work: Awaitable[None], kind: str) -> None:
        try:
            await work
        except Exception as exc:
            log.error("matrix event not handled kind=%s error=%s", kind, type(exc).__name__)

    async def _on_event(self, room_id: str, event: Event) -> None:
        if getattr(event, "sender", None) == self.user_id:
            return
        room = self.client.rooms.get(room_id)
        if room is None:
            return
        if isinstance(event, RoomMessageText):
            await self._on_text(room, event)
        elif isinstance(event, ReactionEvent):
            await self._on_reaction(room, event)
        elif isinstance(event, MegolmEvent):
            await self._on_undecryptable(room)
        elif isinstance(event, RoomUpgradeEvent):
            await self._on_upgrade(room, event)
        elif isinstance(event, RoomMemberEvent) and event.membership in ("leave", "ban"):
            await self._on_member_left(room)

    # Inbound ------------------------------------------------------------------------

    def _chat(self, room: MatrixRoom) -> Chat:
        """Two members (the bot and one person) make a private chat; more make a group.

        nio's `room.is_group` means "a room without a name", not a group chat.
        """
        kind = ChatKind.PRIVATE if room.member_count <= 2 else ChatKind.GROUP
        self._kinds[room.room_id] = kind
        return Chat(TRANSPORT, room.room_id, kind)

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        content: dict[str, Any] = event.source.get("content", {})
        relates: dict[str, Any] = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            return  # an edit of an earlier message is not a new message
        chat = self._chat(room)
        reply_to = (relates.get("m.in_reply_to") or {}).get("event_id")
        text = strip_reply_fallback(event.body)
        addressed = not chat.is_group or self._sender.is_own(reply_to)
        if self._mentions_bot(content):
            addressed = True
        if self._mention is not None and self._mention.search(text):
            addressed = True
            text = " ".join(self._mention.sub(" ", text).split())
        prefix = self._settings.matrix_command_prefix
        if prefix not in ("/", "!") and text.startswith(prefix):
            text = "!" + text[len(prefix) :]
        sender = Sender(event.sender, room.user_name(event.sender) or "", None)
        pressed = await self._choices.typed(chat, event.sender, text, event.event_id, reply_to, addressed)
        if pressed is not None:
            # The words come along: if the list is no longer in play, the router reads them as a message.
            typed = Inbound(chat, sender, text=text, choice=pressed, message_id=event.event_id, addressed=True)
            await self._dispatch(typed)
            return
        await self._dispatch(Inbound(chat, sender, text=text, message_id=event.event_id, addressed=addressed))

    def _mentions_bot(self, content: dict[str, Any]) -> bool:
        """Intentional mentions (`m.mentions`), or a pill linking to the bot in the HTML body."""
        mentions = content.get("m.mentions")
        if isinstance(mentions, dict) and self.user_id in (mentions.get("user_ids") or []):
            return True
        formatted = content.get("formatted_body")
        if isinstance(formatted, str) and "matrix.to/#/" in formatted:
            return self.user_id in formatted or self.user_id.replace("@", "%40").replace(":", "%3A") in formatted
        return False

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        """✅ or ❌ on the bot's yes/no question presses its first or second choice."""
        chat = self._chat(room)
        pressed = await self._choices.reacted(chat, event.sender, event.key, event.reacts_to)
        if pressed is None:
            return
        sender = Sender(event.sender, room.user_name(event.sender) or "", None)
        await self._dispatch(Inbound(chat, sender, choice=pressed, message_id=event.reacts_to, addressed=True))

    async def _dispatch(self, inbound: Inbound) -> None:
        with answering(inbound):
            await self._router.dispatch(inbound, self)

    async def _on_undecryptable(self, room: MatrixRoom) -> None:
        """One clear notice, in both languages (the sender's is unknown), at most once a minute per room."""
        now = self._clock.monotonic()
        last = self._notified.get(room.room_id)
        if last is not None and now - last < UNDECRYPTABLE_NOTICE_SECONDS:
            return
        self._notified[room.room_id] = now
        log.warning("matrix message could not be decrypted; asking the sender to send it again")
        text = join(self._services.template(lang, "matrix_undecryptable") for lang in LANGUAGES)
        await self.send(self._chat(room), Reply(text))

    async def _on_invite(self, room_id: str, invite: InviteInfo) -> None:
        """Accept invitations, only from the configured servers when MATRIX_ALLOWED_SERVERS is set."""
        inviter = ""
        direct = False
        for event in invite.invite_state:
            if isinstance(event, InviteMemberEvent) and event.state_key == self.user_id:
                inviter = event.sender
                direct = bool(event.content.get("is_direct"))
        allowed = {x.strip().lower() for x in self._settings.matrix_allowed_servers.split(",") if x.strip()}
        server = inviter.split(":", 1)[1].lower() if ":" in inviter else ""
        if allowed and server not in allowed:
            log.info("matrix invite declined: server not allowed")
            await quietly(self.client.room_leave(room_id))
            return
        response = await self.client.join(room_id)
        if isinstance(response, JoinError):
            log.warning("matrix invite not accepted error=%s", response.status_code)
            return
        log.info("matrix invite accepted direct=%s", direct)

    async def _on_leave(self, room_id: str, left: RoomInfo) -> None:
        """The bot was kicked or banned (or left): the room's subscription ends."""
        kind = self._kinds.pop(room_id, ChatKind.GROUP)
        self._forget(room_id)
        log.info("matrix room left kind=%s", kind.value)
        await self._services.chat_events.chat_gone(Chat(TRANSPORT, room_id, kind))

    async def _on_member_left(self, room: MatrixRoom) -> None:
        """The other person left a private chat: nobody is left to talk to."""
        if room.joined_count > 1 or self._kinds.get(room.room_id) is not ChatKind.PRIVATE:
            return
        await quietly(self.client.room_leave(room.room_id))

    async def _on_upgrade(self, room: MatrixRoom, event: RoomUpgradeEvent) -> None:
        """A room upgrade (tombstone): the subscription moves to the new room, which the bot joins."""
        if not event.replacement_room:
            return
        chat = self._chat(room)
        log.info("matrix room upgraded kind=%s", chat.kind.value)
        await self._services.chat_events.chat_migrated(chat, event.replacement_room)
        response = await self.client.join(event.replacement_room)
        if isinstance(response, JoinError):
            # An invite-only room: the bot joins when one of its admins invites it.
            log.info("matrix upgraded room not joined yet error=%s", response.status_code)

    # Choices ------------------------------------------------------------------------------

    def _forget(self, room_id: str) -> None:
        self._choices.offers.forget(room_id)
        self._notified.pop(room_id, None)
        self._creators.pop(room_id, None)

    # Outbound port ----------------------------------------------------------------------

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        return await self._sender.send(chat, reply, wait=True)

    async def deliver(self, chat: Chat, reply: Reply) -> Sent:
        """Send without waiting out a rate limit: raises `RateLimited` so the caller reschedules."""
        return await self._sender.send(chat, reply, wait=False)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        await self._sender.edit(sent, reply)

    def chat_link(self, start: str | None = None) -> str | None:
        return None  # a private chat on Matrix starts with an invitation from the person, not a link

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        """Power level 50 or more (moderators and admins) in a group; in a private chat, its one user."""
        room = self.client.rooms.get(chat.id)
        if room is None:
            return False
        if not chat.is_group:
            return user_id in room.users
        if room.room_version not in _PLAIN_CREATOR_VERSIONS and user_id in self._creators.get(chat.id, ()):
            return True
        return bool(room.power_levels.get_user_level(user_id) >= ADMIN_POWER)
