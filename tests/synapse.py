"""A throwaway Synapse homeserver on 127.0.0.1 for the Matrix tests, one per test session.

It runs from the same virtual environment (matrix-synapse is in the `test` extra),
with SQLite, registration by shared secret and, unless asked otherwise, rate
limits raised so the tests measure the bot rather than Synapse's throttling.
Users are registered through the admin API, which returns an access token: the
tests never call /login (Synapse blocks an address after 5 logins for minutes).
If Synapse cannot start, the fixture fails with the reason: Matrix is tested on
every run, never skipped silently.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SERVER_NAME = "localhost"
SHARED_SECRET = "test-registration-secret"  # a throwaway server on loopback, deleted after the run
START_TIMEOUT = 60.0
_RAISED = {"per_second": 10000, "burst_count": 10000}
# Every rate limit Synapse has (synapse/config/ratelimiting.py), raised for the tests.
_RC_FLAT = (
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
    "rc_admin_redaction",
)
_RC_NESTED = {
    "rc_login": ("address", "account", "failed_attempts"),
    "rc_joins": ("local", "remote"),
    "rc_invites": ("per_room", "per_user", "per_issuer"),
    "rc_presence": ("per_user",),
}
_names = itertools.count(1)


class SynapseError(Exception):
    """Synapse did not start or refused a request; the message says why."""


@dataclass(frozen=True)
class Account:
    user_id: str
    access_token: str
    device_id: str
    password: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Synapse:
    """One homeserver process and its folder (config, signing key, SQLite database, media, log)."""

    def __init__(self, folder: Path, *, default_rate_limits: bool = False) -> None:
        self.folder = folder
        self.default_rate_limits = default_rate_limits
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._admin: Account | None = None

    def config(self) -> dict[str, Any]:
        f = self.folder
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "pid_file": str(f / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(f / "homeserver.db")}},
            "log_config": str(f / "log.yaml"),
            "media_store_path": str(f / "media"),
            "signing_key_path": str(f / "signing.key"),
            "registration_shared_secret": SHARED_SECRET,
            "enable_registration": False,
            "report_stats": False,
            "trusted_key_servers": [],
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "bcrypt_rounds": 4,  # tests only: registration drops from ~430 ms to ~20 ms
            "suppress_key_server_warning": True,
        }
        if not self.default_rate_limits:
            for name in _RC_FLAT:
                config[name] = dict(_RAISED)
            for name, parts in _RC_NESTED.items():
                config[name] = {part: dict(_RAISED) for part in parts}
        return config

    def _write_files(self) -> None:
        from signedjson.key import generate_signing_key, write_signing_keys

        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "media").mkdir(exist_ok=True)
        with open(self.folder / "signing.key", "w") as key_file:
            write_signing_keys(key_file, [generate_signing_key("a")])
        log_config = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": str(self.folder / "homeserver.log"),
                    "formatter": "plain",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        # YAML is a superset of JSON: no YAML writer needed.
        (self.folder / "log.yaml").write_text(json.dumps(log_config))
        (self.folder / "homeserver.yaml").write_text(json.dumps(self.config(), indent=1))

    def start(self) -> None:
        self._write_files()
        out = open(self.folder / "stdout.log", "wb")  # closed once Synapse holds it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.folder / "homeserver.yaml")],
            cwd=self.folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SYNAPSE_NO_TLS": "1"},
        )
        out.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SynapseError(f"Synapse exited with code {self.process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise SynapseError(f"Synapse did not answer within {START_TIMEOUT:.0f} s:\n{self._log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _log_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            path = self.folder / name
            if path.exists():
                text += f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    # HTTP ------------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise SynapseError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None

    def register(self, name: str, *, admin: bool = False) -> Account:
        """A new user (a unique localpart starting with `name`), through the shared-secret admin API."""
        localpart = f"{name}{next(_names)}"
        password = f"pw-{localpart}"
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode()]))
        mac.update(b"\x00admin" if admin else b"\x00notadmin")
        result = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()},
        )
        return Account(result["user_id"], result["access_token"], result["device_id"], password)

    def exempt_from_rate_limits(self, user_id: str) -> None:
        """What the operations guide tells server admins to do for the bot account."""
        if self._admin is None:
            self._admin = self.register("admin", admin=True)
        self.request(
            "POST",
            f"/_synapse/admin/v1/users/{urllib.request.quote(user_id)}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            token=self._admin.access_token,
        )


@pytest.fixture(scope="session", name="synapse")
def synapse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """The session's homeserver with raised rate limits; fails (never skips) when it cannot start."""
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    try:
        server.start()
    except SynapseError as exc:
        pytest.fail(f"the Matrix tests need a local Synapse: {exc}", pytrace=False)
    yield server
    server.stop()
