"""Stories on Matrix: supporters and group admins talk to the bot through a real Synapse homeserver.

Each story runs the bot's real Matrix transport against the session's Synapse
and drives it with matrix-nio clients, as a person using Element would.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.app import run
from bot.context import Context
from bot.events import Inbound, Outbound
from bot.router import Router
from handlers import build_routes
from storage.subscriptions import SubscriptionRepository
from tests.conftest import make_settings
from tests.matrix_harness import MatrixUser, MatrixWorld
from tests.synapse import Synapse, synapse_server  # noqa: F401 - the session's homeserver fixture


async def test_a_supporter_asks_for_help_and_a_question_in_a_direct_chat(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        transport = await world.start()
        assert transport.healthy()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)

        help_text = await alice.say(room, "!aide")
        assert "!signer" in help_text and "/signer" not in help_text  # Element keeps / for its own commands
        reply = alice.last(room)
        assert reply.msgtype == "m.notice"  # bots do not ping
        assert reply.content["format"] == "org.matrix.custom.html" and "<strong>" in reply.formatted

        assert "Microsoft" in await alice.say(room, "Qui héberge nos données de santé ?")
        assert "signatures au total" in await alice.say(room, "/compteur")  # the slash works too


async def sign_by_number_and_reaction_then_withdraw(alice: MatrixUser, room: str) -> None:
    """The signing story every Matrix supporter lives, encrypted or not."""
    prompt = await alice.say(room, "!signer", expect="Répondez avec le numéro")
    assert "1. Mon nom" in prompt and "2. Anonyme (initiales : A.)" in prompt

    summary = await alice.say(room, "2", expect="Je signe")  # the number presses the choice
    assert "« A. »" in summary and "réagissez avec ✅ ou ❌" in summary
    question = alice.last(room)

    await alice.react(room, question.event_id, "✅")  # a reaction answers a yes/no question
    receipt = await alice.read(room, expect="nouvelles de la pétition")
    assert "Merci, votre signature est enregistrée." in receipt and "dont 1 par ce bot" in receipt

    assert "vous ne recevrez pas de nouvelles" in await alice.say(room, "Non merci")  # the label presses too

    confirm = await alice.say(room, "!retirer", expect="Répondez")
    assert "Voulez-vous vraiment retirer votre signature" in confirm
    done = await alice.say(room, "1", expect="retirée")
    assert "Votre signature est retirée." in done
    assert await alice.nothing_more(room) == []


async def test_a_supporter_signs_by_number_and_reaction_then_withdraws(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        await sign_by_number_and_reaction_then_withdraw(alice, room)


async def test_the_same_story_in_an_encrypted_direct_chat(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user(encrypted=True)
        room = await alice.open_dm(world.bot_id, encrypted=True)

        await sign_by_number_and_reaction_then_withdraw(alice, room)

        assert alice.inbox[room] and all(m.encrypted for m in alice.inbox[room])  # every reply was encrypted
        assert alice.undecryptable == 0


async def test_a_message_the_bot_cannot_decrypt_gets_one_notice(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        garbled = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgA",
            "sender_key": "k",
            "session_id": "s",
            "device_id": "D",
        }
        for _ in range(2):
            await alice.client.room_send(room, "m.room.encrypted", garbled)

        notice = await alice.read(room)
        assert "Je n'ai pas pu déchiffrer votre message" in notice and "I could not decrypt" in notice
        assert await alice.nothing_more(room) == []  # one notice, not one per message


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_messages_sent_while_the_bot_is_down_are_answered_once_after_restart(
    tmp_path: Path, synapse: Synapse, encrypted: bool
) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user(encrypted=encrypted)
        room = await alice.open_dm(world.bot_id, encrypted=encrypted)
        assert "signatures" in await alice.say(room, "!compteur")

        await world.stop()
        await alice.send(room, "!petition")
        await alice.send(room, "Qui héberge nos données de santé ?")
        await world.restart()

        answers = await alice.wait(room, expect="Microsoft")
        assert "SORTONS NOS DONNÉES" in answers[0].body  # in order: the petition first
        assert "signatures" not in "".join(m.body for m in answers)  # the earlier command is not answered again
        await alice.nothing_more(room)

        await world.restart()  # a restart with nothing new answers nothing
        assert await alice.nothing_more(room) == []


async def test_more_messages_than_one_sync_holds_are_all_answered_in_order(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse, timeline_limit=4, flood_max_per_minute=1000) as world:
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        assert "signatures" in await alice.say(room, "!compteur")

        await world.stop()
        for _ in range(6):
            await alice.send(room, "!petition")
            await alice.send(room, "!compteur")
        await world.restart()

        answers = await alice.wait(room, replies=12)
        answers += await alice.nothing_more(room)
        kinds = [
            "petition" if "SORTONS" in m.body else "count"
            for m in answers
            if "SORTONS" in m.body or "signatures au total" in m.body
        ]
        assert kinds == ["petition", "count"] * 6


async def test_a_failing_handler_does_not_stop_the_bot(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        assert world.bot is not None

        async def explode(ctx: Context) -> None:
            raise RuntimeError("a bug in a handler")

        routes = build_routes()
        routes.command("boum", handler=explode)
        router = Router(routes, world.bot.services)

        class BuggyRouter(Router):
            async def dispatch(self, event: Inbound, outbound: Outbound) -> Context | None:
                if event.text == "!crash":
                    raise RuntimeError("a bug outside any handler")
                return await router.dispatch(event, outbound)

        world.bot.router = BuggyRouter(routes, world.bot.services)
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)

        assert "problème technique" in await alice.say(room, "!boum")
        await alice.send(room, "!crash")
        assert "signatures" in await alice.say(room, "!compteur")  # still answering, and nothing for !crash
        assert "problème technique" in await alice.say(room, "!boum")


async def test_in_a_group_the_bot_answers_commands_mentions_and_replies_only(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        admin = await world.user("admin")
        bob = await world.user("bob")
        room = await admin.open_group([world.bot_id, bob.user_id])
        await bob.join(room)
        await admin.wait_joined(room, world.bot_id)

        await bob.send(room, "Bonjour à tous, qui héberge nos données de santé ?")
        assert await bob.nothing_more(room) == []  # conversation between members: the bot stays out

        name = world.bot_id[1:].split(":")[0]
        mention = f"{name}: qui héberge nos données de santé ?"
        answer = await bob.say(
            room,
            mention,
            format="org.matrix.custom.html",
            formatted_body=f'<a href="https://matrix.to/#/{world.bot_id}">{name}</a>: qui héberge nos données ?',
            **{"m.mentions": {"user_ids": [world.bot_id]}},
        )
        assert "Microsoft" in answer

        bot_message = bob.last(room).event_id
        reply = await bob.say(room, "Et la CNIL ?", **{"m.relates_to": {"m.in_reply_to": {"event_id": bot_message}}})
        assert "CNIL" in reply

        assert "Seuls les administrateurs" in await bob.say(room, "!abonner", expect="Seuls")  # power 0: refused
        await admin.read(room, expect="Seuls")  # what bob was told, once the admin's own sync has it
        assert "ce groupe recevra" in await admin.say(room, "!abonner")  # the room's creator

        levels = await admin.client.room_get_state_event(room, "m.room.power_levels")
        promoted = {**levels.content, "users": {**levels.content.get("users", {}), bob.user_id: 50}}
        await admin.client.room_put_state(room, "m.room.power_levels", promoted)
        await bob.nothing_more(room)  # the bot has synced past the new power levels
        assert "ne recevra plus" in await bob.say(room, "!desabonner", expect="ne recevra plus")  # power 50 may


async def test_joining_a_group_the_bot_does_not_answer_its_history(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        admin = await world.user("admin")
        bob = await world.user("bob")
        room = await admin.open_group([bob.user_id])
        await bob.join(room)
        await bob.send(room, "!compteur")  # last week's conversation, before the bot was there
        await bob.send(room, "!petition")

        await admin.client.room_invite(room, world.bot_id)
        await admin.wait_joined(room, world.bot_id)

        assert await bob.nothing_more(room) == []  # the history is not answered; the command after it is


async def test_kicked_from_a_group_the_subscription_ends(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        assert world.bot is not None
        await world.start()
        admin = await world.user("admin")
        bob = await world.user("bob")
        room = await admin.open_group([world.bot_id, bob.user_id])
        await bob.join(room)
        await admin.wait_joined(room, world.bot_id)
        assert "ce groupe recevra" in await admin.say(room, "!abonner")
        subscriptions = SubscriptionRepository(world.bot.services.db)
        assert await subscriptions.kinds("matrix", room) != []

        await admin.client.room_kick(room, world.bot_id)

        async def ended() -> bool:
            return await subscriptions.kinds("matrix", room) == []

        await world.until(ended, "end the kicked room's subscription")


async def test_a_room_upgrade_moves_the_subscription(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        assert world.bot is not None
        await world.start()
        admin = await world.user("admin")
        bob = await world.user("bob")
        room = await admin.open_group([world.bot_id, bob.user_id])
        await bob.join(room)
        await admin.wait_joined(room, world.bot_id)
        assert "ce groupe recevra" in await admin.say(room, "!abonner")

        upgraded = synapse.request(
            "POST", f"/_matrix/client/v3/rooms/{room}/upgrade", {"new_version": "10"}, token=admin.account.access_token
        )
        new_room = upgraded["replacement_room"]
        await admin.client.room_invite(new_room, world.bot_id)  # an invite-only room: its admin invites the bot
        await admin.wait_joined(new_room, world.bot_id)

        subscriptions = SubscriptionRepository(world.bot.services.db)
        assert await subscriptions.kinds("matrix", new_room) != []
        assert await subscriptions.kinds("matrix", room) == []
        await admin.client.room_invite(new_room, bob.user_id)
        await bob.join(new_room)
        assert "signatures" in await bob.say(new_room, "!compteur")


async def test_invites_from_other_servers_are_declined_when_servers_are_listed(
    tmp_path: Path, synapse: Synapse
) -> None:
    async with MatrixWorld(tmp_path, synapse, matrix_allowed_servers="example.org") as world:
        await world.start()
        alice = await world.user()
        response = await alice.client.room_create(is_direct=True, invite=[world.bot_id])
        room = response.room_id

        async def declined() -> bool:
            state = synapse.request(
                "GET",
                f"/_matrix/client/v3/rooms/{room}/state/m.room.member/{world.bot_id}",
                token=alice.account.access_token,
            )
            return bool(state.get("membership") == "leave")

        await world.until(declined, "decline the invitation")
        members = await alice.client.joined_members(room)
        assert world.bot_id not in [m.user_id for m in members.members]


async def test_with_a_password_the_bot_logs_in_once_and_keeps_its_device(tmp_path: Path, synapse: Synapse) -> None:
    account = synapse.register("bot")
    async with MatrixWorld(tmp_path, synapse, bot_account=account, password_login=True) as world:
        transport = await world.start()
        device = transport.client.device_id
        assert device and device != account.device_id  # a device of its own, with its own keys

        transport = await world.restart()
        assert transport.client.device_id == device  # the stored session, not a second login
        world.overrides = {"matrix_password": None}  # the password may then leave the settings file
        transport = await world.restart()
        assert transport.client.device_id == device
        alice = await world.user(encrypted=True)
        room = await alice.open_dm(world.bot_id, encrypted=True)
        assert "signatures" in await alice.say(room, "!compteur")


async def test_run_serves_matrix_until_stopped(tmp_path: Path, synapse: Synapse) -> None:
    """`petition-bot run` with a homeserver: Matrix in the process's loop, stopped cleanly by SIGTERM."""
    bot = synapse.register("bot")
    settings = make_settings(
        tmp_path,
        matrix_homeserver=synapse.url,
        matrix_user_id=bot.user_id,
        matrix_access_token=bot.access_token,
        matrix_device_id=bot.device_id,
    )
    running = asyncio.create_task(run(settings))
    alice = await MatrixUser(synapse, synapse.register("alice"), bot.user_id).start()
    try:
        room = await alice.open_dm(bot.user_id)
        assert "Bienvenue" in await alice.say(room, "!start", expect="Bienvenue")
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 10)
    finally:
        await alice.stop()


async def test_a_supporter_signs_in_words_and_a_question_mid_way_keeps_the_numbered_list(
    tmp_path: Path, synapse: Synapse
) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        await alice.say(room, "!signer", expect="Répondez")
        summary = await alice.say(room, "anonyme", expect="Je signe")
        assert "« A. »" in summary
        asked = await alice.say(room, "c'est quoi le Health Data Hub ?", expect="Pour signer sous le nom")
        assert "Source" in asked
        assert alice.last(room).body.split("\n\n")[-2] == "1. ✅ Je signe\n2. Annuler"  # the list comes again, last
        receipt = await alice.say(room, "je signe", expect="nouvelles de la pétition")
        assert "Merci, votre signature est enregistrée." in receipt
        assert "vous recevrez les nouvelles" in await alice.say(room, "oui", expect="vous recevrez")
        confirm = await alice.say(room, "!retirer", expect="Répondez")
        assert "Voulez-vous vraiment retirer" in confirm
        assert "Votre signature est retirée." in await alice.say(room, "oui", expect="retirée")


async def test_a_crash_mid_sync_answers_again_only_the_message_in_flight(tmp_path: Path, synapse: Synapse) -> None:
    """ "oui" (which signs) and "!mesdonnees" arrive in one sync; the bot dies while answering the second.

    After the restart the homeserver sends the same sync again: the "oui" was handled
    and is skipped; only "!mesdonnees" is answered again.
    """
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        await alice.say(room, "!signer", expect="Répondez")
        await alice.say(room, "anonyme", expect="Je signe")
        await world.stop()
        await alice.send(room, "oui")
        await alice.send(room, "!mesdonnees")

        assert world.bot is not None
        await world.bot.close()
        await world.open()
        assert world.bot is not None
        real = world.bot.router
        stuck = asyncio.Event()

        class DyingRouter(Router):
            async def dispatch(self, event: Inbound, outbound: Outbound) -> Context | None:
                if event.text == "!mesdonnees":
                    stuck.set()
                    await asyncio.Event().wait()  # the process dies here
                return await real.dispatch(event, outbound)

        world.bot.router = DyingRouter(build_routes(), world.bot.services)
        transport = await world.start()
        await asyncio.wait_for(stuck.wait(), 20)
        await transport.stop(grace=0)
        world.transport = None

        await world.restart()
        await alice.wait(room, expect="Vos données")
        seen = [m.body for m in alice.inbox[room]]
        assert sum("votre signature est enregistrée" in b for b in seen) == 1, "the oui was not handled again"
        assert await world.bot.services.signatures.count() == 1


async def test_after_a_restart_a_number_still_answers_the_last_list(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        await alice.say(room, "!signer", expect="Répondez")
        await world.restart()
        assert "sous le nom « A. »" in await alice.say(room, "2", expect="Je signe")
