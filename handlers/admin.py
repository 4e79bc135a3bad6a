"""Admin commands: broadcasts (now or scheduled), their list and cancellation (the official count: official_count.py).

Declared with `admin=True`, so anyone not in ADMINS gets the unknown-command answer.
A broadcast is a dialogue (a step table): audience → text → a preview exactly as
recipients will see it, with their number → **Envoyer**. Confirming closes the
dialogue and creates the broadcast in one transaction: a second press loses the
compare-and-set, creates nothing and is told what the first one said. Every
action is audited in the transaction that performs it.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging

from bot import arguments, broadcast, dialogue, formatting
from bot.choices import NO, YES
from bot.context import Context
from bot.dialogue import Option
from bot.events import Sent
from bot.markup import Rich, join
from handlers.audiences import platforms_report
from storage import broadcasts as store
from storage import outbox
from storage.audit import record_in
from storage.dialogues import Dialogue, Done
from storage.subscriptions import AUDIENCES

log = logging.getLogger(__name__)

FLOW = "broadcast"
RECENT = 10


class Step(enum.Enum):
    AUDIENCE = "broadcast.audience"
    TEXT = "broadcast.text"
    CONFIRM = "broadcast.confirm"


async def private_only(ctx: Context) -> bool:
    """Admin commands act on every group: typed in a group by mistake, they do nothing."""
    if ctx.event.chat.is_group:
        await ctx.say("admin_private_only")
        return False
    return True


async def start_broadcast(ctx: Context) -> None:
    """/diffuser: the admin picks the audience, writes the text, sees the preview, then sends."""
    if await private_only(ctx):
        await _open(ctx, None)


async def schedule_broadcast(ctx: Context) -> None:
    """/programmer AAAA-MM-JJ HH:MM: the same as /diffuser, sent at that local time."""
    if not await private_only(ctx):
        return
    zone = ctx.services.settings.zone
    try:
        send_at = arguments.parse_schedule(ctx.args, zone, ctx.now)
    except arguments.ArgumentError as problem:
        values = {
            name: formatting.date_time(value, ctx.lang) if isinstance(value, dt.datetime) else value
            for name, value in problem.values.items()
        }
        await ctx.say(problem.key, (), zone=zone.key, **values)
        return
    await _open(ctx, send_at)


async def _open(ctx: Context, send_at: dt.datetime | None) -> None:
    await dialogue.start(ctx, BROADCAST, Step.AUDIENCE, {"send_at": send_at.isoformat() if send_at else None})


def _recipients(ctx: Context, d: Dialogue) -> str:
    return ctx.label(f"recipients_{d.data.get('audience', 'both')}")


def _cancel_option(ctx: Context) -> Option:
    return Option("cancel", ctx.label("choice_cancel_broadcast"), NO, "cancel")


def _audience_options(ctx: Context, d: Dialogue) -> list[Option]:
    return [*(Option(a, ctx.label(f"audience_{a}"), aliases=f"audience_{a}") for a in AUDIENCES), _cancel_option(ctx)]


async def _abandon(ctx: Context, d: Dialogue) -> None:
    await dialogue.close(ctx, d, "abandoned")
    await ctx.say("broadcast_abandoned")


async def _audience_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    if value == "cancel":
        await _abandon(ctx, d)
        return
    await dialogue.go(ctx, BROADCAST, d, Step.TEXT, {**d.data, "audience": value})


async def _text_typed(ctx: Context, d: Dialogue, text: str) -> None:
    problem = broadcast.text_problem(text)
    if problem is not None:
        key, values = problem
        if "reason_key" in values:
            values = {"reason": ctx.t(str(values["reason_key"]), marker=values["marker"])}
        await ctx.say(key, dialogue.choices(ctx, BROADCAST, d), **values)
        return
    count = await broadcast.recipients(ctx.services, str(d.data["audience"]))
    if count == 0:
        await dialogue.close(ctx, d, f"no_recipients:{d.data['audience']}")
        await _say_no_recipients(ctx, str(d.data["audience"]))
        return
    await dialogue.go(ctx, BROADCAST, d, Step.CONFIRM, {**d.data, "text": text.strip(), "count": count})


def _when(ctx: Context, d: Dialogue) -> str:
    send_at = d.data.get("send_at")
    zone = ctx.services.settings.zone
    return formatting.date_time(dt.datetime.fromisoformat(send_at).astimezone(zone), ctx.lang) if send_at else ""


def _preview(ctx: Context, d: Dialogue) -> list[Rich]:
    """The header, the message exactly as recipients will see it, then the question."""
    return [ctx.t("broadcast_preview_header"), broadcast.admin_text(str(d.data["text"])), _confirm_question(ctx, d)]


def _confirm_question(ctx: Context, d: Dialogue) -> Rich:
    return ctx.t(
        "broadcast_confirm_at" if d.data.get("send_at") else "broadcast_confirm",
        count=formatting.number(int(d.data.get("count", 0)), ctx.lang),
        audience=_recipients(ctx, d),
        when=_when(ctx, d),
    )


def _confirm_options(ctx: Context, d: Dialogue) -> list[Option]:
    return [Option("send", ctx.label("choice_send"), YES, "send"), _cancel_option(ctx)]


async def _confirm_chosen(ctx: Context, d: Dialogue, value: str) -> None:
    if value != "send":
        await _abandon(ctx, d)
        return
    s = ctx.services
    send_at = dt.datetime.fromisoformat(d.data["send_at"]) if d.data.get("send_at") else ctx.now
    audience = str(d.data["audience"])
    later = send_at > ctx.now
    action = "broadcast.schedule" if later else "broadcast.send"
    async with s.db.transaction() as tx:
        created = await broadcast.enqueue(
            tx,
            s,
            store.NewBroadcast(
                kind=store.MESSAGE,
                audience=audience,
                body={"markup": d.data["text"], "admin_lang": ctx.lang},
                dedup_key=f"admin:{ctx.owner[:16]}:{d.nonce}",
                created_by=ctx.user_tag,
                created_at=ctx.now,
                send_at=send_at,
                admin_transport=ctx.event.chat.transport,
                admin_chat_id=ctx.event.chat.id,
            ),
            send_at,
        )
        if created is not None:
            await record_in(tx, ctx.user_tag, action, f"id={created[0]} audience={audience}", ctx.now)
        # Closing the dialogue is the compare-and-set: a second press rolls its broadcast back and is answered alike.
        outcome = "abandoned" if created is None else f"sent:{created[0]}:{created[1]}"
        await dialogue.close_in_tx(tx, ctx, d, outcome)
    if created is None:
        await ctx.say("broadcast_abandoned")
        return
    broadcast_id, count = created
    log.info("admin action=%s user=%s", action, ctx.user_tag)
    sent = await _say_sent(ctx, broadcast_id, count, send_at)
    await s.broadcasts.set_progress_message(broadcast_id, sent.message_id)
    s.outbox.wake()


async def _say_sent(ctx: Context, broadcast_id: int, count: int, send_at: dt.datetime) -> Sent:
    if send_at > ctx.now:
        when = formatting.date_time(send_at.astimezone(ctx.services.settings.zone), ctx.lang)
        return await ctx.say("broadcast_scheduled", id=broadcast_id, when=when, count=count)
    return await ctx.say("broadcast_started", id=broadcast_id, count=count)


async def _replay(ctx: Context, done: Done) -> None:
    """Confirming again (a re-delivered press): the same answer, nothing sent twice."""
    kind, _, rest = done.outcome.partition(":")
    if kind == "sent":
        broadcast_id, _, count = rest.partition(":")
        b = await ctx.services.broadcasts.get(int(broadcast_id))
        if b is not None:
            await _say_sent(ctx, b.id, int(count), b.send_at)
            return
    if kind == "no_recipients":
        await _say_no_recipients(ctx, rest or "both")
        return
    await ctx.say("broadcast_abandoned")


async def _say_no_recipients(ctx: Context, audience: str) -> None:
    """Nobody would receive it: the admin also sees why, platform by platform."""
    platforms = await platforms_report(ctx)
    await ctx.say("broadcast_no_recipients", audience=ctx.label(f"recipients_{audience}"), platforms=platforms)


async def _replay_if_ended(ctx: Context, done: Done) -> None:
    if done.outcome != "next":
        await _replay(ctx, done)


BROADCAST = dialogue.Flow.declare(
    FLOW,
    {
        Step.AUDIENCE: dialogue.Step(
            prompt=lambda ctx, d: ctx.t("broadcast_audience_prompt"),
            options=_audience_options,
            on_choice=_audience_chosen,
            replay=_replay_if_ended,
        ),
        Step.TEXT: dialogue.Step(
            prompt=lambda ctx, d: ctx.t("broadcast_text_prompt", audience=_recipients(ctx, d)),
            options=lambda ctx, d: [_cancel_option(ctx)],
            on_choice=_audience_chosen,
            on_text=_text_typed,
            replay=_replay_if_ended,
            questions=False,  # whatever the admin writes is the message, questions included
        ),
        Step.CONFIRM: dialogue.Step(
            prompt=_preview,
            reminder=_confirm_question,
            options=_confirm_options,
            on_choice=_confirm_chosen,
            replay=_replay,
        ),
    },
)


async def list_broadcasts(ctx: Context) -> None:
    """/diffusions: recent and scheduled broadcasts with their progress."""
    if not await private_only(ctx):
        return
    s = ctx.services
    recent = await s.broadcasts.recent(RECENT)
    if not recent:
        await ctx.say("broadcasts_none")
        return
    repo = s.deliveries
    lines = [ctx.t("broadcasts_title")]
    for b in recent:
        p = await repo.progress(b.id)
        status = b.status
        if status == store.ACTIVE:
            status = "scheduled" if b.send_at > ctx.now else "sending"
        lines.append(
            ctx.t(
                "broadcasts_line",
                id=b.id,
                kind=ctx.label(f"broadcast_kind_{b.kind}"),
                status=ctx.label(f"broadcast_status_{status}"),
                sent=formatting.number(p.sent, ctx.lang),
                total=formatting.number(p.total, ctx.lang),
                failed=formatting.number(p.failed + p.gone, ctx.lang),
                when=formatting.date_time(b.send_at.astimezone(s.settings.zone), ctx.lang),
            )
        )
    await ctx.reply(join(lines, "\n"))


async def cancel_broadcast(ctx: Context) -> None:
    """/annuler_diffusion N: deliveries not yet sent are cancelled."""
    if not await private_only(ctx):
        return
    s = ctx.services
    try:
        broadcast_id = arguments.parse_broadcast_id(ctx.args)
    except arguments.ArgumentError as problem:
        await ctx.say(problem.key, (), **problem.values)
        return
    b = await s.broadcasts.get(broadcast_id)
    if b is None:
        await ctx.say("cancel_broadcast_unknown", id=broadcast_id)
        return
    async with s.db.transaction() as tx:
        stopped = await store.cancel_in(tx, broadcast_id, ctx.now)
        cancelled = await outbox.cancel_in(tx, broadcast_id, ctx.now) if stopped else 0
        if stopped:
            await record_in(tx, ctx.user_tag, "broadcast.cancel", f"id={broadcast_id} cancelled={cancelled}", ctx.now)
    if not stopped:
        await ctx.say("cancel_broadcast_not_active", id=broadcast_id)
        return
    s.outbox.forget(broadcast_id)
    log.info("admin action=broadcast.cancel user=%s", ctx.user_tag)
    await ctx.say("cancel_broadcast_done", id=broadcast_id, count=formatting.number(cancelled, ctx.lang))
