"""`petition-bot` command line: run, console, and (as they land) check and admin."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot import admin_cli, check, logs
from bot.config import Settings, SettingsError, load_settings
from bot.content import LANGUAGES, ContentError
from bot.events import DeliveryError
from bot.transports.console import ConsoleUser
from storage.db import StorageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="petition-bot", description="Petition campaign chat bot.")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start every configured platform (the console chat if none)")
    sub.add_parser("check", help="check settings, content, database and platform credentials; report problems")
    console = sub.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--user", default="1", help="the console user's id (default: 1)")
    console.add_argument("--name", default="Console", help="the console user's display name")
    console.add_argument("--lang", choices=LANGUAGES, default=None, help="the platform language hint")
    console.add_argument(
        "--group", default=None, help="also a group chat with this id, where lines go (`:prive`/`:groupe` switch)"
    )
    console.add_argument("--admin", action="store_true", help="make the console user an admin (of the bot and group)")
    admin_cli.add_parser(sub)
    return parser


def _fail(message: str) -> int:
    print(f"petition-bot: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Imported here: the bot's core (question answering, transports) takes a second to import, which
    # `check` and `admin` do not need before they can answer or fail; `bot.app` itself imports neither.
    from bot import app

    if args.command == "check":
        report, status = asyncio.run(check.run_check(args.env_file, app.PLATFORMS))
        print(report)
        return status
    problem = check.env_file_problem(args.env_file)
    if problem is not None:
        return _fail(problem)
    try:
        settings: Settings = load_settings(args.env_file)
    except SettingsError as exc:
        return _fail(str(exc))
    level = settings.log_level
    chatting = args.command == "console" or (args.command == "run" and not check.configured(app.PLATFORMS, settings))
    if chatting and level == "INFO":
        level = "WARNING"  # the console is a chat: routine log lines would interleave with replies
    logs.configure(level, settings.log_format)
    try:
        if args.command == "admin":
            return asyncio.run(admin_cli.run(args, settings))
        if args.command == "console":
            user = ConsoleUser(args.user, args.name, args.lang, args.group, args.admin)
            asyncio.run(app.run_console(settings, user))
        else:
            asyncio.run(app.run(settings))
    except ContentError as exc:
        return _fail(f"campaign content: {exc}")
    except StorageError as exc:
        return _fail(f"database: {exc}")
    except (check.PreflightError, SettingsError) as exc:
        return _fail(str(exc))
    except DeliveryError as exc:
        # A platform refused or could not be reached while starting (after the pre-flight passed).
        return _fail(f"a chat platform could not start: {type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
