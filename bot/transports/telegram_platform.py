"""Telegram as the rest of the process sees it before starting it: settings, probe, ports.

Imports no python-telegram-bot: `petition-bot check` and the pre-flight of `run` ask the
Bot API's `getMe` over plain HTTP, so a wrong token or an unreachable API is one line
naming the setting before anything starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from bot.check import HTTP_TIMEOUT_SECONDS, Finding, redact
from bot.transports.platform import Platform, Port, Stored

if TYPE_CHECKING:
    from bot.app import Component
    from bot.config import Settings
    from bot.context import TransportServices
    from bot.router import Router

NAME = "telegram"
TITLE = "Telegram"


def enabled(settings: Settings) -> bool:
    return settings.telegram_enabled


def ports(settings: Settings) -> list[Port]:
    if settings.telegram_mode != "webhook":
        return []
    return [Port("TELEGRAM_WEBHOOK_PORT", settings.telegram_webhook_listen, settings.telegram_webhook_port)]


async def probe(settings: Settings, stored: Stored, wait_seconds: float = HTTP_TIMEOUT_SECONDS) -> Finding:
    """The token is accepted (`getMe`): the bot's username, or what is wrong and how to fix it."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    host = urlsplit(settings.telegram_api_url).netloc or settings.telegram_api_url
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as client:
            response = await client.get(f"{settings.telegram_api_url}{token}/getMe")
    except httpx.HTTPError as exc:
        return Finding(
            TITLE,
            False,
            f"the Bot API at {host} (TELEGRAM_API_URL) is unreachable ({type(exc).__name__})",
            "check the server's internet access and DNS, or TELEGRAM_API_URL if you changed it",
        )
    if response.status_code in (401, 404):
        return Finding(
            TITLE,
            False,
            f"TELEGRAM_BOT_TOKEN is refused by the Bot API (HTTP {response.status_code})",
            "copy the token again from @BotFather (/mybots → your bot → API Token)",
        )
    try:
        body = response.json()
        username = str(body["result"]["username"])
    except (ValueError, KeyError, TypeError):
        return Finding(
            TITLE,
            False,
            f"unexpected answer from {host} to getMe (HTTP {response.status_code})",
            "check TELEGRAM_API_URL; try again later if Telegram is having trouble",
        )
    mode = settings.telegram_mode
    return Finding(TITLE, True, f"token accepted, the bot is @{redact(username, settings)} ({mode})")


def transport(services: TransportServices, router: Router) -> Component:
    from bot.transports.telegram import TelegramTransport  # python-telegram-bot: only when Telegram runs

    return TelegramTransport(services, router)


TELEGRAM = Platform(NAME, TITLE, "TELEGRAM_BOT_TOKEN", enabled, probe, transport, ports)
