"""Keyed pseudonyms: the only form in which the bot stores who did what.

HMAC-SHA256 with a secret key means a leaked database alone does not reveal
which platform account signed; without the key, a pseudonym cannot be
recomputed from a known user id either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "pseudonym.key"


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = key

    def user(self, transport: str, user_id: str) -> str:
        """The pseudonym of one platform account, stable for the life of the key."""
        return self._digest(f"{transport}:{user_id}")

    def owner(self, transport: str, chat_id: str, user_id: str) -> str:
        """The pseudonym of one user in one chat: the key of dialogue state."""
        return self._digest(f"{transport}:{chat_id}:{user_id}")

    def chat(self, transport: str, chat_id: str) -> str:
        """The pseudonym of one chat: the key of what a transport keeps about it (its last choices)."""
        return self._digest(f"chat:{transport}:{chat_id}")

    def _digest(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def load_or_create_key(configured: str | None, data_folder: Path) -> bytes:
    """The key from PSEUDONYM_KEY, else from the data folder, created once with mode 0600."""
    if configured:
        return configured.encode("utf-8")
    path = data_folder / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    data_folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
