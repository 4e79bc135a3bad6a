"""Matrix, through matrix-nio: sync responses become `Inbound` events, `Reply`s become `m.notice` messages.

This is the only module that imports `nio`. It runs its own sync loop rather than
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
  it raises `RateLimited(retry_after)` and the outbox reschedules.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import io
import json
import logging
import re
import uuid
from collections.abc import Awaitable
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    Event,
    InviteInfo,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
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
    RoomSendResponse,
    RoomUpgradeEvent,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from bot.choices import is_yes_no
from bot.config import SettingsError
from bot.content import LANGUAGES
from bot.context import Services
from bot.events import (
    Chat,
    ChatGone,
    ChatKind,
    Choice,
    DeliveryError,
    Inbound,
    Pacing,
    RateLimited,
    Reply,
    Sender,
    Sent,
    TransientError,
)
from bot.markup import Rich, join
from bot.router import Router
from bot.transports.handled import HandledMarks
from bot.transports.loops import stop_receiving
from bot.transports.matrix_platform import HANDLED_KEY, NAME, SESSION_KEY, SYNC_KEY
from bot.transports.matrix_render import (
    chunks,
    message_content,
    reaction_choice,
    replacement_content,
    strip_reply_fallback,
    with_prefix,
)
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
DEFAULT_RETRY_AFTER = 5.0
UNDECRYPTABLE_NOTICE_SECONDS = 60.0
OWN_EVENTS_MEMORY = 4096  # the bot's recent event ids, to recognise replies to the bot
DEVICE_NAME = "petition-bot"
# A press on choices the bot no longer remembers: no route has this prefix, so the router answers "expired".
EXPIRED_PAYLOAD = "matrix-expired:"

# The sender being answered: choices sent while handling their message are theirs to answer in a group.
_asker: contextvars.ContextVar[str | None] = contextvars.ContextVar("matrix_asker", default=None)
# The event being answered: choices shown while handling it are not answered by it if it is delivered again.
_answering: contextvars.ContextVar[str | None] = contextvars.ContextVar("matrix_answering", default=None)


class MatrixTransport:
    """The Matrix transport: the `Outbound` port for the core and a `Component` of the process."""

    name = TRANSPORT
    leader_only = True  # one sync per account: only the leader instance runs it (bot/leadership.py)

    def __init__(
        self,
        services: Services,
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
        self._offers = Offers(services.offers, TRANSPORT, services.pseudonyms)
        self._handled = HandledMarks(services.kv, HANDLED_KEY.format(user=self.user_id))
        self._own_events: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._kinds: dict[str, ChatKind] = {}
        self._creators: dict[str, frozenset[str]] = {}
        self._seen_rooms: set[str] = set()
        self._sync_ok = False
        self._notified: dict[str, float] = {}
        self._commands: frozenset[str] = frozenset()
        # The homeserver sets the limits (and answers M_LIMIT_EXCEEDED): the configured rate, 1/s per room.
        self.pacing = Pacing(self._settings.broadcast_rate_matrix)

    # Component -------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (or restore the stored session), load the crypto store, sync once, then keep syncing."""
        s = self._settings
        if not s.matrix_homeserver:
            raise SettingsError("invalid setting MATRIX_HOMESERVER: required to start Matrix")
        if not s.matrix_user_id.startswith("@") or ":" not in s.matrix_user_id:
            raise SettingsError("invalid setting MATRIX_USER_ID: a full user id such as @bot:example.org")
        has_token = s.matrix_access_token is not None and bool(s.matrix_access_token.get_secret_value())
        has_password = s.matrix_password is not None and bool(s.matrix_password.get_secret_value())
        # After a first password login, the stored session suffices: the password may leave the settings file.
        if not has_token and not has_password and await self._stored_session() is None:
            raise SettingsError(
                "invalid setting MATRIX_ACCESS_TOKEN: set it (with MATRIX_DEVICE_ID) or MATRIX_PASSWORD"
            )
        if has_token and not s.matrix_device_id:
            raise SettingsError("invalid setting MATRIX_DEVICE_ID: required with MATRIX_ACCESS_TOKEN")
        try:
            await self._connect()
        except BaseException:
            await self.stop(grace=0)
            raise
        log.info("matrix started encrypted_rooms=%d", len(self.client.encrypted_rooms))

    async def _connect(self) -> None:
        s = self._settings
        store = s.data_folder / "matrix-store"
        store.mkdir(parents=True, exist_ok=True)  # nio fails the login when the folder is missing
        config = AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=2,
            encryption_enabled=True,
            store_sync_tokens=False,
            request_timeout=30,
        )
        session = await self._stored_session()
        device_id = session["device_id"] if session else s.matrix_device_id
        self._client = AsyncClient(
            s.matrix_homeserver, self.user_id, device_id=device_id or None, store_path=str(store), config=config
        )
        client = self._client
        if session is not None:
            client.restore_login(self.user_id, session["device_id"], session["access_token"])
        else:
            await self._login()
        await self._check_token()
        if client.olm is None:
            raise RuntimeError("the Matrix crypto store did not load: encrypted rooms would get plain text")
        if client.should_upload_keys:
            await self._quietly(client.keys_upload())
        profile = await client.get_displayname(self.user_id)
        if isinstance(profile, ProfileGetDisplayNameResponse) and profile.displayname:
            self.display_name = profile.displayname
        names = [re.escape(self.user_id)] + ([re.escape(self.display_name)] if self.display_name else [])
        self._mention = re.compile(rf"(?<![\w@])@?(?:{'|'.join(names)})(?![\w])[:,]?", re.IGNORECASE)
        self._commands = frozenset(name for command in self._services.commands for name in command.names)
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

    async def _stored_session(self) -> dict[str, str] | None:
        """With an access token from the settings, that; with a password, the session of an earlier login."""
        s = self._settings
        if s.matrix_access_token is not None and s.matrix_access_token.get_secret_value():
            return {"device_id": s.matrix_device_id, "access_token": s.matrix_access_token.get_secret_value()}
        raw = await self._services.kv.get(SESSION_KEY.format(user=self.user_id))
        if not raw:
            return None
        session: dict[str, str] = json.loads(raw)
        return session if session.get("homeserver") == s.matrix_homeserver else None

    async def _login(self) -> None:
        """Log in once with the password and keep the token and device: Synapse allows few logins."""
        password = self._settings.matrix_password
        assert password is not None
        response = await self.client.login(password.get_secret_value(), device_name=DEVICE_NAME)
        if not isinstance(response, LoginResponse):
            raise SettingsError(f"invalid setting MATRIX_PASSWORD: login refused ({response.status_code})")
        session = {
            "homeserver": self._settings.matrix_homeserver,
            "device_id": response.device_id,
            "access_token": response.access_token,
        }
        await self._services.kv.set(SESSION_KEY.format(user=self.user_id), json.dumps(session))
        log.info("matrix logged in with a new device")

    async def _check_token(self) -> None:
        try:
            response = await self.client.whoami()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"Matrix homeserver unreachable at start-up ({type(exc).__name__})") from None
        if isinstance(response, WhoamiResponse):
            if response.user_id != self.user_id:
                raise SettingsError("invalid setting MATRIX_ACCESS_TOKEN: it belongs to another user")
            return
        if response.status_code == "M_UNKNOWN_TOKEN":
            await self._services.kv.delete(SESSION_KEY.format(user=self.user_id))
            raise SettingsError("invalid setting MATRIX_ACCESS_TOKEN: refused by the homeserver")
        raise TransientError(f"Matrix homeserver refused whoami ({response.status_code})")

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
        await self._quietly(client.send_to_device_messages())
        if client.should_upload_keys:
            await self._quietly(client.keys_upload())
        if client.should_query_keys:
            await self._quietly(client.keys_query())
        if client.should_claim_keys:
            await self._quietly(client.keys_claim(client.get_users_for_key_claiming()))
        self._trust_new_devices()

    def _trust_new_devices(self) -> None:
        client = self.client
        if client.olm is None:
            return
        for device in client.device_store:
            if not device.verified and not device.blacklisted and device.user_id != self.user_id:
                client.verify_device(device)

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
        addressed = not chat.is_group or (reply_to is not None and reply_to in self._own_events)
        if self._mentions_bot(content):
            addressed = True
        if self._mention is not None and self._mention.search(text):
            addressed = True
            text = " ".join(self._mention.sub(" ", text).split())
        prefix = self._settings.matrix_command_prefix
        if prefix not in ("/", "!") and text.startswith(prefix):
            text = "!" + text[len(prefix) :]
        sender = Sender(event.sender, room.user_name(event.sender) or "", None)
        offer = await self._offers.get(room.room_id)
        if offer is not None and (
            not chat.is_group or self._offers.asker(event.sender) == offer.asker or reply_to == offer.message_id
        ):
            choice = offer.answer(text, self._services.content.replies, event.event_id)
            if choice is not None:
                await self._dispatch(
                    Inbound(chat, sender, choice=choice.payload, message_id=event.event_id, addressed=True)
                )
                return
        elif offer is None and addressed and text.strip().rstrip(".)").isdigit() and len(text.strip()) <= 2:
            # A number answering choices the bot no longer knows (sent before a data loss): "expired", not a question.
            await self._dispatch(
                Inbound(chat, sender, choice=EXPIRED_PAYLOAD, message_id=event.event_id, addressed=True)
            )
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
        offer = await self._offers.get(room.room_id)
        if offer is None or offer.message_id != event.reacts_to:
            return
        chat = self._chat(room)
        if chat.is_group and offer.asker not in (None, self._offers.asker(event.sender)):
            return
        choice = reaction_choice(event.key, offer.choices)
        if choice is None:
            return
        sender = Sender(event.sender, room.user_name(event.sender) or "", None)
        await self._dispatch(Inbound(chat, sender, choice=choice.payload, message_id=event.reacts_to, addressed=True))

    async def _dispatch(self, inbound: Inbound) -> None:
        token, answering = _asker.set(inbound.sender.id), _answering.set(inbound.message_id)
        try:
            await self._router.dispatch(inbound, self)
        finally:
            _asker.reset(token)
            _answering.reset(answering)

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
            await self._quietly(self.client.room_leave(room_id))
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
        hooks = self._services.chat_events
        if hooks is not None:
            await hooks.chat_gone(Chat(TRANSPORT, room_id, kind))

    async def _on_member_left(self, room: MatrixRoom) -> None:
        """The other person left a private chat: nobody is left to talk to."""
        if room.joined_count > 1 or self._kinds.get(room.room_id) is not ChatKind.PRIVATE:
            return
        await self._quietly(self.client.room_leave(room.room_id))

    async def _on_upgrade(self, room: MatrixRoom, event: RoomUpgradeEvent) -> None:
        """A room upgrade (tombstone): the subscription moves to the new room, which the bot joins."""
        if not event.replacement_room:
            return
        chat = self._chat(room)
        log.info("matrix room upgraded kind=%s", chat.kind.value)
        hooks = self._services.chat_events
        if hooks is not None:
            await hooks.chat_migrated(chat, event.replacement_room)
        response = await self.client.join(event.replacement_room)
        if isinstance(response, JoinError):
            # An invite-only room: the bot joins when one of its admins invites it.
            log.info("matrix upgraded room not joined yet error=%s", response.status_code)

    # Choices ------------------------------------------------------------------------------

    async def _remember_offer(self, room_id: str, event_id: str, choices: tuple[Choice, ...]) -> None:
        """Kept in storage too, so a number typed after a restart still presses the choice."""
        await self._offers.remember(room_id, event_id, _asker.get(), choices, _answering.get())

    def _forget(self, room_id: str) -> None:
        self._offers.forget(room_id)
        self._notified.pop(room_id, None)
        self._creators.pop(room_id, None)

    def _hint(self, choices: tuple[Choice, ...]) -> Rich:
        key = "matrix_choice_hint_yes_no" if is_yes_no(choices) else "matrix_choice_hint"
        return self._services.template(self._settings.default_language, key)

    # Outbound port ----------------------------------------------------------------------

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        return await self._send(chat, reply, wait=True)

    async def deliver(self, chat: Chat, reply: Reply) -> Sent:
        """Send without waiting out a rate limit: raises `RateLimited` so the caller reschedules."""
        return await self._send(chat, reply, wait=False)

    async def _send(self, chat: Chat, reply: Reply, *, wait: bool) -> Sent:
        contents: list[dict[str, Any]] = []
        if reply.image is not None:
            contents.append(
                await self._upload(chat.id, "m.image", reply.image.png, reply.image.name, "image/png", wait=wait)
            )
        if reply.document is not None:
            document = reply.document
            contents.append(
                await self._upload(chat.id, "m.file", document.data, document.name, document.mime, wait=wait)
            )
        text = with_prefix(reply.text, self._settings.matrix_command_prefix, self._commands)
        pieces = chunks(text)
        hint = self._hint(reply.choices) if reply.choices else None
        for i, piece in enumerate(pieces):
            final = i == len(pieces) - 1
            contents.append(message_content(piece, reply.choices if final else (), hint if final else None))
        if not pieces and reply.choices:
            contents.append(message_content(Rich(), reply.choices, hint))
        if not contents:
            raise ValueError("a reply needs text, an image or a document")
        event_id = ""
        for content in contents:
            event_id = await self._room_send(chat.id, content, wait=wait)
        if reply.choices:
            await self._remember_offer(chat.id, event_id, reply.choices)
        return Sent(chat, event_id)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        text = with_prefix(reply.text, self._settings.matrix_command_prefix, self._commands)
        pieces = chunks(text) or [Rich()]
        hint = self._hint(reply.choices) if reply.choices else None
        only = len(pieces) == 1
        first = message_content(pieces[0], reply.choices if only else (), hint if only else None)
        await self._room_send(sent.chat.id, replacement_content(sent.message_id, first), wait=True)
        for i, piece in enumerate(pieces[1:], start=2):
            final = i == len(pieces)
            content = message_content(piece, reply.choices if final else (), hint if final else None)
            event_id = await self._room_send(sent.chat.id, content, wait=True)
            if final and reply.choices:
                await self._remember_offer(sent.chat.id, event_id, reply.choices)
        if only and reply.choices:
            await self._remember_offer(sent.chat.id, sent.message_id, reply.choices)

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

    async def _upload(
        self, room_id: str, msgtype: str, data: bytes, name: str, mime: str, *, wait: bool
    ) -> dict[str, Any]:
        """Upload to the media repository (encrypted for an encrypted room); the content that shows it."""
        room = self._room(room_id)
        encrypt = room.encrypted

        async def attempt() -> tuple[UploadResponse, dict[str, Any] | None]:
            try:
                response, keys = await self.client.upload(
                    io.BytesIO(data), content_type=mime, filename=name, encrypt=encrypt, filesize=len(data)
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise TransientError(type(exc).__name__) from None
            if isinstance(response, UploadResponse):
                return response, keys
            raise self._error(response)

        response, keys = await self._gate.call(attempt, wait=wait)
        info = {"mimetype": mime, "size": len(data)}
        content: dict[str, Any] = {"msgtype": msgtype, "body": name, "info": info}
        if encrypt and keys is not None:
            content["file"] = {"url": response.content_uri, **keys}
        else:
            content["url"] = response.content_uri
        return content

    def _room(self, room_id: str) -> MatrixRoom:
        room = self.client.rooms.get(room_id)
        if room is None:
            raise ChatGone("the bot is not in this room")
        if room.encrypted and self.client.olm is None:
            raise DeliveryError("encrypted room, but encryption is not available: nothing sent")
        return room

    async def _room_send(self, room_id: str, content: dict[str, Any], *, wait: bool) -> str:
        """One event, retried under the same transaction id: the homeserver keeps one copy."""
        room = self._room(room_id)
        if room.encrypted:
            self._trust_new_devices()
        tx_id = str(uuid.uuid4())

        async def attempt() -> RoomSendResponse:
            try:
                # Trust on first use (see the module docstring): devices first seen while sending are trusted too.
                response = await self.client.room_send(
                    room_id, "m.room.message", content, tx_id=tx_id, ignore_unverified_devices=True
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise TransientError(type(exc).__name__) from None
            if isinstance(response, RoomSendResponse):
                return response
            raise self._error(response)

        response = await self._gate.call(attempt, wait=wait)
        self._own_events[response.event_id] = None
        while len(self._own_events) > OWN_EVENTS_MEMORY:
            self._own_events.popitem(last=False)
        return str(response.event_id)

    @staticmethod
    def _error(response: ErrorResponse) -> DeliveryError:
        """nio returns errors instead of raising them: the core's exceptions, without the server's text."""
        code = response.status_code or ""
        status = getattr(getattr(response, "transport_response", None), "status", None)
        if code == "M_LIMIT_EXCEEDED" or status == 429:
            retry = (response.retry_after_ms or 0) / 1000 or DEFAULT_RETRY_AFTER
            return RateLimited(retry)
        if code in ("M_FORBIDDEN", "M_NOT_FOUND") or status in (403, 404):
            return ChatGone(f"refused by the homeserver ({code or status})")
        if status is None or status >= 500:
            return TransientError(f"homeserver error ({code or status})")
        return DeliveryError(f"refused by the homeserver ({code or status})")

    @staticmethod
    async def _quietly(request: Awaitable[object]) -> None:
        """Calls whose failure the next sync repairs (key upload, query, claim, to-device, declining an invite)."""
        try:
            await request
        except Exception as exc:
            log.debug("matrix housekeeping call failed error=%s", type(exc).__name__)
