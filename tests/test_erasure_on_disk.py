"""Erased means erased on disk: after /oublier, /retirer, the retention purge or the end of a dialogue,
no byte of the person's ids, names or chat addresses remains in any of the database's files.

The files are read raw (the database, its `-wal` and its `-shm`), while the bot still
runs and after `kill -9`, as someone who copies the disk would read them. Each test
first checks that the scan does find what is still stored, so it can fail.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from bot import retention
from bot.app import Bot
from storage import broadcasts as store
from storage.broadcasts import BroadcastRepository
from storage.subscriptions import FOLLOWERS
from tests.conftest import Chat
from tests.ops_helpers import ROOT, ConsoleProcess, cli, write_env
from tests.outbox_fakes import RecordingPlatform

# SQLite's files (database, -wal): PostgreSQL's own test reads its table pages (test_privacy_storage.py).
pytestmark = pytest.mark.sqlite_only

USER_ID = "731954862"  # the console's private chat has the user's id: both must go
DISPLAY = "Zéphyrine Quartz"
TYPED = "Wilhelmina Xyzzy"
OTHER_ID = "864209753"  # another supporter, who stays: the control that the scan finds ids
OTHER_NAME = "Barnabé Kowalczyk"
ABANDONED = "Ottoline Quibble"
WITHDRAWER_ID = "593817264"  # keeps talking to the bot: only the withdrawn name must go
WITHDRAWN = "Cunégonde Vrbsky"
ADMIN_ID = "555123987"  # an admin whose chat a broadcast remembers while it runs


@pytest.fixture
def admins() -> frozenset[tuple[str, str]]:
    return frozenset({("console", ADMIN_ID)})


def database_files(database: Path) -> dict[str, bytes]:
    found = {}
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            found[path.name] = path.read_bytes()
    return found


def traces(database: Path, secrets: Iterable[str]) -> list[str]:
    """Which secrets appear, in which file, in UTF-8 or UTF-16 (SQLite's two text encodings)."""
    seen = []
    for name, raw in database_files(database).items():
        for secret in secrets:
            for encoded in (secret.encode("utf-8"), secret.encode("utf-16-le")):
                if encoded in raw:
                    seen.append(f"{secret!r} in {name}")
    return sorted(set(seen))


def path_of(bot: Bot) -> Path:
    return bot.services.settings.database_path


async def sign_with_a_typed_name(me: Chat, name: str = TYPED, news: bool = True) -> None:
    await me.say("/signer")
    await me.press("Un autre nom")
    assert name in await me.say(name)
    seen = await me.press("Je signe")
    assert "votre signature est enregistrée" in seen
    await me.press(1 if news else 2)


async def test_after_forgetting_nothing_of_the_person_is_in_any_file(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id=USER_ID, name=DISPLAY)
    await sign_with_a_typed_name(me)
    await me.say("/langue en")
    other = chat(id=OTHER_ID, name=OTHER_NAME)
    await sign_with_a_typed_name(other, OTHER_NAME)
    assert traces(path_of(bot), [USER_ID, TYPED]) != []  # stored, and the scan sees it

    await me.say("/oublier")
    assert "All your data is erased" in await me.press(1)
    assert traces(path_of(bot), [USER_ID, TYPED, DISPLAY]) == []
    assert traces(path_of(bot), [OTHER_ID, OTHER_NAME]) != []  # the one who stays is still there


async def test_after_withdrawing_the_name_is_in_no_file(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id=USER_ID, name=DISPLAY)
    await sign_with_a_typed_name(me, news=False)
    assert traces(path_of(bot), [TYPED]) != []
    await me.say("/retirer")
    assert "retirée" in await me.press(1)
    assert traces(path_of(bot), [TYPED, USER_ID]) == []


async def test_a_name_typed_then_abandoned_is_in_no_file(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id=USER_ID, name=DISPLAY)
    for leave in ("/annuler", "Annuler", "/signer", "/oublier"):
        await me.say("/signer")
        await me.press("Un autre nom")
        assert TYPED in await me.say(TYPED)
        assert traces(path_of(bot), [TYPED]) != []
        await me.say(leave)  # cancelled, the cancel button, started again, another dialogue
        assert traces(path_of(bot), [TYPED]) == [], leave
        await me.say("/annuler")


async def test_a_name_typed_and_left_is_gone_once_the_dialogue_expires(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id=USER_ID, name=DISPLAY)
    await me.say("/signer")
    await me.press("Un autre nom")
    await me.say(TYPED)
    bot.services.clock.advance(16 * 60)  # type: ignore[attr-defined]
    assert await bot.services.dialogues.purge_expired(bot.services.clock.now()) == 1
    assert traces(path_of(bot), [TYPED]) == []


async def test_stopping_news_leaves_no_chat_address(chat: Callable[..., Chat], bot: Bot) -> None:
    me = chat(id=USER_ID, name=DISPLAY)
    await me.say("/suivre")
    assert traces(path_of(bot), [USER_ID]) != []
    await me.say("/nepassuivre")
    assert traces(path_of(bot), [USER_ID]) == []


async def test_the_retention_purge_leaves_nobody_in_any_file(chat: Callable[..., Chat], bot: Bot) -> None:
    await sign_with_a_typed_name(chat(id=USER_ID, name=DISPLAY))
    await sign_with_a_typed_name(chat(id=OTHER_ID, name=OTHER_NAME), OTHER_NAME)
    due = dt.datetime(2027, 9, 28, 3, 30, tzinfo=dt.UTC)
    report = await retention.purge(bot.services.db, bot.services.content.campaign, due)
    assert report.rows.signatures == 2
    assert traces(path_of(bot), [USER_ID, TYPED, OTHER_ID, OTHER_NAME]) == []


async def test_a_broadcast_forgets_its_admin_chat_when_it_ends(chat: Callable[..., Chat], bot: Bot) -> None:
    admin_id = ADMIN_ID
    platform = RecordingPlatform()
    bot.services.outbounds["console"] = platform
    follower = chat(id=OTHER_ID, name=OTHER_NAME)
    await follower.say("/suivre")
    admin = chat(id=admin_id, name="Admin")
    await admin.say("/diffuser")
    await admin.press("Les personnes qui suivent l'actualité")
    await admin.say("Merci à toutes et à tous !")
    await admin.press("Envoyer")
    [sent] = await BroadcastRepository(bot.services.db).recent()
    assert sent.admin_chat_id == admin_id  # needed while the progress message is edited
    await bot.services.outbox.drain()
    [ended] = await BroadcastRepository(bot.services.db).recent()
    assert ended.status == store.DONE and ended.admin_chat_id is None
    assert traces(path_of(bot), [admin_id]) == []
    assert FOLLOWERS  # the follower's own delivery row is theirs, erased with /oublier


# A real process, and kill -9 ------------------------------------------------------------------


async def test_erased_data_is_gone_while_the_bot_runs_and_after_kill_9(tmp_path: Path) -> None:
    database = tmp_path / "data" / "petition.sqlite3"
    stays = await ConsoleProcess.start(database, "--user", OTHER_ID, "--name", OTHER_NAME)
    await stays.say("/signer", until="[4] Annuler")
    await stays.say("1", until="Je signe")
    await stays.say("1", until="recevoir les nouvelles")
    await stays.say("1", until="vous recevrez les nouvelles")
    await stays.kill()

    me = await ConsoleProcess.start(database, "--user", USER_ID, "--name", DISPLAY)
    await me.say("/signer", until="[4] Annuler")
    await me.say("Un autre nom", until="Écrivez le nom")
    await me.say(TYPED, until="Je signe")
    await me.say("Je signe", until="recevoir les nouvelles")
    await me.say("oui", until="vous recevrez les nouvelles")
    await me.say("/signer", until="déjà signé")
    assert traces(database, [USER_ID, TYPED]) != []
    await me.say("/oublier", until="Oui, tout effacer")
    await me.say("1", until="Toutes vos données sont effacées")
    assert traces(database, [USER_ID, TYPED, DISPLAY]) == []  # while it runs
    await me.kill()
    assert traces(database, [USER_ID, TYPED, DISPLAY]) == []  # and as kill -9 leaves the files
    me = await ConsoleProcess.start(database, "--user", USER_ID, "--name", DISPLAY)
    # Talking to the bot again stores things again (the choices shown hold the chat's address),
    # but a name typed and then abandoned is gone with its dialogue.
    await me.say("/signer", until="[4] Annuler")
    await me.say("Un autre nom", until="Écrivez le nom")
    await me.say(ABANDONED, until="Je signe")
    await me.say("/annuler", until="annulé")
    assert traces(database, [TYPED, ABANDONED]) == []
    await me.kill()
    assert traces(database, [TYPED, ABANDONED]) == []  # and as kill -9 leaves the files
    assert traces(database, [OTHER_ID, OTHER_NAME]) != []

    withdrawing = await ConsoleProcess.start(database, "--user", WITHDRAWER_ID, "--name", "W")
    await withdrawing.say("/signer", until="[4] Annuler")
    await withdrawing.say("Un autre nom", until="Écrivez le nom")
    await withdrawing.say(WITHDRAWN, until="Je signe")
    await withdrawing.say("Je signe", until="recevoir les nouvelles")
    await withdrawing.say("non", until="C'est noté")
    assert traces(database, [WITHDRAWN]) != []
    await withdrawing.say("/retirer", until="retirer ma signature")
    await withdrawing.say("1", until="Supprimé")
    assert traces(database, [WITHDRAWN]) == []
    await withdrawing.kill()
    assert traces(database, [WITHDRAWN]) == []


async def test_the_retention_purge_run_beside_the_bot_leaves_nobody_even_after_kill_9(tmp_path: Path) -> None:
    campaign = tmp_path / "campaign"
    shutil.copytree(ROOT / "content" / "sante-microsoft", campaign)
    toml = campaign / "campaign.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("end_date = 2027-06-30", "end_date = 2020-01-01"))
    database = tmp_path / "data" / "petition.sqlite3"
    bot = await ConsoleProcess.start(database, "--user", USER_ID, "--name", DISPLAY, CAMPAIGN=str(campaign))
    await bot.say("/signer", until="[4] Annuler")
    await bot.say("Un autre nom", until="Écrivez le nom")
    await bot.say(TYPED, until="Je signe")
    await bot.say("Je signe", until="recevoir les nouvelles")
    await bot.say("oui", until="vous recevrez les nouvelles")
    assert traces(database, [USER_ID, TYPED]) != []

    env = write_env(tmp_path / "purge.env", DATABASE_PATH=str(database), CAMPAIGN=str(campaign))
    code, out, err = await cli(env, "admin", "purge")
    assert code == 0, err
    assert "deleted: 1 signatures, 1 contacts" in out
    assert traces(database, [USER_ID, TYPED, DISPLAY]) == []  # while the bot still runs
    await bot.kill()
    assert traces(database, [USER_ID, TYPED, DISPLAY]) == []
