"""A campaign moves from its SQLite file to PostgreSQL with `petition-bot admin import-sqlite`, losing nobody.

Supporters sign on the SQLite bot; the operator copies the database into an empty
PostgreSQL one with the same PSEUDONYM_KEY; on PostgreSQL the same supporters see
their signature, the count is the same, and new rows get new ids.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from bot import broadcast
from bot.app import build_bot
from storage import broadcasts as store
from storage.subscriptions import GROUPS, SubscriptionRepository
from tests.conftest import TEST_KEY, Chat, FakeClock, make_settings
from tests.ops_helpers import ROOT, clean_environment
from tests.postgres import PostgresServer


def admin(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", "/nonexistent.env", "admin", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_environment(**env),
        timeout=60,
    )


async def test_a_sqlite_campaign_moves_to_postgresql_and_its_supporters_keep_their_signatures(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    old = make_settings(tmp_path / "old")
    bot = await build_bot(old, FakeClock())
    ana = Chat(bot, Chat.user(id="41", name="Ana Lopez"))
    await ana.say("/signer")
    await ana.press(1)  # her platform name
    await ana.press(1)  # Je signe
    await ana.press(1)  # news: yes
    now = bot.services.clock.now()
    await SubscriptionRepository(bot.services.db).subscribe("console", "-77", ["milestones"], "fr", now)
    bot.services.outbounds["console"] = ana.transport
    async with bot.services.db.transaction() as tx:
        new = store.NewBroadcast(store.MESSAGE, GROUPS, {"markup": "Merci !"}, "moved", "test", now, now)
        created = await broadcast.enqueue(tx, bot.services, new, now)
    assert created is not None
    await bot.close()

    url = postgres.new_database(migrated=False)
    moved = admin("import-sqlite", str(old.database_path), DATABASE_URL=url)
    assert moved.returncode == 0, moved.stderr
    assert "copied" in moved.stdout and "signatures 1" in moved.stdout and "deliveries 1" in moved.stdout
    assert postgres.app_password not in moved.stdout + moved.stderr

    again = admin("import-sqlite", str(old.database_path), DATABASE_URL=url)
    assert again.returncode == 2 and "already holds data" in again.stderr  # never merges two campaigns

    bot = await build_bot(make_settings(tmp_path / "new", database_url=url), FakeClock())
    try:
        ana = Chat(bot, Chat.user(id="41", name="Ana Lopez"))
        seen = await ana.say("/mesdonnees")
        assert "« Ana Lopez »" in seen and "nouvelles : oui" in seen
        assert "Signatures recueillies par ce bot : 1" in await ana.say("/compteur")
        async with bot.services.db.transaction() as tx:
            later = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
            new = store.NewBroadcast(store.MESSAGE, GROUPS, {"markup": "Encore"}, "after", "test", later, later)
            next_id = await store.create_in(tx, new)
        assert next_id is not None and next_id > created[0]  # ids continue after the copied ones
    finally:
        await bot.close()
        postgres.drop_database(url)


def test_a_different_pseudonym_key_stops_the_move_before_anything_is_copied(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "petition.sqlite3").write_bytes(b"")
    (folder / "pseudonym.key").write_text("the-key-generated-on-the-old-server")
    moved = admin("import-sqlite", str(folder / "petition.sqlite3"), DATABASE_URL=postgres.url("nothing"))
    assert moved.returncode == 2
    assert "PSEUDONYM_KEY is not the key in" in moved.stderr and TEST_KEY not in moved.stderr
