"""The whole bot on Matrix for a test: a real Synapse, the real transport, and users as matrix-nio clients.

`MatrixWorld` runs the bot (its own account, database and crypto store) against
the session's Synapse. `MatrixUser` is a person with a Matrix client: it opens
rooms, writes, reacts, and collects what the bot sends it, as Element would show
it (`body`, the plain text). Each test registers its own accounts, so no test
sees another test's rooms.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessage,
    RoomPreset,
    RoomSendResponse,
)

from bot.app import Bot, build_bot
from bot.clock import Clock
from bot.events import Chat
from bot.transports.matrix import MatrixTransport
from tests.conftest import make_settings, says
from tests.synapse import Account, Synapse

WAIT = 20.0  # seconds a test waits for an expected reply (replies take ~0.1-0.4 s here)
PROBE = "!compteur"  # a command that changes nothing, answered in private chats and groups alike


class RecordingChatEvents:
    def __init__(self) -> None:
        self.gone: list[Chat] = []
        self.migrated: list[tuple[Chat, str]] = []

    async def chat_gone(self, chat: Chat) -> None:
        self.gone.append(chat)

    async def chat_migrated(self, old: Chat, new_id: str) -> None:
        self.migrated.append((old, new_id))


@dataclass
class Received:
    event_id: str
    sender: str
    msgtype: str
    body: str
    formatted: str
    encrypted: bool
    content: dict[str, Any]


class MatrixUser:
    """A person using a Matrix client (matrix-nio), with or without end-to-end encryption."""

    def __init__(self, synapse: Synapse, account: Account, bot_id: str, folder: Path | None = None) -> None:
        self.synapse = synapse
        self.account = account
        self.user_id = account.user_id
        self.bot_id = bot_id  # what the user reads here is what the bot sent
        self.encrypted = folder is not None
        config = AsyncClientConfig(encryption_enabled=self.encrypted, store_sync_tokens=False)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            synapse.url,
            account.user_id,
            device_id=account.device_id,
            store_path=str(folder) if folder else "",
            config=config,
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.inbox: dict[str, list[Received]] = {}
        self.probe_answer = ""  # what the bot's answer to PROBE always says
        self.undecryptable = 0
        self._read: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> MatrixUser:
        if self.encrypted:
            assert self.client.olm is not None
            await self.client.keys_upload()
        self.client.add_event_callback(self._on_message, RoomMessage)
        self.client.add_event_callback(self._on_megolm, MegolmEvent)
        first = await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=5000, since=first.next_batch))
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        await self.client.close()

    async def _on_message(self, room: MatrixRoom, event: RoomMessage) -> None:
        if event.sender != self.bot_id:
            return
        content = event.source.get("content", {})
        self.inbox.setdefault(room.room_id, []).append(
            Received(
                event.event_id,
                event.sender,
                content.get("msgtype", ""),
                content.get("body", ""),
                content.get("formatted_body", ""),
                bool(getattr(event, "decrypted", False)),
                content,
            )
        )

    async def _on_megolm(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if event.sender == self.bot_id:
            self.undecryptable += 1

    # Rooms ------------------------------------------------------------------------------

    async def open_dm(self, bot_user_id: str, *, encrypted: bool = False) -> str:
        """A direct chat with the bot, as Element creates it (encrypted when asked), once the bot is in."""
        initial_state = []
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        response = await self.client.room_create(
            is_direct=True, invite=[bot_user_id], preset=RoomPreset.trusted_private_chat, initial_state=initial_state
        )
        assert isinstance(response, RoomCreateResponse), response
        await self.wait_joined(response.room_id, bot_user_id)
        return str(response.room_id)

    async def open_group(self, invite: list[str], *, name: str = "Collectif") -> str:
        response = await self.client.room_create(name=name, invite=invite, preset=RoomPreset.private_chat)
        assert isinstance(response, RoomCreateResponse), response
        return str(response.room_id)

    async def join(self, room_id: str) -> None:
        response = await self.client.join(room_id)
        assert hasattr(response, "room_id"), response

    async def wait_joined(self, room_id: str, user_id: str) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            members = await self.client.joined_members(room_id)
            if user_id in [m.user_id for m in getattr(members, "members", [])]:
                # Let our own client see the join too (it decides who gets room keys).
                await asyncio.sleep(0.2)
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the bot did not join the room")

    # Talking ------------------------------------------------------------------------------

    async def send(self, room_id: str, text: str, **extra: Any) -> str:
        content = {"msgtype": "m.text", "body": text, **extra}
        response = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        if self.encrypted:
            # Element encrypts reactions in encrypted rooms (nio's room_send would not); the relation stays visible.
            event_type, encrypted = self.client.encrypt(room_id, "m.reaction", content)
            path = f"/_matrix/client/v3/rooms/{room_id}/send/{event_type}/{uuid.uuid4()}"
            self.synapse.request("PUT", path, encrypted, token=self.account.access_token)
            return
        response = await self.client.room_send(room_id, "m.reaction", content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response

    async def say(self, room_id: str, text: str, *, expect: str | None = None, replies: int = 1, **extra: Any) -> str:
        """Send `text`; return what the bot answered (bodies joined by blank lines).

        Waits for `replies` messages, or until one contains `expect`.
        """
        await self.send(room_id, text, **extra)
        return await self.read(room_id, expect=expect, replies=replies)

    async def read(self, room_id: str, *, expect: str | None = None, replies: int = 1) -> str:
        messages = await self.wait(room_id, expect=expect, replies=replies)
        return "\n\n".join(m.body for m in messages)

    async def wait(self, room_id: str, *, expect: str | None = None, replies: int = 1) -> list[Received]:
        start = self._read.get(room_id, 0)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            new = self.inbox.get(room_id, [])[start:]
            done = any(expect in m.body for m in new) if expect is not None else len(new) >= replies
            if done:
                self._read[room_id] = start + len(new)
                return new
            await asyncio.sleep(0.02)
        new = self.inbox.get(room_id, [])[start:]
        raise AssertionError(f"expected {expect or replies} from the bot, got: {[m.body[:80] for m in new]}")

    async def nothing_more(self, room_id: str) -> list[Received]:
        """Whatever else the bot sends for what was said so far (a test of 'answered once' expects nothing).

        No sleeping: a command goes last and its answer is awaited. The bot handles a room's
        events in order and sends its replies in order, so anything it still had to say about
        earlier messages arrives before that answer.
        """
        assert self.probe_answer, "the world sets what the probe's answer says"
        await self.send(room_id, PROBE)
        new = await self.wait(room_id, expect=self.probe_answer)
        return new[:-1]

    def skip(self, room_id: str) -> None:
        """Mark what the bot sent so far as read (a reply to someone else in a group)."""
        self._read[room_id] = len(self.inbox.get(room_id, []))

    def last(self, room_id: str) -> Received:
        return self.inbox[room_id][-1]


class MatrixWorld:
    """The bot on the test's Synapse, with its own account, database and crypto store."""

    def __init__(
        self,
        tmp_path: Path,
        synapse: Synapse,
        clock: Clock | None = None,
        *,
        record_chat_events: bool = False,
        bot_account: Account | None = None,
        password_login: bool = False,
        timeline_limit: int = 100,
        **settings: Any,
    ) -> None:
        self.tmp_path = tmp_path
        self.synapse = synapse
        self.clock = clock
        self.record_chat_events = record_chat_events
        self.account = bot_account or synapse.register("bot")
        self.overrides = settings
        self.password_login = password_login
        self.timeline_limit = timeline_limit
        self.events = RecordingChatEvents()
        self.bot: Bot | None = None
        self.transport: MatrixTransport | None = None
        self.users: list[MatrixUser] = []

    @property
    def bot_id(self) -> str:
        return self.account.user_id

    async def __aenter__(self) -> MatrixWorld:
        await self.open()
        return self

    async def open(self) -> None:
        values: dict[str, Any] = {"matrix_homeserver": self.synapse.url, "matrix_user_id": self.account.user_id}
        if self.password_login:
            values["matrix_password"] = self.account.password
        else:
            values |= {"matrix_access_token": self.account.access_token, "matrix_device_id": self.account.device_id}
        values |= self.overrides
        events = self.events if self.record_chat_events else None
        self.bot = await build_bot(make_settings(self.tmp_path, **values), self.clock, chat_events=events)

    async def start(self) -> MatrixTransport:
        assert self.bot is not None
        self.transport = MatrixTransport(
            self.bot.services.for_transport(), self.bot.router, sync_timeout_ms=5000, timeline_limit=self.timeline_limit
        )
        await self.transport.start()
        return self.transport

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.stop()
            self.transport = None

    async def restart(self) -> MatrixTransport:
        """A new process: the same database, data folder and account, a fresh transport and router."""
        await self.stop()
        if self.bot is not None:
            await self.bot.close()
        await self.open()
        return await self.start()

    async def until(self, condition: Callable[[], Awaitable[bool]], what: str) -> None:
        """Wait (at most WAIT seconds) for something the bot does on its own, such as leaving a room."""
        deadline = time.monotonic() + WAIT
        while not await condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not {what} within {WAIT:.0f} s")
            await asyncio.sleep(0.05)

    async def user(self, name: str = "alice", *, encrypted: bool = False) -> MatrixUser:
        account = self.synapse.register(name)
        folder = self.tmp_path / f"store-{account.localpart}" if encrypted else None
        user = await MatrixUser(self.synapse, account, self.bot_id, folder).start()
        assert self.bot is not None
        user.probe_answer = says(self.bot, "count")
        self.users.append(user)
        return user

    async def __aexit__(self, *exc: object) -> None:
        for user in self.users:
            await user.stop()
        await self.stop()
        if self.bot is not None:
            await self.bot.close()
