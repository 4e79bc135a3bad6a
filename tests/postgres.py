"""A throwaway PostgreSQL server on 127.0.0.1 for the tests, one per test session.

It runs Debian's server binaries (`initdb`, `pg_ctl`; the `postgresql` package,
installed by `.ci/install-postgres` when missing) on a free port, in a temporary
folder deleted at the end. initdb refuses to run as root, so as root the server
runs as the `postgres` system user (created by the package), else as `nobody`.
Each test gets a database of its own, copied from a template that already holds
the migrated schema (a copy takes a few tens of milliseconds). The bot connects
as an ordinary role, `petition`, owner of its database, as in production.
If the server cannot start, the fixture fails with the reason: PostgreSQL is
tested on every run, never skipped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from storage.postgres import PostgresDatabase

APP_ROLE = "petition"
TEMPLATE = "petition_template"
START_TIMEOUT = 60
_names = itertools.count(1)


class PostgresError(Exception):
    """The server could not be found or started; the message says why and what to install."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return candidates[-1]
    raise PostgresError(
        f"PostgreSQL's {name} was not found (on PATH or in /usr/lib/postgresql/*/bin): install Debian's"
        " postgresql package (`apt-get install postgresql`; .ci/install-postgres does it)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> str | None:
    """None when this process may run the server itself; else the unprivileged user to run it as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresError("running as root and there is no postgres or nobody user to run the server as")


class PostgresServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="petition-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self.user = _server_user()
        self.admin_password = secrets.token_hex(12)
        self.app_password = secrets.token_hex(12)
        self.started = False

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=START_TIMEOUT, cwd=self.folder, check=False
        )

    def start(self) -> None:
        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        if self.user:
            shutil.chown(self.folder, self.user)
        password_file = self.folder / "pw"
        password_file.write_text(self.admin_password)
        if self.user:
            shutil.chown(password_file, self.user)
        done = self._run(
            initdb, "-D", str(self.data), "-U", "postgres", f"--pwfile={password_file}", "--auth=scram-sha-256",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        if done.returncode != 0:
            raise PostgresError(f"initdb failed: {(done.stderr or done.stdout).strip()[-600:]}")
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.folder}",
                "-c max_connections=300",
                "-c shared_buffers=32MB",
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",  # throwaway data: speed
            ]
        )
        done = self._run(
            pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT), "-o", options, "start"
        )
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-800:] if self.log.exists() else done.stderr
            raise PostgresError(f"the PostgreSQL server did not start: {tail.strip()}")
        self.started = True
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{self.app_password}'")
            conn.execute(f"CREATE DATABASE {TEMPLATE} OWNER {APP_ROLE}")
        # In a thread of its own: asyncio.run here would reset the test loop's thread state.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, self._migrate_template()).result()

    async def _migrate_template(self) -> None:
        db = await PostgresDatabase.open(self.url(TEMPLATE))
        await db.close()

    def stop(self) -> None:
        if self.started:
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str, *, user: str = APP_ROLE, password: str | None = None) -> str:
        secret = self.app_password if password is None and user == APP_ROLE else password or self.admin_password
        return f"postgresql://{user}:{secret}@127.0.0.1:{self.port}/{database}"

    @contextlib.contextmanager
    def admin(self, database: str = "postgres") -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """A superuser connection, for what the tests do as the server's administrator."""
        with psycopg.connect(self.url(database, user="postgres"), autocommit=True) as conn:
            yield conn

    def new_database(self, *, migrated: bool = True) -> str:
        """A database of the bot's own, migrated (a copy of the template) or empty; returns its URL."""
        name = f"test_{next(_names)}"
        template = TEMPLATE if migrated else "template0"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} OWNER {APP_ROLE}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session", name="postgres")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server; fails (never skips) when it cannot start."""
    server = PostgresServer()
    try:
        server.start()
    except (PostgresError, OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        server.stop()
        pytest.fail(f"PostgreSQL could not start for the tests: {exc}", pytrace=False)
    yield server
    server.stop()
