"""The Matrix session: settings checked, login (or the stored one), crypto store loaded, token verified.

A password login happens once: its access token and device are kept in the key-value
table (`SESSION_KEY`), since Synapse allows few logins and a new device each time would
lose the keys of encrypted rooms. With an access token in the settings, that is used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable

import aiohttp
from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.config import Settings, SettingsError
from bot.events import TransientError
from bot.transports.matrix_platform import SESSION_KEY
from storage.kv import KeyValueRepository

log = logging.getLogger(__name__)

DEVICE_NAME = "petition-bot"


async def open_client(settings: Settings, kv: KeyValueRepository) -> AsyncClient:
    """A logged-in client with its crypto store loaded, or `SettingsError`/`TransientError` saying why not."""
    await _check_settings(settings, kv)
    store = settings.data_folder / "matrix-store"
    store.mkdir(parents=True, exist_ok=True)  # nio fails the login when the folder is missing
    config = AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=2,
        encryption_enabled=True,
        store_sync_tokens=False,
        request_timeout=30,
    )
    user_id = settings.matrix_user_id
    session = await stored_session(settings, kv)
    device_id = session["device_id"] if session else settings.matrix_device_id
    client = AsyncClient(
        settings.matrix_homeserver, user_id, device_id=device_id or None, store_path=str(store), config=config
    )
    try:
        if session is not None:
            client.restore_login(user_id, session["device_id"], session["access_token"])
        else:
            await _login(client, settings, kv)
        await _check_token(client, settings, kv)
        if client.olm is None:
            raise RuntimeError("the Matrix crypto store did not load: encrypted rooms would get plain text")
        if client.should_upload_keys:
            await quietly(client.keys_upload())
    except BaseException:
        await client.close()
        raise
    return client


async def _check_settings(settings: Settings, kv: KeyValueRepository) -> None:
    s = settings
    if not s.matrix_homeserver:
        raise SettingsError("invalid setting MATRIX_HOMESERVER: required to start Matrix")
    if not s.matrix_user_id.startswith("@") or ":" not in s.matrix_user_id:
        raise SettingsError("invalid setting MATRIX_USER_ID: a full user id such as @bot:example.org")
    has_token = s.matrix_access_token is not None and bool(s.matrix_access_token.get_secret_value())
    has_password = s.matrix_password is not None and bool(s.matrix_password.get_secret_value())
    # After a first password login, the stored session suffices: the password may leave the settings file.
    if not has_token and not has_password and await stored_session(s, kv) is None:
        raise SettingsError("invalid setting MATRIX_ACCESS_TOKEN: set it (with MATRIX_DEVICE_ID) or MATRIX_PASSWORD")
    if has_token and not s.matrix_device_id:
        raise SettingsError("invalid setting MATRIX_DEVICE_ID: required with MATRIX_ACCESS_TOKEN")


async def stored_session(settings: Settings, kv: KeyValueRepository) -> dict[str, str] | None:
    """With an access token from the settings, that; with a password, the session of an earlier login."""
    s = settings
    if s.matrix_access_token is not None and s.matrix_access_token.get_secret_value():
        return {"device_id": s.matrix_device_id, "access_token": s.matrix_access_token.get_secret_value()}
    raw = await kv.get(SESSION_KEY.format(user=s.matrix_user_id))
    if not raw:
        return None
    session: dict[str, str] = json.loads(raw)
    return session if session.get("homeserver") == s.matrix_homeserver else None


async def _login(client: AsyncClient, settings: Settings, kv: KeyValueRepository) -> None:
    """Log in once with the password and keep the token and device: Synapse allows few logins."""
    password = settings.matrix_password
    assert password is not None
    response = await client.login(password.get_secret_value(), device_name=DEVICE_NAME)
    if not isinstance(response, LoginResponse):
        raise SettingsError(f"invalid setting MATRIX_PASSWORD: login refused ({response.status_code})")
    session = {
        "homeserver": settings.matrix_homeserver,
        "device_id": response.device_id,
        "access_token": response.access_token,
    }
    await kv.set(SESSION_KEY.format(user=settings.matrix_user_id), json.dumps(session))
    log.info("matrix logged in with a new device")


async def _check_token(client: AsyncClient, settings: Settings, kv: KeyValueRepository) -> None:
    try:
        response = await client.whoami()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"Matrix homeserver unreachable at start-up ({type(exc).__name__})") from None
    if isinstance(response, WhoamiResponse):
        if response.user_id != settings.matrix_user_id:
            raise SettingsError("invalid setting MATRIX_ACCESS_TOKEN: it belongs to another user")
        return
    if response.status_code == "M_UNKNOWN_TOKEN":
        await kv.delete(SESSION_KEY.format(user=settings.matrix_user_id))
        raise SettingsError("invalid setting MATRIX_ACCESS_TOKEN: refused by the homeserver")
    raise TransientError(f"Matrix homeserver refused whoami ({response.status_code})")


def trust_new_devices(client: AsyncClient, own_user_id: str) -> None:
    """Trust on first use (see `matrix.py`): every device not seen before, unless an operator blacklisted it."""
    if client.olm is None:
        return
    for device in client.device_store:
        if not device.verified and not device.blacklisted and device.user_id != own_user_id:
            client.verify_device(device)


async def quietly(request: Awaitable[object]) -> None:
    """Calls whose failure the next sync repairs (key upload, query, claim, to-device, declining an invite)."""
    try:
        await request
    except Exception as exc:
        log.debug("matrix housekeeping call failed error=%s", type(exc).__name__)
