"""Data rights in chat: withdraw, see, erase, follow or stop news, and the privacy notice.

Every right is exercised in the chat itself, without writing to anyone. Withdrawal
and erasure ask for a confirmation first (a dialogue whose confirm step does the
deletion and closes the dialogue in one transaction), then say what was deleted.
Personal data is only shown or changed in a private chat: in a group, the bot
points to one.
"""

from __future__ import annotations

import enum
import json
import logging
from typing import Any

from bot import dialogue, formatting
from bot.choices import NO, YES
from bot.context import Context
from bot.dialogue import Option
from bot.events import Document
from bot.markup import Rich, join
from bot.retention import purge_date
from handlers.signing import follow_here, tell_to_write_privately
from storage import signatures as store
from storage.contacts import Contact, get_contact_in
from storage.db import StorageError
from storage.dialogues import Dialogue, Done, delete_in
from storage.purge import Person, count_private_deliveries_in, erase_in
from storage.signatures import Signature

log = logging.getLogger(__name__)

UNSIGN = "unsign"
FORGET = "forget"


class UnsignStep(enum.Enum):
    CONFIRM = "unsign.confirm"


class ForgetStep(enum.Enum):
    CONFIRM = "forget.confirm"


async def _in_private(ctx: Context) -> bool:
    if ctx.event.chat.is_group:
        await tell_to_write_privately(ctx, "rights_in_private")
        return False
    return True


def _date(ctx: Context, moment: Any) -> str:
    return formatting.date(moment.astimezone(ctx.services.settings.zone).date(), ctx.lang)


async def show_privacy(ctx: Context) -> None:
    """/confidentialite: who holds what, why, on which legal basis, for how long, and how to complain."""
    campaign = ctx.services.content.campaign
    # A placeholder is never shown: supporters read that the campaign has not named it yet.
    if campaign.controller:
        controller = ctx.t("privacy_controller", name=campaign.controller)
    else:
        controller = ctx.t("privacy_controller_unnamed")
    if campaign.contact:
        contact = ctx.t("privacy_contact", address=campaign.contact)
        other_requests = ctx.t("privacy_other_requests", address=campaign.contact)
    else:
        contact = ctx.t("privacy_contact_unpublished")
        other_requests = ctx.t("privacy_other_requests_unpublished")
    await ctx.say(
        "privacy_notice",
        controller=controller,
        contact=contact,
        other_requests=other_requests,
        end_date=formatting.date(campaign.end_date, ctx.lang),
        retention_days=campaign.retention_days,
        purge_date=formatting.date(purge_date(campaign), ctx.lang),
        version=campaign.consent_version,
    )


async def _stored(ctx: Context) -> tuple[Signature | None, Contact | None, str | None]:
    """What the bot keeps about this user: signature, news contact, chosen language."""
    s = ctx.services
    return (
        await s.signatures.get(ctx.user_key),
        await s.contacts.get(ctx.user_key),
        await s.preferences.language(ctx.user_key),
    )


# /retirer ------------------------------------------------------------------


async def start_withdrawal(ctx: Context) -> None:
    """/retirer: after a confirmation, the signature is deleted and the count goes down by one."""
    if not await _in_private(ctx):
        return
    signature = await ctx.services.signatures.get(ctx.user_key)
    if signature is None:
        if await ctx.services.dialogues.finish(ctx.owner):
            await ctx.say("cancelled")  # "je ne veux plus signer" while signing: the signing stops
            return
        await ctx.say("unsign_not_signed")
        return
    await dialogue.start(
        ctx, WITHDRAWAL, UnsignStep.CONFIRM, {"name": signature.name, "date": _date(ctx, signature.signed_at)}
    )


def _yes_no(yes_key: str, yes_words: str, no_key: str) -> dialogue.Options:
    def options(ctx: Context, d: Dialogue) -> list[Option]:
        return [Option("yes", ctx.label(yes_key), YES, yes_words), Option("no", ctx.label(no_key), NO, "keep")]

    return options


async def _withdrawal_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    if value != "yes":
        await dialogue.close(ctx, d, "kept")
        await ctx.say("unsign_kept")
        return
    repo = ctx.services.signatures
    try:
        async with ctx.services.db.transaction() as tx:
            await dialogue.close_in_tx(tx, ctx, d, "withdrawn")
            removed = await store.withdraw_in(tx, ctx.user_key, ctx.now, repo.zone)
            following = await get_contact_in(tx, ctx.user_key)
    except StorageError as exc:
        log.warning("withdrawal not saved error=%s user=%s", type(exc).__name__, ctx.user_tag)
        await ctx.say("rights_failed", dialogue.choices(ctx, WITHDRAWAL, d))
        return
    if removed is None:
        await ctx.say("unsign_not_signed")
        return
    log.info("signature withdrawn user=%s", ctx.user_tag)
    totals = await ctx.services.counts.totals()
    parts = [
        ctx.t(
            "unsign_done",
            name=removed.name,
            date=_date(ctx, removed.signed_at),
            total=formatting.number(totals.total, ctx.lang),
        )
    ]
    if following is not None:
        parts.append(ctx.t("unsign_news_still_on"))
    await ctx.reply(join(parts))


async def _replay_withdrawal(ctx: Context, done: Done) -> None:
    """The name and date are deleted: the same answer, without them."""
    if done.outcome == "kept":
        await ctx.say("unsign_kept")
        return
    totals = await ctx.services.counts.totals()
    await ctx.say("unsign_done_again", total=formatting.number(totals.total, ctx.lang))


WITHDRAWAL = dialogue.Flow.declare(
    UNSIGN,
    {
        UnsignStep.CONFIRM: dialogue.Step(
            prompt=lambda ctx, d: ctx.t("unsign_confirm", name=d.data.get("name", ""), date=d.data.get("date", "")),
            reminder=lambda ctx, d: ctx.t("unsign_reminder"),
            options=_yes_no("choice_unsign_yes", "withdraw", "choice_keep"),
            on_choice=_withdrawal_chosen,
            replay=_replay_withdrawal,
        )
    },
)


# /oublier ------------------------------------------------------------------


async def start_forgetting(ctx: Context) -> None:
    """/oublier: after a confirmation, every trace of the user is erased: signature, contact, dialogue, language."""
    if not await _in_private(ctx):
        return
    signature, contact, language = await _stored(ctx)
    if signature is None and contact is None and language is None:
        await ctx.services.dialogues.finish(ctx.owner)
        # Nothing worth a confirmation, but what the bot kept in passing goes all the same
        # (the choices shown to this person, here or in a group, may show their name).
        try:
            async with ctx.services.db.transaction() as tx:
                await erase_in(tx, _person(ctx), ctx.now, ctx.services.signatures.zone)
        except StorageError as exc:
            log.warning("erasure not saved error=%s user=%s", type(exc).__name__, ctx.user_tag)
        await ctx.say("forget_nothing")
        return
    await dialogue.start(ctx, FORGETTING, ForgetStep.CONFIRM)


def _person(ctx: Context) -> Person:
    chat = ctx.event.chat
    return Person(ctx.user_key, chat.transport, chat.id, ctx.owner)


async def _forget_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    if value != "yes":
        await dialogue.close(ctx, d, "kept")
        await ctx.say("rights_kept")
        return
    repo = ctx.services.signatures
    try:
        async with ctx.services.db.transaction() as tx:
            # Erasure leaves no memory of the dialogue either: the row goes, not just its data.
            if not await delete_in(tx, ctx.owner, d.nonce):
                raise dialogue.Moved
            erased = await erase_in(tx, _person(ctx), ctx.now, repo.zone)
    except StorageError as exc:
        log.warning("erasure not saved error=%s user=%s", type(exc).__name__, ctx.user_tag)
        await ctx.say("rights_failed", dialogue.choices(ctx, FORGETTING, d))
        return
    ctx.dialogue = None
    log.info("user erased user=%s", ctx.user_tag)
    # The language preference is gone too: answer in the default language from now on.
    items = [ctx.t("forget_item_dialogue")]
    if erased.signature is not None:
        items.insert(0, ctx.t("forget_item_signature", name=erased.signature.name))
    if erased.rows.contacts:
        items.append(ctx.t("forget_item_contact"))
    if erased.rows.preferences:
        items.append(ctx.t("forget_item_language"))
    await ctx.say("forget_done", items=join(items, "\n"))


async def _replay_forget(ctx: Context, done: Done) -> None:
    await ctx.say("rights_kept")


FORGETTING = dialogue.Flow.declare(
    FORGET,
    {
        ForgetStep.CONFIRM: dialogue.Step(
            prompt=lambda ctx, d: ctx.t("forget_confirm"),
            reminder=lambda ctx, d: ctx.t("forget_reminder"),
            options=_yes_no("choice_forget_yes", "erase", "choice_keep_all"),
            on_choice=_forget_chosen,
            replay=_replay_forget,
        )
    },
)


# /mesdonnees ---------------------------------------------------------------


async def show_status(ctx: Context) -> None:
    """/statut: "did it work?", "c'est bon ?" answered in two lines (signed or not, news or not), with
    /mesdonnees for the whole record; the pseudonym and versions there say nothing to such a question."""
    if not await _in_private(ctx):
        return
    signature, contact, language = await _stored(ctx)
    if signature is None and contact is None and not language:
        await ctx.say("status_nothing")
        return
    if signature is not None:
        lines = [ctx.t("status_signed", name=signature.name, date=_date(ctx, signature.signed_at))]
    else:
        lines = [ctx.t("status_not_signed")]
    news = "status_news_off" if contact is None else "status_news_on" if contact.active else "status_news_paused"
    lines += [ctx.t(news), ctx.t("status_more")]
    await ctx.reply(join(lines, "\n"))


async def show_my_data(ctx: Context) -> None:
    """/mesdonnees: everything stored about the user, readable, and as a JSON file to keep."""
    if not await _in_private(ctx):
        return
    s = ctx.services
    signature, contact, language = await _stored(ctx)
    open_dialogue = await s.dialogues.current(ctx.owner, ctx.now)
    chats = {(ctx.event.chat.transport, ctx.event.chat.id)}
    if contact is not None:
        chats.add((contact.transport, contact.chat_id))
    async with s.db.read() as tx:
        deliveries = sum([await count_private_deliveries_in(tx, transport, chat_id) for transport, chat_id in chats])

    lines: list[Rich] = [ctx.t("mydata_pseudonym", pseudonym=ctx.user_key)]
    if signature is not None:
        lines.append(
            ctx.t(
                "mydata_signature",
                name=signature.name,
                date=_date(ctx, signature.signed_at),
                version=signature.consent_version,
            )
        )
    else:
        lines.append(ctx.t("mydata_no_signature"))
    if contact is not None:
        state = ctx.label("mydata_contact_active" if contact.active else "mydata_contact_inactive")
        since = _date(ctx, contact.created_at)
        lines.append(ctx.t("mydata_contact", platform=contact.transport, date=since, state=state))
    else:
        lines.append(ctx.t("mydata_no_contact"))
    lines.append(ctx.t("mydata_language", language=language) if language else ctx.t("mydata_no_language"))
    if deliveries:
        lines.append(ctx.t("mydata_deliveries", count=deliveries))
    if open_dialogue is not None:
        until = open_dialogue.expires_at.astimezone(ctx.services.settings.zone)  # the zone the signature's date is in
        lines.append(ctx.t("mydata_dialogue", until=formatting.date_time(until, ctx.lang)))
    if signature is None and contact is None and not language and not deliveries and open_dialogue is None:
        # Right after /oublier, "did you really delete everything?": say so, rather than list "none" four times.
        lines = [ctx.t("mydata_nothing", pseudonym=ctx.user_key)]

    export: dict[str, Any] = {
        "pseudonym": ctx.user_key,
        "signature": None
        if signature is None
        else {
            "name": signature.name,
            "consent_version": signature.consent_version,
            "signed_at": signature.signed_at.isoformat(),
        },
        "news_contact": None
        if contact is None
        else {
            "platform": contact.transport,
            "chat_id": contact.chat_id,
            "language": contact.language,
            "since": contact.created_at.isoformat(),
            "active": contact.active,
        },
        "news_messages_sent_here": deliveries,
        "preferences": {"language": language},
        "open_dialogue": None
        if open_dialogue is None
        else {
            "name": open_dialogue.name,
            "step": open_dialogue.step,
            "data": open_dialogue.data,
            "expires_at": open_dialogue.expires_at.isoformat(),
        },
    }
    document = Document(
        data=json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8"),
        name=ctx.label("mydata_file_name"),
    )
    log.info("personal data shown user=%s", ctx.user_tag)
    await ctx.reply(ctx.t("mydata", items=join(lines, "\n")), document=document)


# /suivre, /nepassuivre -----------------------------------------------------


async def follow(ctx: Context) -> None:
    """/suivre: milestone news in this private chat, until /nepassuivre."""
    await follow_here(ctx)


async def unfollow(ctx: Context) -> None:
    """/nepassuivre: no more news, and the contact row is deleted."""
    removed = await ctx.services.contacts.unfollow(ctx.user_key)
    log.info("news unfollowed user=%s removed=%s", ctx.user_tag, removed)
    await ctx.say("follow_off" if removed else "follow_not_following")
