"""What the Matrix transport delivers: images and files, escaped user text, edits, and gone rooms."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import MemoryDownloadResponse
from nio.crypto import decrypt_attachment

from bot.events import Chat, ChatGone, ChatKind, Document, Image, Reply
from bot.markup import plain
from tests.matrix_harness import MatrixUser, MatrixWorld
from tests.synapse import Synapse, synapse_server  # noqa: F401 - the session's homeserver fixture

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def download(user: MatrixUser, url: str) -> bytes:
    response = await user.client.download(mxc=url)
    assert isinstance(response, MemoryDownloadResponse), response
    return bytes(response.body)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_an_image_and_a_file_arrive_before_their_text(tmp_path: Path, synapse: Synapse, encrypted: bool) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        transport = await world.start()
        alice = await world.user(encrypted=encrypted)
        room = await alice.open_dm(world.bot_id, encrypted=encrypted)
        reply = Reply(
            plain("Le compteur en image, et vos données."),
            image=Image(PNG, "compteur.png"),
            document=Document(b'{"signature": null}', "mes-donnees.json"),
        )

        await transport.send(Chat("matrix", room, ChatKind.PRIVATE), reply)

        image, document, text = await alice.wait(room, replies=3)
        assert (image.msgtype, document.msgtype, text.msgtype) == ("m.image", "m.file", "m.notice")
        assert image.body == "compteur.png" and document.body == "mes-donnees.json"
        assert text.body == "Le compteur en image, et vos données."
        if encrypted:
            assert "url" not in image.content  # the media repository holds only ciphertext
            file = image.content["file"]
            data = decrypt_attachment(
                await download(alice, file["url"]), file["key"]["k"], file["hashes"]["sha256"], file["iv"]
            )
            assert data == PNG
        else:
            assert await download(alice, image.content["url"]) == PNG
            assert await download(alice, document.content["url"]) == b'{"signature": null}'


async def test_a_name_with_markup_is_shown_as_typed(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        await alice.say(room, "!signer", expect="Répondez")
        await alice.say(room, "3", expect="Écrivez")  # "Un autre nom"

        summary = await alice.say(room, '<b>Bob</b> <a href="#evil">x</a>', expect="Je signe")

        assert '« <b>Bob</b> <a href="#evil">x</a> »' in summary
        formatted = alice.last(room).formatted
        assert "&lt;b&gt;Bob&lt;/b&gt;" in formatted and "#evil" in formatted
        assert '<a href="#evil">' not in formatted


async def test_an_edit_replaces_the_message_and_its_choices(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse) as world:
        transport = await world.start()
        alice = await world.user()
        room = await alice.open_dm(world.bot_id)
        chat = Chat("matrix", room, ChatKind.PRIVATE)
        sent = await transport.send(chat, Reply(plain("Envoi en cours…")))
        await alice.wait(room)

        await transport.edit(sent, Reply(plain("Envoyé à 120 groupes.")))

        (edit,) = await alice.wait(room)
        assert edit.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": sent.message_id}
        assert edit.content["m.new_content"]["body"] == "Envoyé à 120 groupes."


async def test_a_room_the_bot_was_removed_from_is_gone(tmp_path: Path, synapse: Synapse) -> None:
    async with MatrixWorld(tmp_path, synapse, record_chat_events=True) as world:
        transport = await world.start()
        alice = await world.user()
        room = await alice.open_group([world.bot_id])  # two members: a private chat where alice is the admin
        await alice.wait_joined(room, world.bot_id)
        await alice.client.room_kick(room, world.bot_id)

        async def gone() -> bool:
            return bool(world.events.gone)

        await world.until(gone, "notice it was removed")
        assert [c.id for c in world.events.gone] == [room]

        with pytest.raises(ChatGone):
            await transport.send(Chat("matrix", room, ChatKind.PRIVATE), Reply(plain("Nouvelles de la pétition")))
