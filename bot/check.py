"""`petition-bot check`, and the same checks as the pre-flight of `run`.

The people running the bot are volunteers: every problem is one line that names
the setting or path at fault, followed by how to fix it. Secrets are never
printed: errors are reported by their type and HTTP status, and any text that
could echo a request goes through `redact` first.

`run` calls `preflight` before starting anything, so a wrong token, a homeserver
that does not answer, an unwritable data folder or a taken port stops the process
before any platform or job has started (nothing half-starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import io
import json
import os
import shutil
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from dotenv.parser import parse_stream

from bot import messages
from bot.config import Settings, SettingsError, load_settings
from bot.content import ContentError, load_content
from bot.transports.matrix_keys import SESSION_KEY
from storage.db import StorageError, open_database
from storage.kv import KeyValueRepository

HTTP_TIMEOUT_SECONDS = 10.0
MIN_FREE_BYTES = 20 * 1024 * 1024  # a migration, a day of WAL and a backup copy of a small campaign
WRITE_PROBE_BYTES = 64 * 1024
WRITE_PROBE_NAME = ".petition-bot-write-check"
OK, PROBLEM, NOTE, WARNING = "✔", "✘", "•", "⚠"


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, how it went, and how to fix it."""

    part: str
    ok: bool
    summary: str
    fix: str = ""
    note: bool = False  # informational: neither a success nor a problem
    warning: bool = False  # fine for trying the bot in the console, not for a campaign

    def lines(self) -> list[str]:
        mark = NOTE if self.note else WARNING if self.warning else OK if self.ok else PROBLEM
        out = [f"{mark} {self.part}: {self.summary}"]
        if self.fix and (self.warning or not self.ok):
            out.append(f"    fix: {self.fix}")
        return out


class PreflightError(Exception):
    """The first problem that stops `run`, as one line."""


def redact(text: str, settings: Settings | None) -> str:
    """Remove every secret of the settings from a text that could echo a request or a URL."""
    if settings is None:
        return text
    secrets = [settings.telegram_bot_token, settings.matrix_access_token, settings.matrix_password]
    values = [secret.get_secret_value() for secret in secrets if secret is not None]
    if settings.postgres_url:
        values += [settings.postgres_url, urlsplit(settings.postgres_url).password or ""]
    for value in values:
        if value:
            text = text.replace(value, "<redacted>")
    return text


# Settings -------------------------------------------------------------------------


def env_file_problem(env_file: str | Path | None) -> str | None:
    """A settings file that exists but has lines python-dotenv would silently skip."""
    if env_file is None:
        return None
    path = Path(env_file)
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read the settings file {path}: {type(exc).__name__}"
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            return f"settings file {path}, line {binding.original.line}: not a NAME=value line"
    return None


def unknown_keys(env_file: str | Path | None) -> list[str]:
    """Names in the settings file that are no setting: usually a typo, and the setting keeps its default."""
    if env_file is None or not Path(env_file).is_file():
        return []
    known = {name.upper() for name in Settings.model_fields}
    found = []
    for binding in parse_stream(io.StringIO(Path(env_file).read_text(encoding="utf-8"))):
        if binding.key and binding.key.upper() not in known:
            found.append(binding.key)
    return found


def check_settings(env_file: str | Path | None) -> tuple[Settings | None, list[Finding]]:
    source = str(env_file) if env_file and Path(env_file).is_file() else "environment variables only"
    problem = env_file_problem(env_file)
    if problem is not None:
        return None, [Finding("settings", False, problem, "write each setting as NAME=value on its own line")]
    try:
        settings = load_settings(env_file)
    except SettingsError as exc:
        return None, [Finding("settings", False, str(exc), "correct that line of the settings file (see .env.example)")]
    findings = [Finding("settings", True, f"valid ({source})")]
    for key in unknown_keys(env_file):
        findings.append(Finding("settings", True, f"{key} is not a setting and is ignored (a typo?)", note=True))
    if not _platforms(settings):
        findings.append(
            Finding(
                "platforms",
                True,
                "none configured (TELEGRAM_BOT_TOKEN and MATRIX_HOMESERVER are both empty):"
                " `run` opens the console chat",
                "set at least one of them to serve supporters (docs/OPERATIONS.md)",
                warning=True,
            )
        )
    return settings, findings


def _platforms(settings: Settings) -> bool:
    return settings.telegram_enabled or settings.matrix_enabled


# Content and storage ----------------------------------------------------------------


def check_content(settings: Settings) -> list[Finding]:
    """The content loads; each placeholder still in it is a problem once supporters can reach the bot."""
    try:
        content = load_content(settings.campaign_folder, messages.required())
    except ContentError as exc:
        return [Finding("campaign content", False, str(exc), "correct the file and key named above")]
    found = [
        Finding(
            "campaign content",
            True,
            f"{content.campaign.slug}: {len(content.faq)} FAQ entries, {len(content.messages)} languages",
        )
    ]
    console_only = not _platforms(settings)
    for placeholder in content.placeholders:
        found.append(
            Finding(
                "campaign content",
                console_only,
                f"{placeholder.file}: {placeholder.key} is still a placeholder ({placeholder.what})",
                f"write the real value in {content.folder / placeholder.file}, in place of {{ placeholder = … }}",
                warning=console_only,
            )
        )
    return found


def check_scheduler(settings: Settings) -> list[Finding]:
    """What the scheduler will run and when, and where the published count comes from."""
    from bot.scheduler import describe  # here: `run` imports this module, and needs the scheduler only later

    found = [
        Finding("scheduler", True, f"{job_id}: {when}", note=True)
        for job_id, when in describe(settings, dt.datetime.now(dt.UTC))
    ]
    try:
        campaign = load_content(settings.campaign_folder).campaign
    except ContentError:
        return found  # already reported by check_content
    if not (settings.count_source_url or campaign.count_source_url):
        found.append(
            Finding(
                "count source",
                True,
                "no petition page to poll (COUNT_SOURCE_URL and the campaign's count_source.url are empty):"
                " the published count changes only with /compteur_officiel",
                note=True,
            )
        )
    return found


def check_data_folder(folder: Path) -> Finding:
    """Writable and not full: SQLite would otherwise fail on the first signature, not at start."""
    part = "data folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return Finding(part, False, f"cannot create {folder}: {exc.strerror}", _folder_fix(folder))
    probe = folder / WRITE_PROBE_NAME
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * WRITE_PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return Finding(part, False, f"{folder} is full", "free disk space or move DATABASE_PATH to a larger disk")
        return Finding(part, False, f"{folder} is not writable ({exc.strerror})", _folder_fix(folder))
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        return Finding(
            part,
            False,
            f"{folder} is almost full ({_size(free)} free)",
            "free disk space (old backups?) or move DATABASE_PATH to a larger disk",
        )
    return Finding(part, True, f"{folder} is writable, {_size(free)} free")


def describe_database(settings: Settings) -> str:
    """Where the data is, for messages: the SQLite file, or DATABASE_URL without its password."""
    if settings.postgres_url:
        from storage.postgres import describe  # psycopg is imported only for PostgreSQL

        return describe(settings.postgres_url)
    return str(settings.database_path)


def _folder_fix(folder: Path) -> str:
    return f"let the bot's user write to {folder} (under systemd: StateDirectory), or change DATABASE_PATH"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


async def check_database(settings: Settings) -> Finding:
    """Opens and migrates, as `run` would, then proves a write goes through.

    On PostgreSQL this is the probe the issue asks of operators: the server is
    reachable, the user and password are accepted, and the schema is current.
    """
    part = "database"
    url = settings.postgres_url
    path = describe_database(settings)
    try:
        db = await open_database(settings.database_path, url, migrate=False)
    except StorageError as exc:
        # Both messages name the file, or DATABASE_URL without its password.
        if url:
            return Finding(
                part, False, str(exc), "check DATABASE_URL, the server and its pg_hba.conf (docs/OPERATIONS.md)"
            )
        return Finding(part, False, str(exc), "check DATABASE_PATH and the data folder's permissions")
    try:
        applied = await db.migrate()
        async with db.transaction() as tx:
            version = await tx.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
            await tx.execute("CREATE TABLE IF NOT EXISTS _petition_bot_check (x INTEGER)")
            await tx.execute("DROP TABLE _petition_bot_check")
    except StorageError as exc:
        return Finding(
            part,
            False,
            f"{path}: {exc}",
            "stop other programs using it (one bot per database); restore a backup if damaged",
        )
    finally:
        await db.close()
    schema = int(version["v"]) if version is not None and version["v"] is not None else 0
    migrated = f", {len(applied)} migration(s) applied now" if applied else ""
    return Finding(part, True, f"{path}: schema version {schema}, writable{migrated}")


# Platforms --------------------------------------------------------------------------


async def check_telegram(settings: Settings, wait_seconds: float = HTTP_TIMEOUT_SECONDS) -> Finding:
    part = "Telegram"
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    host = urlsplit(settings.telegram_api_url).netloc or settings.telegram_api_url
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as client:
            response = await client.get(f"{settings.telegram_api_url}{token}/getMe")
    except httpx.HTTPError as exc:
        return Finding(
            part,
            False,
            f"the Bot API at {host} (TELEGRAM_API_URL) is unreachable ({type(exc).__name__})",
            "check the server's internet access and DNS, or TELEGRAM_API_URL if you changed it",
        )
    if response.status_code in (401, 404):
        return Finding(
            part,
            False,
            f"TELEGRAM_BOT_TOKEN is refused by the Bot API (HTTP {response.status_code})",
            "copy the token again from @BotFather (/mybots → your bot → API Token)",
        )
    try:
        body = response.json()
        username = str(body["result"]["username"])
    except (ValueError, KeyError, TypeError):
        return Finding(
            part,
            False,
            f"unexpected answer from {host} to getMe (HTTP {response.status_code})",
            "check TELEGRAM_API_URL; try again later if Telegram is having trouble",
        )
    mode = settings.telegram_mode
    return Finding(part, True, f"token accepted, the bot is @{redact(username, settings)} ({mode})")


async def _stored_matrix_token(settings: Settings) -> str:
    """The access token of an earlier password login, if the database holds one for this homeserver."""
    if not (settings.postgres_url or settings.database_path.exists()):
        return ""
    try:
        db = await open_database(settings.database_path, settings.postgres_url, migrate=False)
    except StorageError:
        return ""
    try:
        raw = await KeyValueRepository(db).get(SESSION_KEY.format(user=settings.matrix_user_id))
    except StorageError:
        raw = None
    finally:
        await db.close()
    try:
        session = json.loads(raw) if raw else {}
    except ValueError:
        return ""
    if session.get("homeserver") != settings.matrix_homeserver:
        return ""
    return str(session.get("access_token", ""))


async def check_matrix(settings: Settings, wait_seconds: float = HTTP_TIMEOUT_SECONDS) -> Finding:
    part = "Matrix"
    homeserver = settings.matrix_homeserver.rstrip("/")
    token = settings.matrix_access_token.get_secret_value() if settings.matrix_access_token else ""
    password = settings.matrix_password.get_secret_value() if settings.matrix_password else ""
    stored = False
    if not (token or password):
        # A password login keeps its session in the database: the password may then be removed.
        token = await _stored_matrix_token(settings)
        stored = bool(token)
    if not (token or password):
        return Finding(
            part,
            False,
            "MATRIX_ACCESS_TOKEN is empty (and no MATRIX_PASSWORD)",
            "create an access token for the bot's account (docs/OPERATIONS.md, Matrix)",
        )
    if token and not stored and not settings.matrix_device_id:
        return Finding(
            part,
            False,
            "MATRIX_DEVICE_ID is empty (required with MATRIX_ACCESS_TOKEN)",
            "set the device id that came with the access token (docs/OPERATIONS.md, Matrix)",
        )
    if not settings.matrix_user_id:
        return Finding(
            part, False, "MATRIX_USER_ID is empty", "set it to the bot's full id, e.g. @petition:example.org"
        )
    url = f"{homeserver}/_matrix/client/v3/account/whoami" if token else f"{homeserver}/_matrix/client/versions"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return Finding(
            part,
            False,
            f"the homeserver {urlsplit(homeserver).netloc or homeserver} (MATRIX_HOMESERVER) is unreachable"
            f" ({type(exc).__name__})",
            "check MATRIX_HOMESERVER (https://…, the client API address) and the server's network",
        )
    if token and response.status_code == 401:
        return Finding(
            part,
            False,
            f"MATRIX_ACCESS_TOKEN is refused by the homeserver (HTTP 401 {_errcode(response)})".rstrip(),
            "log the bot's account in again and copy the new access token (docs/OPERATIONS.md)",
        )
    if response.status_code != 200:
        return Finding(
            part,
            False,
            f"unexpected answer from MATRIX_HOMESERVER (HTTP {response.status_code} {_errcode(response)})".rstrip(),
            "check that MATRIX_HOMESERVER is the client API address (see /.well-known/matrix/client)",
        )
    if not token:
        return Finding(part, True, "homeserver reachable; the password login happens at start-up")
    try:
        who = str(response.json()["user_id"])
    except (ValueError, KeyError, TypeError):
        return Finding(part, False, "unexpected whoami answer from MATRIX_HOMESERVER", "check MATRIX_HOMESERVER")
    if who != settings.matrix_user_id:
        return Finding(
            part,
            False,
            "MATRIX_ACCESS_TOKEN belongs to another account than MATRIX_USER_ID",
            "use a token of the bot's own account, or correct MATRIX_USER_ID",
        )
    return Finding(part, True, f"access token accepted for {who}")


def _errcode(response: httpx.Response) -> str:
    try:
        return str(response.json().get("errcode", ""))
    except (ValueError, AttributeError):
        return ""


def check_port(setting: str, host: str, port: int) -> Finding:
    part = f"{setting}"
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does: TIME_WAIT is no conflict
            sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return Finding(
                part, False, f"port {port} on {host} is already taken", f"choose another {setting} or stop that program"
            )
        return Finding(part, False, f"cannot listen on {host}:{port} ({exc.strerror})", f"check {setting}")
    return Finding(part, True, f"{host}:{port} is free")


def port_checks(settings: Settings) -> list[Finding]:
    found = []
    if settings.health_port is not None:
        found.append(check_port("HEALTH_PORT", settings.health_host, settings.health_port))
    if settings.telegram_enabled and settings.telegram_mode == "webhook":
        found.append(
            check_port("TELEGRAM_WEBHOOK_PORT", settings.telegram_webhook_listen, settings.telegram_webhook_port)
        )
    return found


# The whole report -----------------------------------------------------------------------


async def check_all(env_file: str | Path | None) -> list[Finding]:
    settings, findings = check_settings(env_file)
    if settings is None:
        return findings
    findings += check_content(settings)
    folder = check_data_folder(settings.data_folder)
    findings.append(folder)
    if folder.ok:
        findings.append(await check_database(settings))
    else:  # opening it would create files in a folder that cannot take them
        path = settings.database_path
        findings.append(Finding("database", False, f"{path}: unusable, see the data folder above", folder.fix))
    platforms = []
    if settings.telegram_enabled:
        platforms.append(check_telegram(settings))
    else:
        findings.append(Finding("Telegram", True, "not configured (TELEGRAM_BOT_TOKEN empty)", note=True))
    if settings.matrix_enabled:
        platforms.append(check_matrix(settings))
    else:
        findings.append(Finding("Matrix", True, "not configured (MATRIX_HOMESERVER empty)", note=True))
    findings += await asyncio.gather(*platforms)
    findings += port_checks(settings)
    if settings.health_port is None:
        findings.append(Finding("HEALTH_PORT", True, "health and metrics server off", note=True))
    findings += check_scheduler(settings)
    return [_redacted(f, settings) for f in findings]


def _redacted(finding: Finding, settings: Settings) -> Finding:
    return Finding(
        finding.part,
        finding.ok,
        redact(finding.summary, settings),
        redact(finding.fix, settings),
        finding.note,
        finding.warning,
    )


def report(findings: Iterable[Finding]) -> str:
    findings = list(findings)
    lines = [line for finding in findings for line in finding.lines()]
    problems = sum(1 for f in findings if not f.ok)
    warnings = sum(1 for f in findings if f.warning)
    lines.append("")
    if problems:
        lines.append(f"{problems} problem(s) found.")
    elif warnings:
        lines.append(f"Ready to try in the console, with {warnings} warning(s) (⚠) to settle before a campaign.")
    else:
        lines.append("Everything is ready.")
    return "\n".join(lines)


DATABASE_PROBLEM = 2  # the exit status of every command when the database cannot be opened or migrated


async def run_check(env_file: str | Path | None) -> tuple[str, int]:
    """The printed report and the exit status: 0 ready, 1 a problem, 2 the database is unusable."""
    findings = await check_all(env_file)
    if any(f.part == "database" and not f.ok for f in findings):
        return report(findings), DATABASE_PROBLEM
    return report(findings), 0 if all(f.ok for f in findings) else 1


async def preflight(settings: Settings, platforms: bool = True) -> None:
    """What `run` verifies before starting anything; raises `PreflightError` with the first problem.

    `platforms=False` for the console chat, which starts no platform even when some are configured.
    """
    steps: list[Finding] = [check_data_folder(settings.data_folder)]
    _raise_first(steps, settings)
    if platforms or not _platforms(settings):  # the console beside platforms starts no server
        steps += port_checks(settings)
    _raise_first(steps, settings)
    checks = []
    if platforms and settings.telegram_enabled:
        checks.append(check_telegram(settings))
    if platforms and settings.matrix_enabled:
        checks.append(check_matrix(settings))
    steps += await asyncio.gather(*checks)
    _raise_first(steps, settings)


def _raise_first(findings: list[Finding], settings: Settings) -> None:
    for finding in findings:
        if not finding.ok:
            raise PreflightError(redact(f"{finding.part}: {finding.summary}", settings))
