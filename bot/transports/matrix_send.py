"""Sending on Matrix: a `Reply` becomes `m.notice` events (and uploads), retried through the rate gate.

Each event is sent under one transaction id, reused when it is retried after a rate
limit, so the homeserver keeps one copy. Synapse limits a sender, not a room, so the
pause of the shared rate gate (`rate_gate.py`) applies to every send of the transport:
`wait=True` (interactive replies) waits it out, `wait=False` (the broadcast outbox)
raises `RateLimited(retry_after)` at once. An encrypted room never gets plain text.
"""

from __future__ import annotations

import collections
import io
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
from nio import AsyncClient, ErrorResponse, MatrixRoom, RoomSendResponse, UploadResponse

from bot.choices import is_yes_no
from bot.context import TransportServices
from bot.events import Chat, ChatGone, Choice, DeliveryError, RateLimited, Reply, Sent, TransientError
from bot.markup import Rich
from bot.transports.matrix_choices import RoomChoices
from bot.transports.matrix_render import chunks, message_content, replacement_content, with_prefix
from bot.transports.matrix_session import trust_new_devices
from bot.transports.rate_gate import RateGate

DEFAULT_RETRY_AFTER = 5.0
OWN_EVENTS_MEMORY = 4096  # the bot's recent event ids, to recognise replies to the bot


class RoomSender:
    """Replies and edits into rooms, for the transport's `send`, `deliver` and `edit`."""

    def __init__(
        self, services: TransportServices, client: Callable[[], AsyncClient], gate: RateGate, choices: RoomChoices
    ) -> None:
        self._services = services
        self._settings = services.settings
        self._client = client
        self._gate = gate
        self._choices = choices
        self.commands: frozenset[str] = frozenset()  # the command names, prefixed as Matrix users type them
        self._own_events: collections.OrderedDict[str, None] = collections.OrderedDict()

    def is_own(self, event_id: str | None) -> bool:
        """One of the bot's recent messages (a reply to it is addressed to the bot)."""
        return event_id is not None and event_id in self._own_events

    async def send(self, chat: Chat, reply: Reply, *, wait: bool) -> Sent:
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
        text = with_prefix(reply.text, self._settings.matrix_command_prefix, self.commands)
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
            await self._choices.remember(chat.id, event_id, reply.choices)
        return Sent(chat, event_id)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        text = with_prefix(reply.text, self._settings.matrix_command_prefix, self.commands)
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
                await self._choices.remember(sent.chat.id, event_id, reply.choices)
        if only and reply.choices:
            await self._choices.remember(sent.chat.id, sent.message_id, reply.choices)

    def _hint(self, choices: tuple[Choice, ...]) -> Rich:
        key = "matrix_choice_hint_yes_no" if is_yes_no(choices) else "matrix_choice_hint"
        return self._services.template(self._settings.default_language, key)

    async def _upload(
        self, room_id: str, msgtype: str, data: bytes, name: str, mime: str, *, wait: bool
    ) -> dict[str, Any]:
        """Upload to the media repository (encrypted for an encrypted room); the content that shows it."""
        room = self._room(room_id)
        encrypt = room.encrypted

        async def attempt() -> tuple[UploadResponse, dict[str, Any] | None]:
            try:
                response, keys = await self._client().upload(
                    io.BytesIO(data), content_type=mime, filename=name, encrypt=encrypt, filesize=len(data)
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise TransientError(type(exc).__name__) from None
            if isinstance(response, UploadResponse):
                return response, keys
            raise delivery_error(response)

        response, keys = await self._gate.call(attempt, wait=wait)
        info = {"mimetype": mime, "size": len(data)}
        content: dict[str, Any] = {"msgtype": msgtype, "body": name, "info": info}
        if encrypt and keys is not None:
            content["file"] = {"url": response.content_uri, **keys}
        else:
            content["url"] = response.content_uri
        return content

    def _room(self, room_id: str) -> MatrixRoom:
        client = self._client()
        room = client.rooms.get(room_id)
        if room is None:
            raise ChatGone("the bot is not in this room")
        if room.encrypted and client.olm is None:
            raise DeliveryError("encrypted room, but encryption is not available: nothing sent")
        return room

    async def _room_send(self, room_id: str, content: dict[str, Any], *, wait: bool) -> str:
        """One event, retried under the same transaction id: the homeserver keeps one copy."""
        room = self._room(room_id)
        client = self._client()
        if room.encrypted:
            trust_new_devices(client, self._settings.matrix_user_id)
        tx_id = str(uuid.uuid4())

        async def attempt() -> RoomSendResponse:
            try:
                # Trust on first use (see `matrix.py`): devices first seen while sending are trusted too.
                response = await client.room_send(
                    room_id, "m.room.message", content, tx_id=tx_id, ignore_unverified_devices=True
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise TransientError(type(exc).__name__) from None
            if isinstance(response, RoomSendResponse):
                return response
            raise delivery_error(response)

        response = await self._gate.call(attempt, wait=wait)
        self._own_events[response.event_id] = None
        while len(self._own_events) > OWN_EVENTS_MEMORY:
            self._own_events.popitem(last=False)
        return str(response.event_id)


def delivery_error(response: ErrorResponse) -> DeliveryError:
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
