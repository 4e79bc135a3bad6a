"""/signer: signing the petition through a confirm dialogue, with explicit consent.

Signing reveals a political opinion (GDPR art. 9), so the dialogue says what is
stored, why and for how long before asking anything, never pre-selects consent,
and stores only a pseudonym, the chosen name, the consent version and the time.
The confirmation finishes the dialogue and inserts the signature in one
transaction: whoever finishes the dialogue is the only one to report success, so a
double press or 100 concurrent presses give one signature and one count.
The news question comes after, as a separate consent recorded apart.
"""

from __future__ import annotations

import enum
import logging
import re
import unicodedata

from bot import dialogue, formatting
from bot.context import Context, Services
from bot.events import Choice
from bot.markup import join, plain
from bot.retention import purge_date
from bot.sanitize import clean_text
from storage import signatures as store
from storage.contacts import ContactRepository, get_contact_in
from storage.db import StorageError
from storage.dialogues import Dialogue, finish_in
from storage.signatures import SignatureRepository

log = logging.getLogger(__name__)

FLOW = "sign"
MAX_NAME_CHARS = 64
# `/start sign` (Telegram deep link) opens this dialogue.
START_ARGS = ("sign", "signer")
_SPACES = re.compile(r"\s+")


class Step(enum.Enum):
    NAME = "sign.name"  # choosing the name: platform name, initials, or another one
    TYPING = "sign.typing"  # typing another name
    CONFIRM = "sign.confirm"  # the summary with **Je signe** / **Annuler**


def signatures(s: Services) -> SignatureRepository:
    return s.signatures or SignatureRepository(s.db, s.settings.zone)


def contacts(s: Services) -> ContactRepository:
    return s.contacts or ContactRepository(s.db)


def signing_link(s: Services, transport: str) -> str | None:
    """A link to a private chat with the bot; on Telegram it opens the signing dialogue directly."""
    link = s.bot_links.get(transport)
    if link and link.startswith("https://t.me/"):
        return f"{link}?start={START_ARGS[0]}"
    return link


def share_link(s: Services) -> str | None:
    """What supporters pass on: the Telegram deep link when known, else the petition page (if the campaign gave it)."""
    telegram = s.bot_links.get("telegram")
    return f"{telegram}?start={START_ARGS[0]}" if telegram else s.content.campaign.petition_url


# Names -------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """Invisible characters removed, whitespace (newlines included) collapsed; markup kept as typed."""
    return _SPACES.sub(" ", clean_text(raw)).strip()


def name_problem(name: str) -> tuple[str, dict[str, object]] | None:
    """The message key (and values) explaining why a name cannot be used, or None."""
    if not name:
        return "sign_name_empty", {}
    if not any(ch.isalpha() for ch in name):
        return "sign_name_no_letters", {}
    if len(name) > MAX_NAME_CHARS:
        return "sign_name_too_long", {"length": len(name), "limit": MAX_NAME_CHARS}
    return None


def initials(name: str) -> str:
    """A name as initials ("Jeanne Dupont" → "J. D."): enough to recognise oneself, not enough to be found."""
    letters = []
    for word in clean_name(name).split(" "):
        first = next((ch for ch in word if ch.isalpha()), None)
        if first is not None:
            letters.append(unicodedata.normalize("NFC", first.upper()) + ".")
    return " ".join(letters[:3])


def _display_name(ctx: Context) -> str | None:
    name = clean_name(ctx.event.sender.display_name)
    return name if name_problem(name) is None else None


def _anonymous_name(ctx: Context) -> str:
    display = _display_name(ctx)
    return (initials(display) if display else "") or ctx.label("anonymous_name")


# Handlers ----------------------------------------------------------------


async def tell_to_write_privately(ctx: Context, key: str = "sign_in_private") -> None:
    """In a group: signing and personal data belong in a private chat with the bot."""
    link = signing_link(ctx.services, ctx.event.chat.transport)
    if link:
        await ctx.say(key, link=link)
    else:
        await ctx.say(f"{key}_no_link")


async def start_signing(ctx: Context) -> None:
    """/signer: the supporter reads what signing means, picks a name, sees a summary and confirms."""
    if ctx.event.chat.is_group:
        await tell_to_write_privately(ctx)
        return
    existing = await signatures(ctx.services).get(ctx.user_key)
    if existing is not None:
        await _say_already_signed(ctx, existing)
        return
    s = ctx.services
    petition = s.content.petition
    demands = join(
        [plain(f"{d.number}/ {d.short_en if ctx.lang == 'en' else d.short_fr}") for d in petition.demands], "\n"
    )
    await ctx.say(
        "sign_intro",
        title=petition.title,
        demands=demands,
        purge_date=formatting.date(purge_date(s.content.campaign), ctx.lang),
    )
    d = await dialogue.start(ctx, FLOW, Step.NAME)
    await _ask_name(ctx, d)


async def _ask_name(ctx: Context, d: Dialogue) -> None:
    choices = []
    display = _display_name(ctx)
    if display:
        choices.append(ctx.step_choice(d, "display", ctx.label("choice_sign_display", name=display)))
    choices.append(ctx.step_choice(d, "anonymous", ctx.label("choice_sign_anonymous", initials=_anonymous_name(ctx))))
    choices.append(ctx.step_choice(d, "other", ctx.label("choice_sign_other")))
    choices.append(ctx.step_choice(d, "cancel", ctx.label("choice_sign_cancel")))
    await ctx.say("sign_name_prompt", choices)


async def _say_already_signed(ctx: Context, signature: store.Signature) -> None:
    when = signature.signed_at.astimezone(ctx.services.settings.zone)
    await ctx.say(
        "sign_already",
        [Choice(ctx.label("choice_unsign"), "cmd:retirer")],
        date=formatting.date(when.date(), ctx.lang),
        name=signature.name,
    )


class SigningFlow:
    name = FLOW

    async def on_choice(self, ctx: Context, d: Dialogue, value: str) -> None:
        if value == "cancel":
            await ctx.say("sign_cancelled" if await dialogue.finish(ctx, d) else "expired_choice")
            return
        if d.step == Step.NAME.value and value == "display":
            display = _display_name(ctx)
            if display is None:
                await ctx.say("expired_choice")
                return
            await _summary(ctx, d, display)
        elif d.step == Step.NAME.value and value == "anonymous":
            await _summary(ctx, d, _anonymous_name(ctx))
        elif d.step == Step.NAME.value and value == "other":
            moved = await dialogue.advance(ctx, d, Step.TYPING, {})
            if moved is None:
                await ctx.say("expired_choice")
                return
            await ctx.say("sign_type_name", [ctx.step_choice(moved, "cancel", ctx.label("choice_sign_cancel"))])
        elif d.step == Step.CONFIRM.value and value == "yes":
            await _confirm(ctx, d)
        else:
            await ctx.say("expired_choice")

    async def on_text(self, ctx: Context, d: Dialogue, text: str) -> None:
        if d.step not in (Step.NAME.value, Step.TYPING.value):
            await ctx.say("sign_press_choice")
            return
        name = clean_name(text)
        problem = name_problem(name)
        if problem is not None:
            key, values = problem
            await ctx.say(key, (), **values)
            return
        await _summary(ctx, d, name)


async def _summary(ctx: Context, d: Dialogue, name: str) -> None:
    """« Vous signez … sous le nom … » with **Je signe** / **Annuler**: nothing is chosen for the user."""
    moved = await dialogue.advance(ctx, d, Step.CONFIRM, {"name": name})
    if moved is None:
        await ctx.say("expired_choice")
        return
    await ctx.say(
        "sign_summary",
        [
            ctx.step_choice(moved, "yes", ctx.label("choice_sign_confirm")),
            ctx.step_choice(moved, "cancel", ctx.label("choice_sign_cancel")),
        ],
        title=ctx.services.content.petition.title,
        name=name,
    )


async def _confirm(ctx: Context, d: Dialogue) -> None:
    s = ctx.services
    repo = signatures(s)
    version = s.content.campaign.consent_version
    try:
        async with s.db.transaction() as tx:
            # Only the press that closes the dialogue may sign: the others lost the race.
            finished = await finish_in(tx, ctx.owner, d.nonce)
            name = str(d.data["name"])
            signed = await store.sign_in(tx, ctx.user_key, name, version, ctx.now, repo.zone) if finished else None
            following = await get_contact_in(tx, ctx.user_key) if signed else None
    except StorageError as exc:
        log.warning("signature not saved error=%s user=%s", type(exc).__name__, ctx.user_tag)
        await ctx.say("sign_failed")
        return
    ctx.dialogue = None
    if signed is None:
        existing = await repo.get(ctx.user_key)
        if existing is not None:
            await _say_already_signed(ctx, existing)
        else:
            await ctx.say("expired_choice")
        return
    log.info("signature recorded user=%s consent=%s", ctx.user_tag, version)
    await _receipt(ctx, signed, following is not None and following.active)


async def _receipt(ctx: Context, signed: store.Signature, following: bool) -> None:
    s = ctx.services
    totals = await s.counts.totals()
    when = signed.signed_at.astimezone(s.settings.zone)
    await ctx.say(
        "sign_receipt",
        date=formatting.date_time(when, ctx.lang),
        version=signed.consent_version,
        name=signed.name,
        total=formatting.number(totals.total, ctx.lang),
        bot=formatting.number(totals.bot, ctx.lang),
    )
    link = share_link(s)
    if link:
        await ctx.say("sign_share", title=s.content.petition.title, link=link)
    else:
        await ctx.say("sign_share_no_link", title=s.content.petition.title)
    if not following:
        await ctx.say(
            "sign_news_question",
            [Choice(ctx.label("choice_news_yes"), "news:on"), Choice(ctx.label("choice_news_no"), "news:off")],
        )


async def news_pressed(ctx: Context) -> None:
    """The answer to "receive milestone news?": a consent of its own, stored apart from the signature."""
    if ctx.args == "on":
        await follow_here(ctx)
    else:
        removed = await contacts(ctx.services).unfollow(ctx.user_key)
        log.info("news declined user=%s removed=%s", ctx.user_tag, removed)
        await ctx.say("news_declined")


async def follow_here(ctx: Context) -> None:
    chat = ctx.event.chat
    if chat.is_group:
        await tell_to_write_privately(ctx, "follow_in_private")
        return
    added = await contacts(ctx.services).follow(ctx.user_key, chat.transport, chat.id, ctx.lang, ctx.now)
    log.info("news followed user=%s new=%s", ctx.user_tag, added)
    await ctx.say("follow_on" if added else "follow_already")
