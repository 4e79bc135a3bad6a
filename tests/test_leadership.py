"""The leader lease on PostgreSQL: one instance runs the jobs; when it goes, another takes over within 15 s.

Two `Leadership` components share one real PostgreSQL database, as two processes
would; each runs a recording stand-in for the scheduler. The server's side is
real: the lease is an advisory lock on a connection of its own, and "losing the
connection" is the server ending that session (`pg_terminate_backend`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_bot, components, served
from bot.leadership import LEASE_NAME, LeaderOnly, Leadership
from storage.db import Database, SqliteDatabase, open_database
from tests.conftest import make_settings
from tests.postgres import PostgresServer

FAILOVER_LIMIT = 15.0


class Jobs:
    """Stands for the scheduler: records when it runs."""

    name = "scheduler"
    leader_only = True

    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    async def start(self) -> None:
        self.running = True
        self.starts += 1

    async def stop(self) -> None:
        self.running = False


class Instance:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.jobs = Jobs()
        self.leadership = Leadership(db.lease(LEASE_NAME), check_seconds=0.5)
        self.part = self.leadership.only(self.jobs)

    async def start(self) -> None:
        await self.leadership.start()
        await self.part.start()

    async def stop(self) -> None:
        await self.part.stop()
        await self.leadership.stop()


@pytest.fixture
async def two(postgres: PostgresServer) -> AsyncIterator[tuple[Instance, Instance]]:
    url = postgres.new_database()
    dbs = [await open_database(Path("unused"), url) for _ in range(2)]
    first, second = Instance(dbs[0]), Instance(dbs[1])
    await first.start()
    await second.start()
    yield first, second
    for instance in (first, second):
        await instance.stop()
        await instance.db.close()
    postgres.drop_database(url)


async def wait_for(predicate, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "timed out"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_the_first_instance_leads_and_the_second_stands_by(two: tuple[Instance, Instance]) -> None:
    first, second = two
    assert first.leadership.is_leader and first.jobs.running
    assert not second.leadership.is_leader and not second.jobs.running
    assert first.part.healthy() and second.part.healthy()  # standing by is healthy
    await asyncio.sleep(1.5)  # several checks later: still exactly one
    assert first.jobs.running and not second.jobs.running


async def test_a_clean_stop_hands_the_lead_over(two: tuple[Instance, Instance]) -> None:
    first, second = two
    await first.stop()
    took = await wait_for(lambda: second.jobs.running, FAILOVER_LIMIT)
    assert took < 2.0 and second.leadership.is_leader


async def test_a_leader_that_loses_its_connection_steps_down_and_another_leads(
    two: tuple[Instance, Instance], postgres: PostgresServer
) -> None:
    first, second = two
    database = postgres_database(first.db)
    with postgres.admin() as conn:
        ended = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'petition-bot lease' AND datname = %s AND pid IN"
            " (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)",
            (database,),
        ).fetchall()
    assert len(ended) == 1  # the leader's lease session, and only it
    took = await wait_for(lambda: second.jobs.running and not first.jobs.running, FAILOVER_LIMIT)
    print(f"failover after a lost connection: {took:.1f} s")
    assert second.leadership.is_leader and not first.leadership.is_leader
    await asyncio.sleep(1.5)
    assert not first.jobs.running  # the old leader waits now: its lease is taken
    assert first.leadership.healthy()


async def test_with_sqlite_the_one_instance_always_leads(tmp_path: Path) -> None:
    db = await SqliteDatabase.open(tmp_path / "a.sqlite3")
    instance = Instance(db)
    await instance.start()
    assert instance.leadership.is_leader and instance.jobs.running
    await instance.stop()
    assert not instance.jobs.running
    await db.close()


def postgres_database(db: Database) -> str:
    return str(getattr(db, "url", "")).rsplit("/", 1)[1]


@pytest.mark.parametrize(("mode", "telegram_everywhere"), [("polling", False), ("webhook", True)])
async def test_what_runs_on_the_leader_only(tmp_path: Path, mode: str, telegram_everywhere: bool) -> None:
    """Webhook calls reach any instance; polling, the Matrix sync and the scheduler belong to the leader."""
    settings = make_settings(
        tmp_path,
        telegram_bot_token="123:abc",
        telegram_mode=mode,
        telegram_webhook_url="https://bot.example.org/hook",
        telegram_webhook_secret="s3cret",
        matrix_homeserver="https://matrix.example.org",
        matrix_user_id="@petition:example.org",
    )
    bot = await build_bot(settings, platforms=served(settings, None))
    try:
        parts = {part.name: part for part in components(bot)}
        assert next(iter(parts)) == "leadership"
        assert isinstance(parts["scheduler"], LeaderOnly) and isinstance(parts["matrix"], LeaderOnly)
        assert isinstance(parts["telegram"], LeaderOnly) is not telegram_everywhere
        assert bot.services.platforms == {"telegram", "matrix"}  # broadcasts reach both, from any instance
    finally:
        await bot.close()
