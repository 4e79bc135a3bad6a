"""`petition-bot check`, and the same checks as the pre-flight of `run`.

The people running the bot are volunteers: every problem is one line that names
the setting or path at fault, followed by how to fix it. Secrets are never
printed: errors are reported by their type and HTTP status, and any text that
could echo a request goes through `redact` first.

`run` calls `preflight` before starting anything, so a wrong token, a homeserver
that does not answer, an unwritable data folder or a taken port stops the process
before any platform or job has started (nothing half-starts). Each chat platform
brings its own probe and ports (`bot/transports/platform.py`): the list of them is
given by the caller, from `bot/app.py`'s `PLATFORMS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import functools
import io
import os
import shutil
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dotenv.parser import parse_stream

from bot import messages
from bot.config import Settings, SettingsError, load_settings
from bot.content import ContentError, load_content
from storage.db import StorageError, open_database
from storage.kv import KeyValueRepository

if TYPE_CHECKING:
    from bot.transports.platform import Platform

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


def check_settings(env_file: str | Path | None, platforms: Sequence[Platform]) -> tuple[Settings | None, list[Finding]]:
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
    if not configured(platforms, settings):
        names = [p.setting for p in platforms]
        empty = f"{' and '.join(names)} are both empty" if len(names) == 2 else f"{', '.join(names)} are empty"
        findings.append(
            Finding(
                "platforms",
                True,
                f"none configured ({empty}): `run` opens the console chat",
                "set at least one of them to serve supporters (docs/OPERATIONS.md)",
                warning=True,
            )
        )
    return settings, findings


def configured(platforms: Sequence[Platform], settings: Settings) -> list[Platform]:
    """The platforms these settings turn on."""
    return [p for p in platforms if p.enabled(settings)]


# Content and storage ----------------------------------------------------------------


def check_content(settings: Settings, platforms: Sequence[Platform]) -> list[Finding]:
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
    console_only = not configured(platforms, settings)
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


async def stored_value(settings: Settings, key: str) -> str | None:
    """A value an earlier start kept in the database (a platform's session), without creating the file."""
    if not (settings.postgres_url or settings.database_path.exists()):
        return None
    try:
        db = await open_database(settings.database_path, settings.postgres_url, migrate=False)
    except StorageError:
        return None
    try:
        return await KeyValueRepository(db).get(key)
    except StorageError:
        return None
    finally:
        await db.close()


async def probe(platform: Platform, settings: Settings) -> Finding:
    return await platform.probe(settings, functools.partial(stored_value, settings))


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


def port_checks(settings: Settings, platforms: Sequence[Platform]) -> list[Finding]:
    found = []
    if settings.health_port is not None:
        found.append(check_port("HEALTH_PORT", settings.health_host, settings.health_port))
    for platform in configured(platforms, settings):
        found += [check_port(p.setting, p.host, p.port) for p in platform.ports(settings)]
    return found


# The whole report -----------------------------------------------------------------------


async def check_all(env_file: str | Path | None, platforms: Sequence[Platform]) -> list[Finding]:
    settings, findings = check_settings(env_file, platforms)
    if settings is None:
        return findings
    findings += check_content(settings, platforms)
    folder = check_data_folder(settings.data_folder)
    findings.append(folder)
    if folder.ok:
        findings.append(await check_database(settings))
    else:  # opening it would create files in a folder that cannot take them
        path = settings.database_path
        findings.append(Finding("database", False, f"{path}: unusable, see the data folder above", folder.fix))
    probes = []
    for platform in platforms:
        if platform.enabled(settings):
            probes.append(probe(platform, settings))
        else:
            findings.append(Finding(platform.title, True, f"not configured ({platform.setting} empty)", note=True))
    findings += await asyncio.gather(*probes)
    findings += port_checks(settings, platforms)
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


async def run_check(env_file: str | Path | None, platforms: Sequence[Platform]) -> tuple[str, int]:
    """The printed report and the exit status: 0 ready, 1 a problem, 2 the database is unusable."""
    findings = await check_all(env_file, platforms)
    if any(f.part == "database" and not f.ok for f in findings):
        return report(findings), DATABASE_PROBLEM
    return report(findings), 0 if all(f.ok for f in findings) else 1


async def preflight(settings: Settings, platforms: Sequence[Platform], listening: bool = True) -> None:
    """What `run` verifies before starting anything; raises `PreflightError` with the first problem.

    `platforms`: those about to start (none for the console chat); `listening=False` when no
    server starts either (the console chat beside configured platforms).
    """
    steps: list[Finding] = [check_data_folder(settings.data_folder)]
    _raise_first(steps, settings)
    if listening:
        steps += port_checks(settings, platforms)
    _raise_first(steps, settings)
    steps += await asyncio.gather(*(probe(p, settings) for p in configured(platforms, settings)))
    _raise_first(steps, settings)


def _raise_first(findings: list[Finding], settings: Settings) -> None:
    for finding in findings:
        if not finding.ok:
            raise PreflightError(redact(f"{finding.part}: {finding.summary}", settings))
