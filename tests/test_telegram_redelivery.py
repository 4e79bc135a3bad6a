"""kill -9 right after a supporter's "Je signe": Telegram delivers it again, and it is answered as the first time.

The bot runs as a real process (`petition-bot run`) against the local Bot API
stand-in. It is killed while its receipt is on the wire, after the signature is
saved but before it told Telegram the update was handled; the next process gets
the same update again.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.ops_helpers import bot_process, clean_environment, free_port
from tests.telegram_harness import TelegramWorld, button_data, buttons
from tests.telegram_stub import StoredMessage, TelegramStub, User

ALICE = User(111, "Alice", "Martin", language_code="fr")


async def start_bot(stub: TelegramStub, database: Path) -> asyncio.subprocess.Process:
    env = clean_environment(
        DATABASE_PATH=str(database),
        TELEGRAM_BOT_TOKEN=stub.token,
        TELEGRAM_API_URL=stub.api_url,
        QUIET_HOURS="",
        COUNT_SOURCE_URL=f"http://127.0.0.1:{free_port()}/petition",  # nothing there: no internet in tests
    )
    return await bot_process(
        str(database.parent / "none.env"),
        "run",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )


def shown(stub: TelegramStub, after: int = 0) -> list[StoredMessage]:
    return [m for m in stub.chat_messages(ALICE.id) if m.message_id > after]


async def wait_for_text(stub: TelegramStub, text: str, after: int = 0, timeout: float = 30.0) -> StoredMessage:
    await stub.wait_for(lambda: any(text in m.text for m in shown(stub, after)), timeout)
    return next(m for m in shown(stub, after) if text in m.text)


def table(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute(sql).fetchall())


@pytest.mark.parametrize("how", ["press", "typed"])
async def test_je_signe_delivered_again_after_kill_9_gets_the_same_receipt_and_the_news_question(
    tmp_path: Path, how: str
) -> None:
    database = tmp_path / "data" / "petition.sqlite3"
    stub = await TelegramStub().start()
    process = await start_bot(stub, database)
    try:
        await stub.wait_for(lambda: bool(stub.sent("getUpdates")), timeout=30)
        stub.push(stub.message_update(ALICE, "/signer"))
        await wait_for_text(stub, "Sous quel nom")
        stub.push(stub.message_update(ALICE, "anonyme"))
        summary = await wait_for_text(stub, "Vous signez")

        release = stub.hold("sendMessage")  # the receipt stays on the wire
        if how == "press":
            update = stub.push(stub.press_update(ALICE, summary, button_data(summary, "Je signe")))
        else:
            update = stub.push(stub.message_update(ALICE, "je signe"))
        await stub.wait_for(lambda: any("enregistrée" in str(c.params.get("text")) for c in stub.sent("sendMessage")))
        process.send_signal(signal.SIGKILL)
        await process.wait()
        release.set()
        stub.hold("sendMessage").set()

        assert table(database, "SELECT COUNT(*) FROM signatures") == [(1,)]  # saved before the crash
        offset = table(database, "SELECT value FROM kv WHERE key = 'telegram:update_offset'")
        assert not offset or int(str(offset[0][0])) <= update["update_id"], "the update was not acknowledged"
        before = max(m.message_id for m in stub.chat_messages(ALICE.id))

        process = await start_bot(stub, database)  # Telegram delivers the same update again
        news = await wait_for_text(stub, "recevoir les nouvelles", after=before)
        again = shown(stub, before)
        assert any("votre signature est enregistrée" in m.text for m in again), "the same receipt"
        assert not any("expiré" in m.text for m in again)
        assert buttons(news) == ["Oui, tenez-moi au courant", "Non merci"], "the question that followed, again"
        assert table(database, "SELECT COUNT(*) FROM signatures") == [(1,)]

        stub.push(stub.message_update(ALICE, "oui"))
        await wait_for_text(stub, "vous recevrez les nouvelles", after=news.message_id)
        assert table(database, "SELECT transport, chat_id FROM contacts") == [("telegram", str(ALICE.id))]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await stub.close()


async def test_after_a_crash_mid_batch_an_earlier_oui_is_not_read_again_as_the_next_answer(tmp_path: Path) -> None:
    """Two messages of one chat in one batch: "oui" signs, then the crash while the second one is answered.

    Telegram delivers the whole batch again; the "oui" was handled already and must not
    answer the question that came after it (receive the news?), which Alice never saw.
    """
    async with TelegramWorld(tmp_path) as world:
        await world.start()
        await world.say(ALICE, "/signer")
        await world.say(ALICE, "anonyme")
        held = world.stub.hold("sendDocument")  # /mesdonnees attaches a file: its answer stays on the wire
        world.stub.push(world.stub.message_update(ALICE, "oui"))
        second = world.stub.push(world.stub.message_update(ALICE, "/mesdonnees"))
        await world.stub.wait_for(lambda: bool(world.stub.sent("sendDocument")))
        assert world.transport is not None
        await world.transport.stop(grace=0)  # the crash, in the middle of the batch
        held.set()
        world.stub.hold("sendDocument").set()

        await world.start()
        await world.handled(second["update_id"])
        assert world.bot is not None
        assert await world.bot.services.signatures.count() == 1
        texts = [m.text for m in world.stub.chat_messages(ALICE.id)]
        assert sum("votre signature est enregistrée" in t for t in texts) == 1, "the oui was not handled twice"
        assert not any("vous recevrez les nouvelles" in t for t in texts), "no news without Alice's answer"
        assert sum("Vos données" in t for t in texts) == 2  # the one in flight is answered again
