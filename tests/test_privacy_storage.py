"""What a leaked database or log file would reveal: as little as possible."""

import datetime as dt
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import logs, retention
from bot.app import Bot, build_bot
from bot.pseudonyms import KEY_FILE, load_or_create_key
from storage.contacts import ContactRepository
from storage.signatures import SignatureRepository
from tests.conftest import Chat, make_settings
from tests.postgres import PostgresServer
from tests.test_data_rights import add_broadcast_deliveries

SIGNER_ID = "731954862"  # signs, no news
FOLLOWER_ID = "864209753"  # signs and asks for news: the control that the scan can find an id


async def signed(me: Chat, news: bool) -> None:
    await me.say("/signer")
    await me.press(2)  # initials
    await me.press(1)  # Je signe
    await me.press(1 if news else 2)


def raw_bytes(bot: Bot) -> bytes:
    path = bot.services.settings.database_path
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.mark.sqlite_only
async def test_the_raw_database_holds_no_platform_id_of_a_signer_without_news(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    signer = chat(id=SIGNER_ID, name="Zéphyrine Quartz")
    await signed(signer, news=False)
    follower = chat(id=FOLLOWER_ID, name="Paul Martin")
    await signed(follower, news=True)
    # A name typed, then abandoned: it sat in the dialogue row, which is gone now.
    await signer.say("/oublier")
    await signer.say("/annuler")
    canceller = chat(id="502813694", name="Ana")
    await canceller.say("/signer")
    await canceller.press(3)
    await canceller.say("Wilhelmina Xyzzy")
    await canceller.say("/annuler")

    before_checkpoint = raw_bytes(bot)
    assert SIGNER_ID.encode() not in before_checkpoint
    await bot.services.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after = raw_bytes(bot)
    assert SIGNER_ID.encode() not in after
    assert "Zéphyrine".encode() not in after  # the display name was never stored: initials were chosen
    assert b"Wilhelmina" not in after  # secure_delete wiped the ended dialogue
    assert FOLLOWER_ID.encode() in after  # the contact row of the one who asked for news
    async with bot.services.db.read() as tx:
        dialogues = await tx.fetchall("SELECT * FROM dialogues")
        signatures = await tx.fetchall("SELECT * FROM signatures")
    # Ended dialogues only remember how they ended (for a re-delivered press), with no name or data.
    assert [(r["active"], r["data"], r["done_outcome"]) for r in dialogues] == [(0, "{}", "on")]
    assert len(signatures) == 2 and all(len(r["pseudonym"]) == 64 for r in signatures)


async def test_the_logs_of_a_whole_story_hold_no_id_name_or_text(
    chat: Callable[..., Chat], bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure("DEBUG")  # the production set-up, at its most verbose
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        me = chat(id=SIGNER_ID, name="Zéphyrine Quartz")
        await me.say("/signer")
        await me.press(3)
        await me.say("Wilhelmina Xyzzy")
        await me.press(1)
        await me.press(1)  # news: yes
        await me.say("qui héberge les données secrètes de Gontran ?")
        await me.say("/mesdonnees")
        await me.say("/retirer")
        await me.press(1)
        await me.say("/oublier")
        await me.press(1)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    text = caplog.text
    assert "signature recorded" in text and "signature withdrawn" in text  # the story was logged
    pseudonym = bot.services.pseudonyms.user("console", SIGNER_ID)
    for secret in (SIGNER_ID, "Zéphyrine", "Quartz", "Wilhelmina", "Xyzzy", "Gontran", "secrètes", pseudonym):
        assert secret not in text, secret


def test_the_pseudonym_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    key = load_or_create_key(None, tmp_path / "data")
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key(None, tmp_path / "data") == key
    configured = "from-the-environment-0123456789"
    assert load_or_create_key(configured, tmp_path / "data") == configured.encode()


async def test_the_counter_moves_only_with_real_inserts_and_deletes(bot: Bot) -> None:
    repo = SignatureRepository(bot.services.db)
    now = bot.services.clock.now()
    assert await repo.sign("p1", "Ana", "v1", now) is not None
    assert await repo.sign("p1", "Ana again", "v1", now) is None
    assert await repo.sign("p2", "Bob", "v1", now) is not None
    assert await repo.count() == 2
    assert (await repo.withdraw("p1", now)) is not None
    assert await repo.withdraw("p1", now) is None
    assert await repo.count() == 1
    assert [(d.signed, d.withdrawn) for d in await repo.per_day()] == [(2, 1)]


@pytest.mark.sqlite_only
async def test_reading_the_count_is_a_key_lookup(bot: Bot) -> None:
    async with bot.services.db.read() as tx:
        plan = await tx.fetchall("EXPLAIN QUERY PLAN SELECT value FROM counters WHERE name = ?", ("signatures",))
    assert all("SCAN" not in str(r["detail"]) for r in plan)  # a key lookup, never a table scan


async def test_contacts_follow_unfollow_and_deactivate(bot: Bot) -> None:
    repo = ContactRepository(bot.services.db)
    now = bot.services.clock.now()
    assert await repo.follow("p1", "telegram", "100", "fr", now) is True
    assert await repo.follow("p1", "telegram", "100", "en", now) is False  # already, language updated
    assert (await repo.get("p1")).language == "en"  # type: ignore[union-attr]
    assert await repo.deactivate("telegram", "100") == 1
    assert await repo.active_count() == 0
    assert await repo.follow("p1", "telegram", "100", "en", now) is True
    assert await repo.unfollow("p1") is True
    assert await repo.get("p1") is None


async def test_the_retention_purge_waits_for_its_date_then_keeps_only_anonymous_counts(
    chat: Callable[..., Chat], bot: Bot
) -> None:
    await signed(chat(id="1", name="Ana"), news=True)
    await signed(chat(id="2", name="Bob"), news=False)
    await chat(id="2").say("/langue en")
    await chat(id="3", name="Cy").say("/signer")  # an open dialogue
    await add_broadcast_deliveries(bot, ("1", "private"), ("g1", "group"))
    campaign = bot.services.content.campaign
    assert retention.purge_date(campaign) == dt.date(2027, 9, 28)  # 30 June 2027 + 90 days

    early = await retention.purge(bot.services.db, campaign, dt.datetime(2027, 9, 27, 23, 0, tzinfo=dt.UTC))
    assert not early.due and early.rows.total == 0

    due = dt.datetime(2027, 9, 28, 3, 0, tzinfo=dt.UTC)
    dry = await retention.purge(bot.services.db, campaign, due, dry_run=True)
    # Dialogues: Cy's open one, and the two ended ones that remember how they ended.
    assert (dry.rows.signatures, dry.rows.contacts, dry.rows.dialogues, dry.rows.preferences) == (2, 1, 3, 1)
    assert dry.rows.deliveries == 1  # the follower's chat; the group's delivery is not personal
    async with bot.services.db.read() as tx:
        assert (await tx.fetchone("SELECT COUNT(*) FROM signatures"))[0] == 2  # type: ignore[index]

    done = await retention.purge(bot.services.db, campaign, due)
    assert done.rows.total == 8
    async with bot.services.db.read() as tx:
        for table in ("signatures", "contacts", "dialogues", "preferences"):
            assert (await tx.fetchone(f"SELECT COUNT(*) FROM {table}"))[0] == 0, table  # type: ignore[index]
        assert [tuple(r) for r in await tx.fetchall("SELECT signed, withdrawn FROM daily_counts")] == [(2, 0)]
        assert [tuple(r) for r in await tx.fetchall("SELECT chat_id FROM deliveries")] == [("g1",)]
    assert await bot.services.signatures.count() == 2


async def test_on_postgresql_an_erased_supporter_leaves_no_row_version_behind(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """PostgreSQL keeps a deleted row's old version until VACUUM: after /oublier the bot vacuums at once.

    The tables' pages are read as the server's administrator would (pageinspect):
    neither the heap nor the index pages hold the erased name or chat id any more.
    """
    url = postgres.new_database()
    bot = await build_bot(make_settings(tmp_path, database_url=url))
    try:
        zephyrine = Chat(bot, Chat.user(id=SIGNER_ID, name="Zéphyrine Quartz"))
        await signed_with_name(zephyrine)
        paul = Chat(bot, Chat.user(id=FOLLOWER_ID, name="Paul Martin"))
        await signed_with_name(paul)
        assert "effacer toutes vos données" in await zephyrine.say("/oublier")
        assert "Toutes vos données sont effacées" in await zephyrine.press("Oui, tout effacer")
    finally:
        await bot.close()
    stored = pages(postgres, url, heaps=("signatures", "contacts"), indexes=("contacts_pkey", "contacts_chat"))
    assert "Zéphyrine".encode() not in stored and SIGNER_ID.encode() not in stored
    assert b"Paul Martin" in stored and FOLLOWER_ID.encode() in stored  # the control: the scan sees live rows
    postgres.drop_database(url)


async def signed_with_name(me: Chat) -> None:
    await me.say("/signer")
    await me.press(1)  # the platform name
    await me.press(1)  # Je signe
    await me.press(1)  # news: yes, so a contact row holds the chat id


def pages(postgres: PostgresServer, url: str, heaps: tuple[str, ...], indexes: tuple[str, ...]) -> bytes:
    """Every row version in the tables' heap pages and every key in their index pages, as raw bytes."""
    found = b""
    with postgres.admin(url.rsplit("/", 1)[1]) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        for relation, is_index in [*((h, False) for h in heaps), *((i, True) for i in indexes)]:
            size = conn.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::int", (relation,))
            blocks = int(size.fetchone()[0])  # type: ignore[index]
            for block in range(1 if is_index else 0, blocks):  # an index's block 0 is its metapage
                if is_index:
                    rows = conn.execute("SELECT data FROM bt_page_items(%s, %s)", (relation, block)).fetchall()
                    found += b"".join(bytes.fromhex(str(r[0]).replace(" ", "")) for r in rows if r[0])
                else:
                    query = "SELECT t_data FROM heap_page_items(get_raw_page(%s, %s))"
                    found += b"".join(bytes(r[0]) for r in conn.execute(query, (relation, block)) if r[0])
    return found
