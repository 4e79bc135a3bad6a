"""Matrix as the rest of the process sees it before starting it: settings, probe, where its state is kept.

Imports no matrix-nio: `petition-bot check` and the pre-flight of `run` ask the
homeserver's `whoami` (or, before a first password login, `versions`) over plain HTTP.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from bot.check import HTTP_TIMEOUT_SECONDS, Finding
from bot.transports.platform import Platform, Stored

if TYPE_CHECKING:
    from bot.app import Component
    from bot.config import Settings
    from bot.context import TransportServices
    from bot.router import Router

NAME = "matrix"
TITLE = "Matrix"

# Where the transport keeps its state in the key-value table.
SESSION_KEY = "matrix:session:{user}"  # the token and device of a password login
SYNC_KEY = "matrix:next_batch:{user}"
HANDLED_KEY = "matrix:handled:{user}"


def enabled(settings: Settings) -> bool:
    return settings.matrix_enabled


def stored_session(settings: Settings, raw: str | None) -> dict[str, str] | None:
    """The session an earlier password login kept, if it is for this homeserver."""
    try:
        session = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(session, dict) or session.get("homeserver") != settings.matrix_homeserver:
        return None
    return {str(k): str(v) for k, v in session.items()}


async def probe(settings: Settings, stored: Stored, wait_seconds: float = HTTP_TIMEOUT_SECONDS) -> Finding:
    """The access token is the bot's own (`whoami`), or the homeserver answers before a password login."""
    homeserver = settings.matrix_homeserver.rstrip("/")
    token = settings.matrix_access_token.get_secret_value() if settings.matrix_access_token else ""
    password = settings.matrix_password.get_secret_value() if settings.matrix_password else ""
    from_database = False
    if not (token or password):
        # A password login keeps its session in the database: the password may then be removed.
        session = stored_session(settings, await stored(SESSION_KEY.format(user=settings.matrix_user_id)))
        token = session.get("access_token", "") if session else ""
        from_database = bool(token)
    if not (token or password):
        return Finding(
            TITLE,
            False,
            "MATRIX_ACCESS_TOKEN is empty (and no MATRIX_PASSWORD)",
            "create an access token for the bot's account (docs/OPERATIONS.md, Matrix)",
        )
    if token and not from_database and not settings.matrix_device_id:
        return Finding(
            TITLE,
            False,
            "MATRIX_DEVICE_ID is empty (required with MATRIX_ACCESS_TOKEN)",
            "set the device id that came with the access token (docs/OPERATIONS.md, Matrix)",
        )
    if not settings.matrix_user_id:
        return Finding(
            TITLE, False, "MATRIX_USER_ID is empty", "set it to the bot's full id, e.g. @petition:example.org"
        )
    url = f"{homeserver}/_matrix/client/v3/account/whoami" if token else f"{homeserver}/_matrix/client/versions"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return Finding(
            TITLE,
            False,
            f"the homeserver {urlsplit(homeserver).netloc or homeserver} (MATRIX_HOMESERVER) is unreachable"
            f" ({type(exc).__name__})",
            "check MATRIX_HOMESERVER (https://…, the client API address) and the server's network",
        )
    if token and response.status_code == 401:
        return Finding(
            TITLE,
            False,
            f"MATRIX_ACCESS_TOKEN is refused by the homeserver (HTTP 401 {_errcode(response)})".rstrip(),
            "log the bot's account in again and copy the new access token (docs/OPERATIONS.md)",
        )
    if response.status_code != 200:
        return Finding(
            TITLE,
            False,
            f"unexpected answer from MATRIX_HOMESERVER (HTTP {response.status_code} {_errcode(response)})".rstrip(),
            "check that MATRIX_HOMESERVER is the client API address (see /.well-known/matrix/client)",
        )
    if not token:
        return Finding(TITLE, True, "homeserver reachable; the password login happens at start-up")
    try:
        who = str(response.json()["user_id"])
    except (ValueError, KeyError, TypeError):
        return Finding(TITLE, False, "unexpected whoami answer from MATRIX_HOMESERVER", "check MATRIX_HOMESERVER")
    if who != settings.matrix_user_id:
        return Finding(
            TITLE,
            False,
            "MATRIX_ACCESS_TOKEN belongs to another account than MATRIX_USER_ID",
            "use a token of the bot's own account, or correct MATRIX_USER_ID",
        )
    return Finding(TITLE, True, f"access token accepted for {who}")


def _errcode(response: httpx.Response) -> str:
    try:
        return str(response.json().get("errcode", ""))
    except (ValueError, AttributeError):
        return ""


def transport(services: TransportServices, router: Router) -> Component:
    from bot.transports.matrix import MatrixTransport  # matrix-nio: only when Matrix runs

    return MatrixTransport(services, router)


MATRIX = Platform(NAME, TITLE, "MATRIX_HOMESERVER", enabled, probe, transport)
