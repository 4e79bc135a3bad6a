"""Shared by the operations tests: the CLI as a real process, a Matrix whoami responder, odd data folders."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parent.parent
MATRIX_USER = "@petition:localhost"
MATRIX_TOKEN = "syt_good-matrix-token-0123"


def filled_campaign(folder: Path) -> Path:
    """A copy of the shipped campaign with every placeholder filled in, as a real campaign would."""
    shutil.copytree(ROOT / "content" / "sante-microsoft", folder)
    path = folder / "campaign.toml"
    text = path.read_text(encoding="utf-8")
    values = {
        "controller": "Collectif Santé Libre",
        "contact": "dpo@collectif.test",
        "petition_url": "https://p.test/s",
    }
    for key, value in values.items():
        text = re.sub(rf"(?m)^{key} = \{{ placeholder = .*\}}$", f'{key} = "{value}"', text)
    assert not re.search(r"(?m)^\w+ = \{ placeholder", text)
    path.write_text(text, encoding="utf-8")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without any platform setting, plus `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "HEALTH_"))}
    environment.update({"PSEUDONYM_KEY": TEST_KEY, "PYTHONPATH": str(ROOT), **env})
    return environment


def write_env(path: Path, **settings: str) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()), encoding="utf-8")
    return path


async def bot_process(env_file: Path | str, *args: str, **options: Any) -> asyncio.subprocess.Process:
    """`python -m bot --env-file ENV ARGS…` as a child process, run from the project's root.

    `options` go to `asyncio.create_subprocess_exec` (`env`, `umask`…); by default nothing is
    typed in and both outputs are piped.
    """
    options = {
        "stdin": asyncio.subprocess.DEVNULL,
        "stdout": asyncio.subprocess.PIPE,
        "stderr": asyncio.subprocess.PIPE,
        "cwd": ROOT,
        **options,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--env-file", str(env_file), *args, **options
    )


def run_bot(env_file: Path | str, args: list[str], typed: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The same, waited for: `typed` as its input, its outputs as text (at most a minute)."""
    command = [sys.executable, "-m", "bot", "--env-file", str(env_file), *args]
    return subprocess.run(command, input=typed, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)


async def cli(env_file: Path, *args: str, timeout: float = 60.0, **env: str) -> tuple[int, str, str]:
    """`petition-bot --env-file ENV ARGS…` as a process, without blocking this loop (it may serve a stub)."""
    process = await bot_process(
        str(env_file),
        *args,
        env=clean_environment(**env),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


class MatrixWhoami:
    """The two client-API endpoints `check` uses, answering like Synapse does."""

    def __init__(self) -> None:
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.requests = 0

    async def start(self) -> MatrixWhoami:
        app = web.Application()
        app.router.add_get("/_matrix/client/v3/account/whoami", self._whoami)
        app.router.add_get("/_matrix/client/versions", self._versions)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _whoami(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("Authorization") != f"Bearer {MATRIX_TOKEN}":
            body = {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}
            return web.json_response(body, status=401)
        return web.json_response({"user_id": MATRIX_USER, "device_id": "DEV", "is_guest": False})

    async def _versions(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response({"versions": ["v1.11"]})


def can_mount() -> bool:
    return os.geteuid() == 0 and sys.platform.startswith("linux")


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A real full or read-only file system (root only): the bot sees exactly what a full disk gives."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """Write until the file system says it is full."""
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()


class ConsoleProcess:
    """`petition-bot console` with a pipe for what the user types and one for what they see."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen = ""

    @classmethod
    async def start(cls, database: Path, *args: str, **env: str) -> ConsoleProcess:
        process = await bot_process(
            str(database.parent / "none.env"),
            "console",
            *args,
            stdin=asyncio.subprocess.PIPE,
            env=clean_environment(DATABASE_PATH=str(database), **env),
        )
        return cls(process)

    async def say(self, line: str, until: str) -> str:
        """Type a line, then read until `until` is on screen."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((line + "\n").encode())
        await self.process.stdin.drain()
        start = len(self.seen)
        while until not in self.seen[start:]:
            chunk = await asyncio.wait_for(self.process.stdout.read(4096), 30)
            assert chunk, f"the bot ended before showing {until!r}: {self.seen[start:]!r}"
            self.seen += chunk.decode()
        return self.seen[start:]

    async def terminate(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.process.communicate(), 30)
        assert self.process.returncode is not None
        return self.process.returncode, err.decode()

    async def kill(self) -> None:
        """`kill -9`: nothing runs after it, not even a clean close of the database."""
        self.process.kill()
        await asyncio.wait_for(self.process.communicate(), 30)
