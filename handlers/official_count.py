"""/compteur_officiel N: an admin sets the petition's published count by hand, with a safety net.

One mistyped digit must not reach every group as an announcement. A change of more
than 10 %, one that crosses more than one milestone, or one that would withdraw an
announced milestone is shown first (old and new count, what would be announced or
withdrawn) and waits for the admin's confirmation: a one-step dialogue (a step
table) whose confirmation closes it in the transaction that writes. The count, its history
point, the audit row and any withdrawal are written together, or not at all.
"""

from __future__ import annotations

import enum
import logging

from bot import arguments, dialogue, formatting, milestones
from bot.choices import NO, YES
from bot.context import Context
from bot.counts import set_official_in, totals_in
from bot.dialogue import Option
from bot.markup import Rich, join
from handlers.admin import private_only
from handlers.audiences import tell_milestone
from storage import broadcasts as store
from storage.audit import record_in
from storage.count_history import add_in
from storage.dialogues import Dialogue, Done, delete_in

log = logging.getLogger(__name__)

FLOW = "official_count"
MAX_UNCONFIRMED_CHANGE = 0.10  # a larger change is shown and confirmed first


class Step(enum.Enum):
    CONFIRM = "official_count.confirm"


def _number(ctx: Context, value: int) -> str:
    return formatting.number(value, ctx.lang)


async def set_official_count(ctx: Context) -> None:
    """/compteur_officiel N: a small change is saved at once; a large one is shown and confirmed first."""
    if not await private_only(ctx):
        return
    try:
        value = arguments.parse_count(ctx.args)
    except arguments.ArgumentError as problem:
        limit = problem.values.get("limit")
        values = {**problem.values, "limit": _number(ctx, limit)} if isinstance(limit, int) else problem.values
        await ctx.say(f"official_{problem.key}", (), **values)
        return
    s = ctx.services
    async with s.db.read() as tx:
        totals = await totals_in(tx, s.content)
        effect = await milestones.effect_in(tx, s.content.campaign, totals.total, totals.bot + value)
    # A new value replaces a confirmation still waiting: its button must not save the old one.
    pending = await s.dialogues.current(ctx.owner, ctx.now)
    waiting = pending if pending is not None and pending.name == FLOW else None
    if value == totals.official and not effect.withdraw:
        if waiting is not None:
            await s.dialogues.finish(ctx.owner)
        await ctx.say("official_count_unchanged", count=_number(ctx, value))
        return
    if not _needs_confirmation(totals.official, value, effect):
        await _save(ctx, value, totals.official, superseded=waiting)
        return
    # What the change would do is kept with the question, so asking it again shows the same.
    data = {
        "value": value,
        "from": totals.official,
        "withdraw": list(effect.withdraw),
        "announce": effect.announce,
        "crossed": effect.crossed,
    }
    await dialogue.start(ctx, OFFICIAL_COUNT, Step.CONFIRM, data)


def _needs_confirmation(old: int, new: int, effect: milestones.Effect) -> bool:
    return abs(new - old) > MAX_UNCONFIRMED_CHANGE * old or effect.crossed > 1 or bool(effect.withdraw)


def _preview(ctx: Context, d: Dialogue) -> Rich:
    """What the change would do, in the words the admin will see in groups."""
    old, value = int(d.data["from"]), int(d.data["value"])
    withdraw = [int(m) for m in d.data.get("withdraw", [])]
    announce, crossed = d.data.get("announce"), int(d.data.get("crossed", 0))
    if old == 0:
        change = ctx.label("official_count_change_new")
    else:
        percent = _number(ctx, round(abs(value - old) * 100 / old))
        change = ctx.label("official_count_change_up" if value > old else "official_count_change_down", percent=percent)
    effects: list[Rich] = []
    if withdraw:
        shown = ", ".join(_number(ctx, m) for m in withdraw)
        effects.append(ctx.t("official_count_effect_withdraw", milestones=shown))
    if announce is not None:
        effects.append(ctx.t("official_count_effect_announce", milestone=_number(ctx, int(announce))))
        if crossed > 1 and value > old:
            effects.append(ctx.t("official_count_effect_crossed", crossed=_number(ctx, crossed)))
    if not effects:
        effects.append(ctx.t("official_count_effect_none"))
    return ctx.t(
        "official_count_confirm",
        old=_number(ctx, old),
        new=_number(ctx, value),
        change=change,
        effects=join(effects, "\n"),
    )


def _options(ctx: Context, d: Dialogue) -> list[Option]:
    value = _number(ctx, int(d.data["value"]))
    return [
        Option("yes", ctx.label("choice_official_count_save", count=value), YES),
        Option("no", ctx.label("choice_official_count_cancel"), NO, "cancel"),
    ]


async def _chosen(ctx: Context, d: Dialogue, value: str) -> None:
    if value == "yes":
        await _save(ctx, int(d.data["value"]), int(d.data["from"]), d)
        return
    await dialogue.close(ctx, d, "cancelled")
    await _say_cancelled(ctx)


async def _say_cancelled(ctx: Context) -> None:
    totals = await ctx.services.counts.totals()
    await ctx.say("official_count_cancelled", count=_number(ctx, totals.official))


async def _replay(ctx: Context, done: Done) -> None:
    kind, _, value = done.outcome.partition(":")
    if kind == "saved":
        await ctx.say("official_count_set", count=_number(ctx, int(value)))
    elif kind == "changed":
        await ctx.say("official_count_changed_meanwhile", count=_number(ctx, int(value)))
    else:
        await _say_cancelled(ctx)


async def _save(
    ctx: Context, value: int, expected: int, confirmed: Dialogue | None = None, superseded: Dialogue | None = None
) -> None:
    """Count, history point, audit row and withdrawals in one transaction; then the milestone check."""
    s = ctx.services
    now = ctx.now
    withdrawn: list[store.MilestoneRecord] = []
    async with s.db.transaction() as tx:
        if superseded is not None:
            await delete_in(tx, ctx.owner, superseded.nonce)
        totals = await totals_in(tx, s.content)
        current = totals.official
        announced_before = await store.highest_announced_in(tx)
        if confirmed is not None:
            # A confirmation counts once: only the press that closes the dialogue writes (`Moved` otherwise).
            outcome = f"saved:{value}" if current == expected else f"changed:{current}"
            await dialogue.close_in_tx(tx, ctx, confirmed, outcome)
        if current == expected:
            await set_official_in(tx, value, now)
            await add_in(tx, now, value, totals.bot, "admin")
            withdrawn = await milestones.withdraw_above_in(tx, totals.bot + value, now)
            marks = [m.milestone for m in withdrawn]
            detail = f"value={value} was={expected}" + (f" withdrawn={marks}" if marks else "")
            await record_in(tx, ctx.user_tag, "count.official", detail, now)
    if confirmed is not None or superseded is not None:
        ctx.dialogue = None
    if current != expected:
        await ctx.say("official_count_changed_meanwhile", count=_number(ctx, current))
        return
    log.info("admin action=count.official user=%s withdrawn=%d", ctx.user_tag, len(withdrawn))
    parts = [ctx.t("official_count_set", count=_number(ctx, value))]
    if withdrawn:
        for record in withdrawn:
            if record.broadcast_id is not None:
                s.outbox.forget(record.broadcast_id)  # claimed deliveries of it are not sent either
        shown = ", ".join(_number(ctx, m.milestone) for m in withdrawn)
        parts.append(ctx.t("official_count_withdrawn", milestones=shown))
    await ctx.reply(join(parts))
    announced = await milestones.check_milestones(s)
    if announced is None:
        # The scheduler's own check (a count poll finishing now) may have announced it first:
        # the admin whose change crossed it is told all the same.
        crossed = milestones.reached(s.content.campaign, totals.bot + value)
        async with s.db.read() as tx:
            now_top = await store.highest_announced_in(tx)
        if crossed is not None and crossed == now_top and (announced_before is None or crossed > announced_before):
            announced = crossed
    if announced is not None:
        await tell_milestone(ctx, announced)


OFFICIAL_COUNT = dialogue.Flow.declare(
    FLOW,
    {
        Step.CONFIRM: dialogue.Step(
            prompt=_preview,
            reminder=lambda ctx, d: ctx.t("official_count_press_choice", count=_number(ctx, int(d.data["value"]))),
            options=_options,
            on_choice=_chosen,
            replay=_replay,
        )
    },
)
