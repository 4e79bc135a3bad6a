"""While another process holds the database's write lock, answers that only read still come at once.

A backup tool or a second instance holding `BEGIN IMMEDIATE` makes a signature wait
(then fail politely, nothing half-saved); the count, a question and the help must not
wait behind that signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import Bot
from tests.conftest import Chat

# SQLite's whole-file write lock; PostgreSQL locks rows (test_signing_bad_input.py has its story).
pytestmark = pytest.mark.sqlite_only

HOLD_SECONDS = 15


@contextlib.asynccontextmanager
async def lock_held_elsewhere(database: Path) -> AsyncIterator[None]:
    """Another process takes the write lock and keeps it for 15 s."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sqlite3, time\n"
        f"c = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        f"time.sleep({HOLD_SECONDS})\n",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"locked"
        yield
    finally:
        holder.kill()
        await holder.wait()


async def test_reads_are_answered_while_a_signature_waits_for_the_lock(bot: Bot, chat: Callable[..., Chat]) -> None:
    signer, reader = chat(id="11", name="Ana"), chat(id="22", name="Bob")
    async with lock_held_elsewhere(bot.services.settings.database_path):
        signing = asyncio.create_task(signer.say("/signer"))  # opening the dialogue is a write: it waits
        await asyncio.sleep(0.2)
        assert not signing.done()
        assert "signatures au total" in await reader.say("/compteur")
        assert "Microsoft" in await reader.say("qui héberge les données de santé ?")
        assert "Commandes" in await reader.say("/aide")
        assert not signing.done()  # all three answered while the write was still waiting
        seen = await asyncio.wait_for(signing, 30)
    assert "problème technique" in seen  # the write fails politely, after the busy timeout


async def test_a_confirmation_under_the_lock_fails_politely_and_saves_nothing(
    bot: Bot, chat: Callable[..., Chat]
) -> None:
    signer = chat(id="11", name="Ana")
    await signer.say("/signer")
    await signer.press(2)  # initials: the summary with Je signe
    async with lock_held_elsewhere(bot.services.settings.database_path):
        confirming = asyncio.create_task(signer.press("Je signe"))
        await asyncio.sleep(0.2)
        assert "signatures au total" in await chat(id="22").say("/compteur")
        assert not confirming.done()
        assert "n'a pas pu être enregistrée" in await asyncio.wait_for(confirming, 30)
    assert await bot.services.signatures.count() == 0
    assert "votre signature est enregistrée" in await signer.press("Je signe")  # the same button, later
