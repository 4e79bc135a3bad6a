"""Bad names, a locked database, a full disk: the supporter gets a clear answer and nothing half-written."""

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

import storage.postgres
from bot.app import Bot, build_bot
from bot.transports.telegram_render import to_html
from storage.db import StorageFull
from tests.conftest import Chat, make_settings
from tests.outbox_fakes import RecordingPlatform
from tests.postgres import PostgresServer


async def rows(bot: Bot, sql: str) -> list[tuple[object, ...]]:
    async with bot.services.db.read() as tx:
        return [tuple(r) for r in await tx.fetchall(sql)]


async def typing_a_name(me: Chat) -> None:
    await me.say("/signer")
    await me.press(3)  # "Un autre nom"


async def test_an_empty_name_is_refused(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="1", name="Ana")
    await typing_a_name(me)
    assert "Ce nom est vide" in await me.say("")
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]


async def test_a_name_of_only_spaces_or_invisible_characters_is_refused(chat: Callable[..., Chat]) -> None:
    me = chat(id="2", name="Ana")
    await typing_a_name(me)
    assert "Ce nom est vide" in await me.say("    \t  ")
    assert "Ce nom est vide" in await me.say("\u200b\u200d\u2066")


async def test_an_emoji_only_name_is_refused(chat: Callable[..., Chat]) -> None:
    me = chat(id="3", name="Ana")
    await typing_a_name(me)
    assert "au moins une lettre" in await me.say("🎉🔥 ✊")
    assert "Vous signez" in await me.say("Ana ✊")  # emoji beside letters are fine


async def test_a_name_over_64_characters_is_refused_with_its_length(chat: Callable[..., Chat]) -> None:
    me = chat(id="4", name="Ana")
    await typing_a_name(me)
    seen = await me.say("A" * 65)
    assert "trop long (65 caractères)" in seen and "64 caractères au plus" in seen
    assert "Vous signez" in await me.say("A" * 64)


async def test_control_zero_width_and_direction_characters_are_stripped(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="5", name="Ana")
    await typing_a_name(me)
    seen = await me.say("Jea\u200bnne\u202e Du\x07pont\u2066\n  Martin")
    assert "sous le nom « Jeanne Dupont Martin »" in seen
    await me.press(1)
    assert await rows(bot, "SELECT name FROM signatures") == [("Jeanne Dupont Martin",)]


async def test_a_display_name_with_invisible_characters_is_cleaned(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="6", name="Zo\u202eé\u200b Roy")
    assert "[1] Mon nom : Zoé Roy" in await me.say("/signer")


async def test_html_and_markdown_in_a_name_are_stored_as_typed_and_escaped_when_shown(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="7", name="Ana")
    await typing_a_name(me)
    typed = "<b>Zoé</b> **x** [a](javascript:alert(1))"
    platform = RecordingPlatform()
    await bot.router.dispatch(me.transport.to_inbound(typed), platform)
    shown = to_html(platform.delivered[-1].reply.text)
    assert "&lt;b&gt;Zoé&lt;/b&gt; **x** [a](javascript:alert(1))" in shown
    assert "<b>Zoé" not in shown and 'href="javascript' not in shown
    dialogue = await bot.services.dialogues.current(_owner(bot, "7"), bot.services.clock.now())
    assert dialogue is not None and dialogue.data["name"] == typed


def _owner(bot: Bot, user_id: str) -> str:
    return bot.services.pseudonyms.owner("console", user_id, user_id)


async def test_withdrawal_by_someone_who_never_signed(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="8", name="Ana")
    assert "Vous n'avez pas signé avec ce bot" in await me.say("/retirer")
    assert await rows(bot, "SELECT value FROM counters") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM daily_counts") == [(0,)]


@pytest.mark.sqlite_only
async def test_a_database_locked_by_another_process_fails_cleanly_then_works(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    me = chat(id="9", name="Ana")
    await me.say("/signer")
    await me.press(2)
    press = me.transport.to_inbound("1")
    await bot.services.db.conn.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(bot.services.settings.database_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # what a backup tool or a second instance may hold
        await bot.router.dispatch(press, me.transport)
        assert "votre signature n'a pas pu être enregistrée" in me.new_output()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
    assert await rows(bot, "SELECT value FROM counters") == [(0,)]
    await bot.router.dispatch(press, me.transport)  # the dialogue is still at the summary
    assert "votre signature est enregistrée" in me.new_output()


async def test_on_postgresql_a_row_locked_by_another_instance_fails_cleanly_then_works(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another instance (or an operator's open transaction) holds the counter's row longer than the lock timeout."""
    monkeypatch.setattr(storage.postgres, "LOCK_TIMEOUT", "300ms")  # 5 s in production
    url = postgres.new_database()
    bot = await build_bot(make_settings(tmp_path, database_url=url))
    try:
        me = Chat(bot, Chat.user(id="9", name="Ana"))
        await me.say("/signer")
        await me.press(2)
        press = me.transport.to_inbound("1")
        with psycopg.connect(url) as other:
            other.execute("SELECT value FROM counters FOR UPDATE")  # the transaction stays open
            await bot.router.dispatch(press, me.transport)
            assert "votre signature n'a pas pu être enregistrée" in me.new_output()
        assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(0,)]
        await bot.router.dispatch(press, me.transport)  # the dialogue is still at the summary
        assert "votre signature est enregistrée" in me.new_output()
        assert await rows(bot, "SELECT value FROM counters") == [(1,)]
    finally:
        await bot.close()
        postgres.drop_database(url)


async def _fill(bot: Bot) -> int:
    """Leave no free page and almost no free byte in the signatures table, as on a full disk."""
    db = bot.services.db
    async with db.read() as tx:
        row = await tx.fetchone("PRAGMA page_count")
    assert row is not None
    await db.conn.execute(f"PRAGMA max_page_count = {int(row[0]) + 4}")
    filled = 0
    for size in (2000, 300, 40, 1):
        while True:
            try:
                async with db.transaction() as tx:
                    await tx.execute(
                        "INSERT INTO signatures (pseudonym, name, consent_version, signed_at) VALUES (?, ?, ?, ?)",
                        (f"filler{filled:06d}", "x" * size, "v", "2026-01-01T00:00:00.000000+00:00"),
                    )
                filled += 1
            except StorageFull:
                break
    return filled


@pytest.mark.sqlite_only
async def test_a_full_disk_during_signing_leaves_nothing_half_written(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id="10", name="Ana")
    await me.say("/signer")
    await me.press(2)
    press = me.transport.to_inbound("1")
    filled = await _fill(bot)

    await bot.router.dispatch(press, me.transport)
    assert "votre signature n'a pas pu être enregistrée" in me.new_output()
    assert await rows(bot, "SELECT COUNT(*) FROM signatures") == [(filled,)]  # only the filler
    assert await rows(bot, "SELECT value FROM counters") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM daily_counts") == [(0,)]
    assert await rows(bot, "SELECT step FROM dialogues") == [("sign.confirm",)]  # not closed either

    await bot.services.db.conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
    await bot.router.dispatch(press, me.transport)
    assert "votre signature est enregistrée" in me.new_output()
    assert await rows(bot, "SELECT value FROM counters") == [(1,)]
