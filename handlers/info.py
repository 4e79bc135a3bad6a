"""Information commands: welcome, help, the petition, its timeline, the FAQ, the count, the language."""

from __future__ import annotations

from bot import formatting
from bot.content import LANGUAGES
from bot.context import Context
from bot.counts import next_goal
from bot.events import Choice
from bot.markup import Rich, join, parse, plain
from bot.router import ChoiceRoute


def command_list(ctx: Context, *, admin: bool = False) -> Rich:
    """The commands that work in this chat (private or group), one per line; `admin`: the admin ones."""
    lines = []
    for command in ctx.services.commands:
        if command.menu_key is None or command.admin != admin or not command.works_in(ctx.event.chat.is_group):
            continue
        lines.append(f"/{command.name_in(ctx.lang)} — {ctx.label(command.menu_key)}")
    return plain("\n".join(lines))


async def run_command(ctx: Context) -> None:
    """A choice that stands for a command (`cmd:<name>`): the menu, "withdraw my signature"."""
    name = ctx.args
    command = next((c for c in ctx.services.commands if name in c.names), None)
    if command is None or (command.admin and not ctx.is_admin):
        await ctx.say("expired_choice")
        return
    ctx.args = ""
    await command.handler(ctx)


COMMAND = ChoiceRoute("cmd", run_command)
MENU = (
    ("choice_petition", "petition"),
    ("choice_timeline", "chronologie"),
    ("choice_faq", "faq"),
    ("choice_count", "compteur"),
    ("choice_sign", "signer"),
    ("choice_help", "aide"),
)


def main_menu(ctx: Context) -> list[Choice]:
    """The main actions as choices, for those commands this bot has."""
    return [COMMAND.choice(ctx.label(key), name) for key, name in MENU if ctx.services.commands_include(name)]


async def welcome(ctx: Context) -> None:
    """/start: the user learns what the bot can do and picks a first step."""
    if ctx.args.strip().lower() in ("sign", "signer"):  # the deep link t.me/<bot>?start=sign
        signing = next((c for c in ctx.services.commands if "signer" in c.names), None)
        if signing is not None:
            ctx.args = ""
            await signing.handler(ctx)
            return
    await ctx.say("welcome", main_menu(ctx), title=ctx.services.content.petition.title)


async def show_help(ctx: Context) -> None:
    """/aide: what works here (a private chat or a group), in the user's language; admins also see theirs."""
    key = "help_group" if ctx.event.chat.is_group else "help"
    parts = [ctx.t(key, commands=command_list(ctx))]
    admin_commands = command_list(ctx, admin=True) if ctx.is_admin else None
    if admin_commands:
        parts.append(ctx.t("help_admin", commands=admin_commands))
    await ctx.reply(join(parts))


async def show_petition(ctx: Context) -> None:
    """/petition: the full text, verbatim, split by the transport if it is too long."""
    p = ctx.services.content.petition
    totals = await ctx.services.counts.totals()
    parts = [ctx.t("petition_title", title=p.title)]
    parts += [parse(paragraph.text) for paragraph in p.paragraphs]
    parts.append(ctx.t("petition_demands_intro", intro=p.demands_intro))
    parts += [parse(f"{d.number}/ {d.text}") for d in p.demands]
    if p.summary[ctx.lang]:  # a summary for readers of another language than the petition's
        parts.append(plain(p.summary[ctx.lang]))
    parts.append(ctx.t("petition_footer", count=formatting.number(totals.official, ctx.lang)))
    await ctx.reply(join(parts))
    ctx.answered = ctx.services.content.standing_for("petition")


async def show_timeline(ctx: Context) -> None:
    """/chronologie: the dated facts of the petition, oldest first."""
    p = ctx.services.content.petition
    entries = sorted(p.chronology, key=lambda e: e.sort_key)
    lines = [ctx.t("timeline_entry", date=e.date[ctx.lang], text=e.text[ctx.lang]) for e in entries]
    await ctx.reply(join([ctx.t("timeline_title", title=p.chronology_title[ctx.lang]), join(lines, "\n\n")]))
    ctx.answered = ctx.services.content.standing_for("chronologie")


async def show_count(ctx: Context) -> None:
    """/compteur: the published count, the bot's signatures, their sum and the next goal."""
    totals = await ctx.services.counts.totals()
    goal = next_goal(ctx.services.content.campaign, totals.total)
    if totals.official_at is None:
        when = ctx.t("count_official_at_publication")
    else:
        when = ctx.t("count_official_dated", date=formatting.date(totals.official_at, ctx.lang))
    await ctx.say(
        "count",
        total=formatting.number(totals.total, ctx.lang),
        official=formatting.number(totals.official, ctx.lang),
        official_when=when,
        bot=formatting.number(totals.bot, ctx.lang),
        next_goal=formatting.number(goal, ctx.lang),
    )
    ctx.answered = ctx.services.content.standing_for("compteur")


async def choose_language(ctx: Context) -> None:
    """/langue [fr|en]: set directly, or offer both as choices."""
    wanted = ctx.args.strip().lower()[:2]
    if not wanted:
        choices = [LANGUAGE.choice(ctx.label(f"choice_language_{lang}"), lang) for lang in LANGUAGES]
        await ctx.say("language_prompt", choices)
        return
    await set_language(ctx, wanted)


async def language_pressed(ctx: Context) -> None:
    await set_language(ctx, ctx.args)


LANGUAGE = ChoiceRoute("lang", language_pressed)


async def set_language(ctx: Context, lang: str) -> None:
    if lang not in LANGUAGES:
        await ctx.say("language_unknown")
        return
    await ctx.services.preferences.set_language(ctx.user_key, lang)
    ctx.lang = lang
    await ctx.say("language_set")
