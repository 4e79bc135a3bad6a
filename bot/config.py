"""Settings from the environment and `.env`, validated once at start-up.

An invalid setting stops the bot with one line naming the setting. Pydantic's
own messages echo the offending value, which could be a token, so they are
rebuilt here from the error location and reason only.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.content import LANGUAGES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SettingsError(Exception):
    """One line that names the setting and what is wrong, without its value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    # Core
    database_path: Path = Path("data/petition.sqlite3")
    # postgresql://user:password@host:port/database: several instances share it (else SQLite at DATABASE_PATH)
    database_url: SecretStr | None = None
    campaign: str = "sante-microsoft"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    timezone: str = "Europe/Paris"
    admins: str = ""
    default_language: str = LANGUAGES[0]
    pseudonym_key: SecretStr | None = Field(default=None, validate_default=True)
    flood_max_per_minute: int = Field(default=20, ge=1, le=10_000)
    dialogue_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str = ""
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None

    # Matrix
    matrix_homeserver: str = ""
    matrix_user_id: str = ""
    matrix_access_token: SecretStr | None = None
    matrix_device_id: str = ""
    matrix_password: SecretStr | None = None
    matrix_command_prefix: str = "!"
    matrix_allowed_servers: str = ""

    # Count, milestones, digest
    count_source_url: str = ""
    count_source_pattern: str = ""
    count_poll_minutes: int = Field(default=15, ge=1, le=24 * 60)
    quiet_hours: str = "22:00-08:00"
    digest_time: str = "18:00"
    broadcast_rate_telegram: float = Field(default=25.0, gt=0, le=1000)
    broadcast_rate_matrix: float = Field(default=5.0, gt=0, le=1000)

    # Operations
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone (use a name such as Europe/Paris)") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (leave it empty for SQLite at DATABASE_PATH)")
        return value

    @field_validator("pseudonym_key")
    @classmethod
    def _shared_key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # A key generated into one instance's data folder would differ from the others':
        # the same person would get a different pseudonym on each instance.
        if info.data.get("database_url") is not None and not (value and value.get_secret_value()):
            raise ValueError("required with DATABASE_URL: every instance must use the same key")
        return value

    @field_validator("telegram_webhook_url", "telegram_webhook_secret")
    @classmethod
    def _webhook_complete(cls, value: str | SecretStr | None, info: ValidationInfo) -> str | SecretStr | None:
        token = info.data.get("telegram_bot_token")
        if info.data.get("telegram_mode") != "webhook" or not (token and token.get_secret_value()):
            return value
        given = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not given:
            raise ValueError("required when TELEGRAM_MODE is webhook")
        return value

    @field_validator("admins")
    @classmethod
    def _admins_format(cls, value: str) -> str:
        for item in filter(None, (x.strip() for x in value.split(","))):
            transport, _, user = item.partition(":")
            if transport not in ("telegram", "matrix", "console") or not user:
                raise ValueError("each admin is transport:user_id, e.g. telegram:12345 or matrix:@alice:example.org")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_format(cls, value: str) -> str:
        # An empty value in the environment means "the default" (env_ignore_empty): "none" turns them off.
        if value.strip().lower() in ("", "none", "off"):
            return ""
        start, _, end = value.partition("-")
        if not (_HHMM.match(start.strip()) and _HHMM.match(end.strip())):
            raise ValueError("use HH:MM-HH:MM, e.g. 22:00-08:00, or none")
        return value

    @field_validator("digest_time")
    @classmethod
    def _digest_time_format(cls, value: str) -> str:
        if not _HHMM.match(value.strip()):
            raise ValueError("use HH:MM, e.g. 18:00")
        return value

    @field_validator("count_source_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        if value:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc.msg})") from None
            if compiled.groups != 1:
                raise ValueError("needs exactly one capturing group around the number")
        return value

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def admin_ids(self) -> frozenset[tuple[str, str]]:
        """Admins as (transport, user id) pairs."""
        pairs = []
        for item in filter(None, (x.strip() for x in self.admins.split(","))):
            transport, _, user = item.partition(":")
            pairs.append((transport, user))
        return frozenset(pairs)

    @property
    def campaign_folder(self) -> Path:
        """A campaign name under the project's `content/`, or a path to any folder."""
        given = Path(self.campaign)
        if given.is_dir():
            return given
        return PROJECT_ROOT / "content" / self.campaign

    @property
    def postgres_url(self) -> str:
        """DATABASE_URL, or "" for SQLite."""
        return self.database_url.get_secret_value() if self.database_url is not None else ""

    @property
    def data_folder(self) -> Path:
        return self.database_path.parent

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and bool(self.telegram_bot_token.get_secret_value())

    @property
    def matrix_enabled(self) -> bool:
        return bool(self.matrix_homeserver)

    @property
    def quiet_window(self) -> tuple[dt.time, dt.time] | None:
        if not self.quiet_hours.strip():
            return None
        start, _, end = self.quiet_hours.partition("-")
        return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read settings, turning validation errors into one readable line without values."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
        reason = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {name}: {reason}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"cannot read the settings file {env_file}: {type(exc).__name__}") from None
