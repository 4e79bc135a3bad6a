"""/signer: signing the petition through a confirm dialogue, with explicit consent.

Signing reveals a political opinion (GDPR art. 9), so the dialogue says what is
stored, why and for how long before asking anything, never pre-selects consent,
and stores only a pseudonym, the chosen name, the consent version and the time.
The confirmation moves the dialogue on and inserts the signature in one
transaction: only the press that moves it signs, so a double press or 100
concurrent presses give one signature and one count; the others are answered
with the same receipt. The news question is the dialogue's last step, a separate
consent recorded apart.
"""

from __future__ import annotations

import enum
import logging
import re
import unicodedata

from bot import dialogue, formatting
from bot.choices import MAX_NAME_WORDS, NO, YES, normalize, without_quotes
from bot.context import Context, Services
from bot.dialogue import Option
from bot.markup import Rich, join, plain
from bot.retention import purge_date
from bot.sanitize import clean_text, fold
from handlers.info import COMMAND
from storage import signatures as store
from storage.contacts import get_contact_in
from storage.db import StorageError
from storage.dialogues import Dialogue, Done

log = logging.getLogger(__name__)

FLOW = "sign"
MAX_NAME_CHARS = 64
# `/start sign` (Telegram deep link) opens this dialogue.
START_ARGS = ("sign", "signer")
_SPACES = re.compile(r"\s+")
# A link or an address is not a name (and would turn a signature list into a spam channel).
_ADDRESS = re.compile(
    r"(?i)(\b[a-z][a-z0-9+.-]*://|\bwww\.|\S@\S+\.\S|"
    r"\b[\w-]+\.(?:com|org|net|fr|eu|io|me|info|be|ch|ca|ly|gl|co|app|dev|xyz|ru|de|uk)(?:/|\b))"
)


class Step(enum.Enum):
    NAME = "sign.name"  # choosing the name: platform name, initials, or another one
    TYPING = "sign.typing"  # typing another name
    CONFIRM = "sign.confirm"  # the summary with **Je signe** / **Annuler**
    NEWS = "sign.news"  # after signing: receive the petition's news? (a consent of its own)


def share_link(s: Services) -> str | None:
    """What supporters pass on: a link that opens signing with the bot, on the first running platform that has
    one (Telegram's deep link), else the petition page (if the campaign gave it)."""
    for platform in s.outbounds.values():
        link = platform.chat_link(START_ARGS[0])
        if link:
            return link
    return s.content.campaign.petition_url


# Names -------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """Invisible characters removed, whitespace (newlines included) collapsed; markup kept as typed."""
    return _SPACES.sub(" ", clean_text(raw)).strip()


def name_problem(name: str, command_names: frozenset[str] = frozenset()) -> tuple[str, dict[str, object]] | None:
    """The message key (and values) explaining why a name cannot be used, or None."""
    if not name:
        return "sign_name_empty", {}
    if _ADDRESS.search(name):
        return "sign_name_address", {}
    if fold(name).lstrip("/!") in command_names:
        return "sign_name_command", {"command": name.lstrip("/!")}
    if not any(ch.isalpha() for ch in name):
        key = "sign_name_digits" if any(ch.isdigit() for ch in name) else "sign_name_no_letters"
        return key, {"name": name}
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


# The dialogue -------------------------------------------------------------


async def tell_to_write_privately(ctx: Context, key: str = "sign_in_private") -> None:
    """In a group: signing and personal data belong in a private chat with the bot."""
    link = ctx.outbound.chat_link(START_ARGS[0])  # on Telegram, it opens the signing dialogue directly
    if link:
        await ctx.say(key, link=link)
    else:
        await ctx.say(f"{key}_no_link")


async def start_signing(ctx: Context) -> None:
    """/signer: the supporter reads what signing means, picks a name, sees a summary and confirms."""
    if ctx.event.chat.is_group:
        await tell_to_write_privately(ctx)
        return
    existing = await ctx.services.signatures.get(ctx.user_key)
    if existing is not None:
        await _say_already_signed(ctx, existing)
        return
    d = ctx.dialogue
    if d is not None and d.active and d.name == SIGNING.name:
        # "je signe" typed while signing: the step goes on (asked again after this), takes the name given,
        # or, at the summary, is the consent it asks for.
        name = _given_name(ctx)
        if name:
            await _summary(ctx, d, name)
        elif d.step == str(Step.CONFIRM.value):
            await _confirm_chosen(ctx, d, "yes")  # "ok, and now I sign", looking at the summary: consent
        return
    s = ctx.services
    petition = s.content.petition
    demands = join([plain(f"{d.number}/ {d.short[ctx.lang]}") for d in petition.demands], "\n")
    await ctx.say(
        "sign_intro",
        title=petition.title,
        demands=demands,
        purge_date=formatting.date(purge_date(s.content.campaign), ctx.lang),
    )
    name = _given_name(ctx)
    if name:
        # "je signe sous Dr Martin": the name is given; what it means to sign was just said, confirm it.
        await dialogue.start(ctx, SIGNING, Step.CONFIRM, {"name": name})
    else:
        await dialogue.start(ctx, SIGNING, Step.NAME)


# Where a name given with other words ends: "Sam Lee, sign me up", "Marc Dupont. Merci"; not the full
# stop of "Dr. Emily Hart" or "J. P. Martin" (a word of at most three letters before it).
_NAME_END = re.compile(r"[,;!?]\s|(?<!\b\w)(?<!\b\w\w)(?<!\b\w\w\w)\.(?:\s|$)")


def _given_name(ctx: Context) -> str:
    """A name given with the request to sign ("/signer Jean Dupont", "je signe en Jean-Pierre"), else "".

    Only a capitalised one that passes the name checks: "/signer svp" gives none. "Anonyme" or "mon
    nom" given so are the choices they name: the initials, the account's name.
    """
    words = ctx.services.content.replies
    ctx.args = words.typed_name(ctx.args) or ctx.args  # "/sign as Tom Baker", "/signer sous le nom Nadia K"
    if words.alias_in(ctx.args, "anonymous") and len(ctx.args.split()) <= MAX_NAME_WORDS:
        return _anonymous_name(ctx)  # "I'd like to sign as Anonymous", "je veux signer mais anonyme"
    if normalize(ctx.args) in words.aliases.get("display", ()):
        return _display_name(ctx) or _anonymous_name(ctx)
    name = clean_name(_NAME_END.split(ctx.args, maxsplit=1)[0])  # "Sam Lee, sign me up": "Sam Lee"
    if not name[:1].isupper() or len(name.split()) > MAX_NAME_WORDS:
        return ""
    return name if name_problem(name, _command_names(ctx)) is None else ""


def _command_names(ctx: Context) -> frozenset[str]:
    return frozenset(fold(n) for c in ctx.services.commands for n in c.names)


async def _say_already_signed(ctx: Context, signature: store.Signature) -> None:
    when = signature.signed_at.astimezone(ctx.services.settings.zone)
    await ctx.say(
        "sign_already",
        [COMMAND.choice(ctx.label("choice_unsign"), "retirer")],
        date=formatting.date(when.date(), ctx.lang),
        name=signature.name,
    )


# Step: the name


def _name_options(ctx: Context, d: Dialogue) -> list[Option]:
    options = []
    display = _display_name(ctx)
    if display:
        options.append(Option("display", ctx.label("choice_sign_display", name=display), aliases="display"))
    anonymous = ctx.label("choice_sign_anonymous", initials=_anonymous_name(ctx))
    options.append(Option("anonymous", anonymous, aliases="anonymous"))
    options.append(Option("other", ctx.label("choice_sign_other"), aliases="other"))
    options.append(Option("cancel", ctx.label("choice_sign_cancel"), NO, aliases="cancel"))
    return options


def _cancel_option(ctx: Context, d: Dialogue) -> list[Option]:
    # No "non" here: the person said they would type a name, and "Nan" is one.
    return [Option("cancel", ctx.label("choice_sign_cancel"), aliases="cancel")]


async def _name_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    if value == "cancel":
        await _cancel(ctx, d)
    elif value == "other":
        await dialogue.go(ctx, SIGNING, d, Step.TYPING, {})
    elif value == "display":
        await _summary(ctx, d, _display_name(ctx) or _anonymous_name(ctx))
    else:
        await _summary(ctx, d, _anonymous_name(ctx))


_FINAL_STOP = re.compile(r"(?<=\w{4})\.$")  # "Mme Odette Lefèvre.", not the initial of "Jean P."


async def _name_typed(ctx: Context, d: Dialogue, text: str) -> None:
    """A typed name, checked; a refusal says why and offers the step's choices again."""
    name = _FINAL_STOP.sub("", clean_name(text))
    name = without_quotes(name)
    problem = name_problem(name, _command_names(ctx))
    if problem is not None:
        key, values = problem
        await ctx.say(key, dialogue.choices(ctx, SIGNING, d), **values)
        return
    await _summary(ctx, d, name)


async def _summary(ctx: Context, d: Dialogue, name: str) -> None:
    await dialogue.go(ctx, SIGNING, d, Step.CONFIRM, {"name": name})


async def _cancel(ctx: Context, d: Dialogue) -> None:
    await dialogue.close(ctx, d, "cancelled")
    await ctx.say("sign_cancelled")


async def _replay_name(ctx: Context, done: Done) -> None:
    if done.outcome == "cancelled":
        await ctx.say("sign_cancelled")


# Step: the summary and the consent


def _summary_prompt(ctx: Context, d: Dialogue) -> Rich:
    """« Vous signez … sous le nom … » with **Je signe** / **Annuler**: nothing is chosen for the user."""
    return ctx.t("sign_summary", title=ctx.services.content.petition.title, name=str(d.data.get("name", "")))


def _summary_reminder(ctx: Context, d: Dialogue) -> Rich:
    return ctx.t("sign_confirm_reminder", name=str(d.data.get("name", "")))


def _confirm_options(ctx: Context, d: Dialogue) -> list[Option]:
    return [
        Option("yes", ctx.label("choice_sign_confirm"), YES, aliases="sign"),
        Option("cancel", ctx.label("choice_sign_cancel"), NO, aliases="cancel"),
    ]


async def _confirm_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    if value != "yes":
        await _cancel(ctx, d)
        return
    s = ctx.services
    repo = s.signatures
    version = s.content.campaign.consent_version
    try:
        async with s.db.transaction() as tx:
            # Moving the dialogue on is the compare-and-set: only the press that moves it signs.
            signed = await store.sign_in(tx, ctx.user_key, str(d.data["name"]), version, ctx.now, repo.zone)
            following = await get_contact_in(tx, ctx.user_key) if signed else None
            if signed is None:
                await dialogue.close_in_tx(tx, ctx, d, "already")
            elif following is not None and following.active:  # the name is kept in the signature
                await dialogue.close_in_tx(tx, ctx, d, "signed", kept=True)
            else:
                await dialogue.go_in(tx, ctx, d, Step.NEWS, {}, "signed", kept=True)
    except StorageError as exc:
        log.warning("signature not saved error=%s user=%s", type(exc).__name__, ctx.user_tag)
        await ctx.say("sign_failed", dialogue.choices(ctx, SIGNING, d))
        return
    if signed is None:
        existing = await repo.get(ctx.user_key)
        if existing is not None:
            await _say_already_signed(ctx, existing)
        return
    log.info("signature recorded user=%s consent=%s", ctx.user_tag, version)
    await _receipt(ctx, signed)
    if ctx.dialogue is not None:
        await dialogue.ask(ctx, SIGNING, ctx.dialogue)


async def _replay_confirm(ctx: Context, done: Done) -> None:
    """The same press again (a platform re-delivering it, a double press): the same receipt."""
    if done.outcome == "cancelled":
        await ctx.say("sign_cancelled")
        return
    signature = await ctx.services.signatures.get(ctx.user_key)
    if signature is None:
        await ctx.say("expired_choice")
    elif done.outcome == "signed":
        await _receipt(ctx, signature)
    else:
        await _say_already_signed(ctx, signature)


async def _receipt(ctx: Context, signed: store.Signature) -> None:
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


# Step: the news


def _news_options(ctx: Context, d: Dialogue) -> list[Option]:
    return [
        Option("on", ctx.label("choice_news_yes"), YES, aliases="follow"),
        Option("off", ctx.label("choice_news_no"), NO, aliases="no_news"),
    ]


async def _news_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    """The answer to "receive the petition's news?": a consent of its own, stored apart from the signature."""
    await dialogue.close(ctx, d, value)
    if value == "on":
        await follow_here(ctx)
    else:
        removed = await ctx.services.contacts.unfollow(ctx.user_key)
        log.info("news declined user=%s removed=%s", ctx.user_tag, removed)
        await ctx.say("news_declined")


async def _replay_news(ctx: Context, done: Done) -> None:
    if done.outcome != "skipped":  # left unanswered: nothing was said then, nothing to say again
        await ctx.say("follow_on" if done.outcome == "on" else "news_declined")


async def follow_here(ctx: Context) -> None:
    chat = ctx.event.chat
    if chat.is_group:
        await tell_to_write_privately(ctx, "follow_in_private")
        return
    added = await ctx.services.contacts.follow(ctx.user_key, chat.transport, chat.id, ctx.lang, ctx.now)
    log.info("news followed user=%s new=%s", ctx.user_tag, added)
    await ctx.say("follow_on" if added else "follow_already")


SIGNING = dialogue.Flow.declare(
    FLOW,
    {
        Step.NAME: dialogue.Step(
            prompt=lambda ctx, d: ctx.t("sign_name_prompt"),
            options=_name_options,
            on_choice=_name_chosen,
            on_text=_name_typed,
            replay=_replay_name,
            names=True,
            help=lambda ctx, d: ctx.t("sign_name_help"),
        ),
        Step.TYPING: dialogue.Step(
            prompt=lambda ctx, d: ctx.t("sign_type_name"),
            options=_cancel_option,
            on_choice=_name_chosen,
            on_text=_name_typed,
            replay=_replay_name,
            names=True,
        ),
        Step.CONFIRM: dialogue.Step(
            prompt=_summary_prompt,
            reminder=_summary_reminder,
            options=_confirm_options,
            on_choice=_confirm_chosen,
            on_name=_name_typed,
            corrects=Step.NAME,
            replay=_replay_confirm,
            help=lambda ctx, d: ctx.t("sign_confirm_help"),
        ),
        Step.NEWS: dialogue.Step(
            prompt=lambda ctx, d: ctx.t("sign_news_question"),
            reminder=lambda ctx, d: ctx.t("sign_news_reminder"),
            options=_news_options,
            on_choice=_news_chosen,
            replay=_replay_news,
            optional=True,
            about=("suivre",),
            help=lambda ctx, d: ctx.t("sign_news_help"),
        ),
    },
)
