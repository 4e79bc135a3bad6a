"""Admin commands: broadcasts (now or scheduled), their list and cancellation (the official count: official_count.py).

Declared with `admin=True`, so anyone not in ADMINS gets the unknown-command answer.
A broadcast is a dialogue: audience → text → a preview exactly as recipients will
see it, with their number → **Envoyer**. Confirming finishes the dialogue and
creates the broadcast in one transaction, keyed by the step's nonce: a second
press finds the dialogue gone and creates nothing. Every action is audited in the
transaction that performs it.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging

from bot import arguments, broadcast, dialogue, formatting
from bot.context import Context
from bot.markup import join
from storage import broadcasts as store
from storage import outbox
from storage.audit import record_in
from storage.broadcasts import BroadcastRepository
from storage.dialogues import Dialogue, finish_in
from storage.outbox import OutboxRepository
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
    d = await dialogue.start(ctx, FLOW, Step.AUDIENCE, {"send_at": send_at.isoformat() if send_at else None})
    choices = [ctx.step_choice(d, audience, ctx.label(f"audience_{audience}")) for audience in AUDIENCES]
    choices.append(ctx.step_choice(d, "cancel", ctx.label("choice_cancel_broadcast")))
    await ctx.say("broadcast_audience_prompt", choices)


class BroadcastFlow:
    name = FLOW

    async def on_choice(self, ctx: Context, d: Dialogue, value: str) -> None:
        if value == "cancel":
            if await dialogue.finish(ctx, d):
                await ctx.say("broadcast_abandoned")
            else:
                await ctx.say("expired_choice")
            return
        if d.step == Step.AUDIENCE.value and value in AUDIENCES:
            moved = await dialogue.advance(ctx, d, Step.TEXT, {**d.data, "audience": value})
            if moved is None:
                await ctx.say("expired_choice")
                return
            await ctx.say("broadcast_text_prompt", audience=ctx.label(f"audience_{value}"))
            return
        if d.step == Step.CONFIRM.value and value == "send":
            await _confirm(ctx, d)
            return
        await ctx.say("expired_choice")

    async def on_text(self, ctx: Context, d: Dialogue, text: str) -> None:
        if d.step != Step.TEXT.value:
            await ctx.say("broadcast_press_choice")
            return
        problem = broadcast.text_problem(text)
        if problem is not None:
            key, values = problem
            if "reason_key" in values:
                values = {"reason": ctx.t(str(values["reason_key"]), marker=values["marker"])}
            await ctx.say(key, (), **values)
            return
        audience = str(d.data["audience"])
        count = await broadcast.recipients(ctx.services, audience)
        if count == 0:
            await dialogue.finish(ctx, d)
            await ctx.say("broadcast_no_recipients")
            return
        moved = await dialogue.advance(ctx, d, Step.CONFIRM, {**d.data, "text": text.strip()})
        if moved is None:
            await ctx.say("expired_choice")
            return
        await ctx.say("broadcast_preview_header")
        await ctx.reply(broadcast.admin_text(text))
        send_at = d.data.get("send_at")
        zone = ctx.services.settings.zone
        when = formatting.date_time(dt.datetime.fromisoformat(send_at).astimezone(zone), ctx.lang) if send_at else ""
        await ctx.say(
            "broadcast_confirm_at" if send_at else "broadcast_confirm",
            [
                ctx.step_choice(moved, "send", ctx.label("choice_send")),
                ctx.step_choice(moved, "cancel", ctx.label("choice_cancel_broadcast")),
            ],
            count=formatting.number(count, ctx.lang),
            audience=ctx.label(f"audience_{audience}"),
            when=when,
        )


async def _confirm(ctx: Context, d: Dialogue) -> None:
    s = ctx.services
    send_at = dt.datetime.fromisoformat(d.data["send_at"]) if d.data.get("send_at") else ctx.now
    audience = str(d.data["audience"])
    later = send_at > ctx.now
    action = "broadcast.schedule" if later else "broadcast.send"
    async with s.db.transaction() as tx:
        if not await finish_in(tx, ctx.owner, d.nonce):
            created = None  # pressed twice: the first press already sent it
        else:
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
    ctx.dialogue = None
    if created is None:
        await ctx.say("expired_choice")
        return
    broadcast_id, count = created
    log.info("admin action=%s user=%s", action, ctx.user_tag)
    if later:
        when = formatting.date_time(send_at.astimezone(s.settings.zone), ctx.lang)
        sent = await ctx.say("broadcast_scheduled", id=broadcast_id, when=when, count=count)
    else:
        sent = await ctx.say("broadcast_started", id=broadcast_id, count=count)
    await BroadcastRepository(s.db).set_progress_message(broadcast_id, sent.message_id)
    if s.outbox is not None:
        s.outbox.wake()


async def list_broadcasts(ctx: Context) -> None:
    """/diffusions: recent and scheduled broadcasts with their progress."""
    if not await private_only(ctx):
        return
    s = ctx.services
    recent = await BroadcastRepository(s.db).recent(RECENT)
    if not recent:
        await ctx.say("broadcasts_none")
        return
    repo = OutboxRepository(s.db)
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
    b = await BroadcastRepository(s.db).get(broadcast_id)
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
    if s.outbox is not None:
        s.outbox.forget(broadcast_id)
    log.info("admin action=broadcast.cancel user=%s", ctx.user_tag)
    await ctx.say("cancel_broadcast_done", id=broadcast_id, count=formatting.number(cancelled, ctx.lang))
