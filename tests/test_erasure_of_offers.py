"""The last choices shown to a person, where choices are a numbered list (console, Matrix), are theirs:
stored under pseudonyms only, and erased with everything else when they say /oublier.

A label may carry the person's name ("Mon nom : Zéphyrine Quartz"), and a group keeps the
choices offered to whoever asked last: erasing a person removes those, in their private
chat and in groups, and the database never held their platform id for them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import Bot
from bot.transports.console import ConsoleTransport, ConsoleUser
from tests.conftest import Chat, says
from tests.matrix_harness import MatrixWorld
from tests.synapse import Synapse, synapse_server  # noqa: F401 - the session's homeserver fixture
from tests.test_erasure_on_disk import traces

USER_ID = "731954862"
DISPLAY = "Zéphyrine Quartz"
OTHER_ID = "864209753"


class RememberingChat(Chat):
    """A console chat that keeps its last choices in the database, as `petition-bot console` does."""

    def __init__(self, bot: Bot, user: ConsoleUser) -> None:
        super().__init__(bot, user)
        self.transport = ConsoleTransport(
            bot.services.for_transport(), bot.router, user, self.out, offers=bot.services.offers
        )


async def offered_to(bot: Bot, transport: str, user_id: str) -> int:
    async with bot.services.db.read() as tx:
        row = await tx.fetchone(
            "SELECT COUNT(*) AS n FROM offers WHERE asker = ?", (bot.services.pseudonyms.user(transport, user_id),)
        )
    return 0 if row is None else int(row["n"])


@pytest.mark.sqlite_only  # a scan of the database files' bytes
async def test_choices_offered_on_the_console_hold_no_id_and_go_with_oublier(
    bot: Bot, chat: Callable[..., Chat]
) -> None:
    database = bot.services.settings.database_path
    me = RememberingChat(bot, ConsoleUser(id=USER_ID, name=DISPLAY, group="g1"))
    other = RememberingChat(bot, ConsoleUser(id=OTHER_ID, name="Barnabé", group="g2"))
    assert "[2] English" in await me.say("/langue")  # in the group: choices offered to me there
    assert "[2] English" in await other.say("/langue")
    await me.say(":prive")
    assert f"Mon nom : {DISPLAY}" in await me.say("/signer")  # my name, in a label
    assert await offered_to(bot, "console", USER_ID) == 2  # the group's list and my private one
    assert traces(database, [DISPLAY]) != []  # stored, and the scan sees it
    assert traces(database, [USER_ID]) == []  # but never my id: chats and askers are pseudonyms

    await me.say("/annuler")
    assert "vous recevrez les nouvelles" in await me.say("/suivre")
    await me.say("/oublier")
    assert says(bot, "forget_done") in await me.press(1)
    assert await offered_to(bot, "console", USER_ID) == 0  # in the group too
    assert traces(database, [USER_ID, DISPLAY]) == []
    assert await offered_to(bot, "console", OTHER_ID) == 1  # another person's list stays


async def test_choices_offered_on_matrix_hold_no_id_and_go_with_oublier(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        assert world.bot is not None
        database = world.bot.services.settings.database_path
        alice = await world.user("alice")
        group = await alice.open_group([world.bot_id])
        await alice.wait_joined(group, world.bot_id)
        assert "English" in await alice.say(group, "!langue", expect="English")
        dm = await alice.open_dm(world.bot_id)
        assert "Mon nom" in await alice.say(dm, "!signer", expect="Répondez avec le numéro")
        assert await offered_to(world.bot, "matrix", alice.user_id) == 2
        assert traces(database, [alice.user_id]) == []  # rooms are addresses; the person is a pseudonym

        await alice.say(dm, "!annuler")
        # Nothing kept that needs a confirmation, but the lists she was shown go all the same.
        assert says(world.bot, "forget_nothing") in await alice.say(dm, "!oublier")
        assert await offered_to(world.bot, "matrix", alice.user_id) == 0  # the group's list too
        assert traces(database, [alice.user_id]) == []
