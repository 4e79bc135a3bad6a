"""Replies on Telegram: rendering, splitting, files, edits, platform errors, rate limits, restarts, start-up."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import components
from bot.config import SettingsError
from bot.events import Chat, ChatGone, Choice, Document, Image, RateLimited, Reply, TransientError
from bot.markup import join, parse, plain, render_template
from bot.transports.telegram import OFFSET_KEY, TelegramTransport
from tests.conftest import FakeClock, make_settings
from tests.telegram_harness import TelegramWorld, private
from tests.telegram_stub import Call, TelegramStub, User, visible

ALICE = User(111, "Alice", language_code="fr")

# PTB 22 itself warns when it builds RetryAfter from an int, as the Bot API sends it.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TelegramWorld]:
    async with TelegramWorld(tmp_path, clock) as w:
        await w.start()
        yield w


def transport(world: TelegramWorld) -> TelegramTransport:
    assert world.transport is not None
    return world.transport


# Rendering -----------------------------------------------------------------------


async def test_markup_in_a_display_name_arrives_as_plain_characters(world: TelegramWorld) -> None:
    name = '<b>Mallory</b> & </a><a href="javascript:x">'
    text = render_template('Merci **{name}** ! [La pétition](https://example.org/?a=1&b="2")', name=name)
    await transport(world).send(private(ALICE), Reply(text))
    message = world.stub.last_message(ALICE.id)
    assert message.text == f"Merci {name} ! La pétition"
    assert "<b>Merci </b>" not in message.html and "<b>&lt;b&gt;Mallory" in message.html
    assert 'href="https://example.org/?a=1&amp;b=&quot;2&quot;"' in message.html


async def test_a_long_text_is_split_on_paragraphs_with_the_buttons_on_the_last_part(world: TelegramWorld) -> None:
    paragraphs = [plain(f"Paragraphe {i}. " + "données de santé " * 60) for i in range(12)]
    choices = (Choice("Suite", "cmd:aide"),)
    await transport(world).send(private(ALICE), Reply(join(paragraphs), choices))
    parts = world.stub.chat_messages(ALICE.id)
    assert len(parts) > 1
    assert all(len(p.text.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert all(p.text.rstrip().endswith("santé") for p in parts)  # cut between paragraphs, never inside
    assert [bool(p.reply_markup) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert sum(p.text.count("Paragraphe") for p in parts) == 12


async def test_length_is_counted_as_telegram_counts_it(world: TelegramWorld) -> None:
    # An emoji is two UTF-16 code units: 3 000 of them exceed Telegram's 4 096 although len() says 3 000.
    await transport(world).send(private(ALICE), Reply(plain("🙂 " * 1500)))
    assert len(world.stub.chat_messages(ALICE.id)) == 2


async def test_an_over_long_button_payload_is_refused_before_anything_is_sent(world: TelegramWorld) -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        await transport(world).send(private(ALICE), Reply(plain("x"), (Choice("é", "faq:" + "é" * 31),)))
    assert world.stub.sent("sendMessage") == []


async def test_an_image_goes_with_its_caption_and_an_announcement_is_silent(world: TelegramWorld) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    reply = Reply(parse("**Objectif atteint** !"), image=Image(png, "courbe.png"), silent=True)
    sent = await transport(world).send(private(ALICE), reply)
    [call] = world.stub.sent("sendPhoto")
    assert call.params["photo"]["filename"] == "courbe.png"
    message = world.stub.last_message(ALICE.id)
    assert (message.kind, message.text, message.silent) == ("photo", "Objectif atteint !", True)

    await transport(world).edit(sent, Reply(parse("**Objectif atteint** : 20 000 !")))
    assert world.stub.last_message(ALICE.id).text == "Objectif atteint : 20 000 !"


async def test_a_caption_too_long_for_a_photo_follows_it_as_a_message(world: TelegramWorld) -> None:
    reply = Reply(plain("a " * 600), image=Image(b"png", "x.png"))
    await transport(world).send(private(ALICE), reply)
    photo, text = world.stub.chat_messages(ALICE.id)
    assert (photo.kind, photo.text, text.kind) == ("photo", "", "text")


async def test_a_document_is_sent_as_a_file(world: TelegramWorld) -> None:
    await transport(world).send(private(ALICE), Reply(plain("Vos données"), document=Document(b"{}", "export.json")))
    [call] = world.stub.sent("sendDocument")
    assert call.params["document"]["filename"] == "export.json"
    assert world.stub.last_message(ALICE.id).text == "Vos données"


async def test_an_edit_replaces_the_text_and_an_identical_edit_is_harmless(world: TelegramWorld) -> None:
    t = transport(world)
    sent = await t.send(private(ALICE), Reply(plain("Un instant…"), (Choice("Oui", "x:1"),)))
    await t.edit(sent, Reply(plain("C'est fait.")))
    await t.edit(sent, Reply(plain("C'est fait.")))  # Telegram answers "message is not modified"
    [message] = world.stub.chat_messages(ALICE.id)
    assert (message.text, message.reply_markup) == ("C'est fait.", None)


# Platform errors -------------------------------------------------------------------


async def test_a_rate_limit_during_a_reply_is_waited_out_and_the_reply_arrives(world: TelegramWorld) -> None:
    world.stub.rate_limit("sendMessage", retry_after=1)
    [count] = await world.say(ALICE, "/compteur")
    assert "signatures" in count.text
    sends = world.stub.sent("sendMessage")
    assert len(sends) == 2
    refused_at = sends[0].at
    during_pause = [c for c in world.stub.calls if refused_at < c.at < refused_at + 1.0]
    assert during_pause == [], "nothing may reach Telegram before retry_after has passed"


async def test_the_outbox_gets_rate_limited_instead_of_waiting(world: TelegramWorld) -> None:
    t = transport(world)
    world.stub.rate_limit("sendMessage", retry_after=30)
    with pytest.raises(RateLimited) as first:
        await t.deliver(private(ALICE), Reply(plain("Annonce"), silent=True))
    assert first.value.retry_after == 30
    calls = len(world.stub.calls)
    with pytest.raises(RateLimited) as second:
        await t.deliver(Chat("telegram", "222"), Reply(plain("Annonce"), silent=True))
    assert 29 < second.value.retry_after <= 30
    assert len(world.stub.calls) == calls, "a paused transport does not even try"


@pytest.mark.parametrize(
    ("setup", "new_chat_id"),
    [
        (lambda stub: stub.blocked.add(111), None),
        (lambda stub: stub.unknown_chats.add(111), None),
        (lambda stub: stub.migrated.__setitem__(111, -1009), "-1009"),
    ],
    ids=["blocked", "chat-not-found", "migrated"],
)
async def test_an_unreachable_chat_is_reported_as_gone(
    world: TelegramWorld, setup: Callable[[TelegramStub], object], new_chat_id: str | None
) -> None:
    setup(world.stub)
    with pytest.raises(ChatGone) as gone:
        await transport(world).send(private(ALICE), Reply(plain("Bonjour")))
    assert gone.value.new_chat_id == new_chat_id


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_failure_is_transient(world: TelegramWorld, status: int) -> None:
    world.stub.fail("sendMessage", status, "Internal Server Error")
    with pytest.raises(TransientError):
        await transport(world).send(private(ALICE), Reply(plain("Bonjour")))


async def test_polling_survives_a_failing_get_updates(world: TelegramWorld) -> None:
    world.stub.fail("getUpdates", 502, "Bad Gateway")
    [count] = await world.say(ALICE, "/compteur")
    assert "signatures" in count.text


# Restart safety ------------------------------------------------------------------------


async def test_an_update_interrupted_by_a_crash_is_handled_again_after_restart_exactly_once(
    world: TelegramWorld,
) -> None:
    assert world.bot is not None
    release = world.stub.hold("sendMessage")  # the reply is on its way when the process dies
    update = world.stub.push(world.stub.message_update(ALICE, "/compteur"))
    await world.stub.wait_for(lambda: bool(world.stub.sent("sendMessage")))
    await transport(world).stop(grace=0)  # the crash: no time to finish
    assert await world.bot.services.kv.get(OFFSET_KEY) is None, "the offset did not move past an unhandled update"
    release.set()
    world.stub.hold("sendMessage").set()

    await world.start()  # the restart
    # The offset moves past an update only once its whole batch is handled: a second handling would show now.
    await world.handled(update["update_id"])
    assert len(world.stub.sent("sendMessage")) == 2  # the interrupted one, and the real one
    assert "signatures" in world.stub.last_message(ALICE.id).text
    assert await world.bot.services.kv.get(OFFSET_KEY) == str(update["update_id"] + 1)


async def test_a_restart_resumes_after_the_last_handled_update(world: TelegramWorld) -> None:
    assert world.bot is not None
    first = world.stub.message_update(ALICE, "/compteur")
    await world.deliver(first)
    await transport(world).stop()
    await world.start()

    def after_restart() -> list[Call]:
        calls = world.stub.calls
        restarted = max(i for i, c in enumerate(calls) if c.method == "getMe")
        return [c for c in calls[restarted:] if c.method == "getUpdates"]

    await world.stub.wait_for(lambda: bool(after_restart()))
    get_updates = after_restart()[0]
    assert int(get_updates.params["offset"]) == first["update_id"] + 1


# Start-up ---------------------------------------------------------------------------


async def test_admin_commands_are_shown_only_in_admin_chats(tmp_path: Path, clock: FakeClock) -> None:
    async with TelegramWorld(tmp_path, clock, admins="telegram:111,matrix:@a:example.org") as w:
        assert w.bot is not None
        assert any(c.admin and "diffuser" in c.names for c in w.bot.services.commands)  # the real admin command
        await w.start()
        calls = w.stub.sent("setMyCommands")
        public = [c for c in calls if (c.params.get("scope") or {}).get("type") != "chat"]
        admin = [c for c in calls if (c.params.get("scope") or {}).get("type") == "chat"]
        assert all("diffuser" not in str(c.params["commands"]) for c in public)
        assert {c.params["scope"]["chat_id"] for c in admin} == {111}
        assert any("broadcast" in str(c.params["commands"]) for c in admin)


async def test_private_chats_and_groups_each_get_the_commands_that_work_there(world: TelegramWorld) -> None:
    calls = world.stub.sent("setMyCommands")

    def names(scope: str) -> list[str]:
        [call] = [
            c for c in calls if (c.params.get("scope") or {}).get("type") == scope and not c.params.get("language_code")
        ]
        return [c["command"] for c in call.params["commands"]]

    assert "signer" in names("all_private_chats") and "abonner" not in names("all_private_chats")
    assert "abonner" in names("all_group_chats") and "signer" not in names("all_group_chats")
    assert "compteur" in names("all_private_chats") and "compteur" in names("all_group_chats")


async def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path: Path, clock: FakeClock) -> None:
    async with TelegramWorld(tmp_path, clock) as w:
        assert w.bot is not None
        settings = w.bot.services.settings.model_copy(
            update={"telegram_mode": "webhook", "telegram_webhook_url": "https://example.org/hook"}
        )
        with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
            await TelegramTransport(
                dataclasses.replace(w.bot.services.for_transport(), settings=settings), w.bot.router
            ).start()
        assert w.stub.calls == [], "refused before contacting Telegram"


def test_webhook_settings_without_a_secret_are_refused_with_the_setting_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        make_settings(
            tmp_path,
            telegram_bot_token="1:x",
            telegram_mode="webhook",
            telegram_webhook_url="https://example.org/hook",
        )


async def test_a_wrong_token_stops_start_up_with_a_clear_message(tmp_path: Path, clock: FakeClock) -> None:
    async with TelegramWorld(tmp_path, clock, telegram_bot_token="999:wrong") as w:
        assert w.bot is not None
        with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
            await TelegramTransport(w.bot.services.for_transport(), w.bot.router).start()


async def test_an_unreachable_api_at_start_up_is_a_transient_error(tmp_path: Path, clock: FakeClock) -> None:
    async with TelegramWorld(tmp_path, clock) as w:
        assert w.bot is not None
        w.stub.fail("getMe", 502, "Bad Gateway")
        with pytest.raises(TransientError, match="start-up"):
            await TelegramTransport(w.bot.services.for_transport(), w.bot.router).start()
        assert "telegram" not in w.bot.services.outbounds


async def test_run_starts_telegram_when_the_token_is_set(world: TelegramWorld) -> None:
    assert world.bot is not None
    names = [c.name for c in components(world.bot)]
    assert names[:3] == ["leadership", "telegram", "scheduler"], "the lease first, then transports, jobs after"


def test_visible_text_of_the_stand_in_is_strict_like_telegram() -> None:
    assert visible("<b>a &lt; b</b>") == "a < b"
    with pytest.raises(ValueError):
        visible("<b>open")
    with pytest.raises(ValueError):
        visible("<script>x</script>")
