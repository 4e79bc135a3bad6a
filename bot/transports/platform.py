"""What the process knows of a chat platform before starting it: one `Platform` per transport module.

Each platform's module declares its own (`telegram_platform.py`, `matrix_platform.py`),
and `bot/app.py` lists them in `PLATFORMS`: `run` starts those configured, `check` and
the pre-flight probe their credentials and reachability and check their ports. The
running transport is the rest of the platform (receive loop, `send`/`edit`/`deliver`,
`pacing`, `chat_link`). Nothing outside `bot/transports/` knows a platform by name.

A declaration imports no platform library: `check` and the console never pay for one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Component
    from bot.check import Finding
    from bot.config import Settings
    from bot.context import TransportServices
    from bot.router import Router

# A value the database keeps (a session of an earlier login), read for a probe: None when there is none.
Stored = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class Port:
    """Where a platform listens (a webhook server): checked free before anything starts."""

    setting: str  # the setting that chooses it, named in the report ("TELEGRAM_WEBHOOK_PORT")
    host: str
    port: int


def _no_ports(settings: Settings) -> list[Port]:
    return []


@dataclass(frozen=True)
class Platform:
    name: str  # the transport's name: `Chat.transport`, keys of `Services.outbounds`, `ADMINS` prefixes
    title: str  # as the operator reads it in `petition-bot check` ("Telegram")
    setting: str  # the setting that turns it on, named when it is off ("TELEGRAM_BOT_TOKEN")
    enabled: Callable[[Settings], bool]
    # Credentials and reachability, one line for the report; `Stored` reads what an earlier start kept.
    probe: Callable[[Settings, Stored], Awaitable[Finding]]
    # The running transport (imports the platform's library): a `Component` that registers its outbound.
    transport: Callable[[TransportServices, Router], Component]
    ports: Callable[[Settings], list[Port]] = field(default=_no_ports)
