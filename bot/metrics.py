"""Prometheus metrics: what an operator watches, in counts only.

Labels are limited to small fixed sets chosen by the code (transport names,
error kinds, outbox statuses, job ids), never a user id, chat id, name or text,
so the metrics page can be shared with anyone who helps run the bot.

The registry belongs to this object, not to prometheus-client's global one: the
tests build many bots in one process, and a library we import must not be able
to add collectors to the page.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from storage.stats import StatsRepository

if TYPE_CHECKING:
    from bot.context import Services

__all__ = ["CONTENT_TYPE", "ERROR_KINDS", "Metrics"]

# What went wrong, coarsely: enough to pick the right section of docs/OPERATIONS.md.
ERROR_KINDS = ("storage", "delivery", "handler", "job")


@runtime_checkable
class Scheduled(Protocol):
    """What the metrics read from the scheduler component, when there is one."""

    last_success: dict[str, dt.datetime]

    def lag_seconds(self, now: dt.datetime) -> dict[str, float]: ...


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "petition_bot_updates_handled", "Inbound messages and presses handled", ["transport"], registry=r
        )
        self.replies = Counter("petition_bot_replies_sent", "Replies sent to users", ["transport"], registry=r)
        self.errors = Counter("petition_bot_errors", "Failures by kind", ["kind"], registry=r)
        self.rate_limits = Counter(
            "petition_bot_rate_limit_answers",
            "Rate-limit answers from a platform, to the outbox or to a transport's interactive replies",
            ["sender"],
            registry=r,
        )
        self.signatures = Gauge(
            "petition_bot_signatures", "Signatures: the official count and the bot's own", ["source"], registry=r
        )
        self.followers = Gauge("petition_bot_followers", "Supporters who opted in to news", ["transport"], registry=r)
        self.groups = Gauge(
            "petition_bot_subscribed_groups", "Groups and rooms with a subscription", ["transport"], registry=r
        )
        self.deliveries = Gauge(
            "petition_bot_outbox_deliveries", "Broadcast deliveries by status", ["status"], registry=r
        )
        self.count_poll_age = Gauge(
            "petition_bot_count_poll_age_seconds",
            "Seconds since the published count was last read successfully",
            registry=r,
        )
        self.job_lag = Gauge(
            "petition_bot_scheduler_job_lag_seconds", "How late each scheduled job is", ["job"], registry=r
        )
        self.up = Gauge("petition_bot_component_up", "1 when a component is healthy", ["component"], registry=r)
        self.leader = Gauge(
            "petition_bot_leader",
            "1 when this instance holds the leader lease (runs the scheduler, the outbox, polling, Matrix)",
            registry=r,
        )
        self._outbox_rate_limits_seen = 0
        self._labels_set: dict[int, set[str]] = {}

    # Called where things happen ---------------------------------------------

    def handled(self, transport: str, replies: int) -> None:
        self.updates.labels(transport).inc()
        if replies:
            self.replies.labels(transport).inc(replies)

    def error(self, kind: str) -> None:
        self.errors.labels(kind if kind in ERROR_KINDS else "handler").inc()

    def rate_limited(self, transport: str) -> None:
        """A transport was told to wait while answering a user (the outbox's are read from its stats)."""
        self.rate_limits.labels(transport).inc()

    # Read at scrape time ---------------------------------------------------

    async def refresh(
        self, services: Services, scheduler: Scheduled | None, health: dict[str, bool], leader: bool = True
    ) -> None:
        """Set the gauges from the database and the components, just before the page is rendered."""
        totals = await services.counts.totals()
        self.signatures.labels("official").set(totals.official)
        self.signatures.labels("bot").set(totals.bot)
        figures = await StatsRepository(services.db).figures()
        self._set_all(self.followers, figures.followers)
        self._set_all(self.groups, figures.groups)
        self._set_all(self.deliveries, figures.deliveries)
        # The outbox counts its own 429s; only the growth since the last scrape is added.
        seen = services.outbox.stats.rate_limited
        if seen > self._outbox_rate_limits_seen:
            self.rate_limits.labels("outbox").inc(seen - self._outbox_rate_limits_seen)
        self._outbox_rate_limits_seen = seen
        now = services.clock.now()
        if scheduler is not None:
            polled = scheduler.last_success.get("count_poll")
            if polled is not None:
                self.count_poll_age.set(max(0.0, (now - polled).total_seconds()))
            for job, lag in scheduler.lag_seconds(now).items():
                self.job_lag.labels(job).set(lag)
        for component, ok in health.items():
            self.up.labels(component).set(1 if ok else 0)
        self.leader.set(1 if leader else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _set_all(self, gauge: Gauge, values: dict[str, int]) -> None:
        seen = self._labels_set.setdefault(id(gauge), set())
        for label in seen - set(values):  # a figure that dropped to nothing reads 0, not its last value
            gauge.labels(label).set(0)
        for label, value in values.items():
            gauge.labels(label).set(value)
        seen.update(values)
