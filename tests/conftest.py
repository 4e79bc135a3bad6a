"""Shared fixtures: a real database per test, a clock the test moves, console chats.

Every test that takes `settings`, `bot` or `chat` (directly or through another
fixture) runs twice: on a SQLite file, and on a PostgreSQL database of its own
(`tests/postgres.py`). A test about SQLite's files (WAL bytes, file modes) says
`@pytest.mark.sqlite_only`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import string
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answers import AnswerIndex
from bot.app import Bot, build_bot
from bot.config import PROJECT_ROOT, Settings, load_settings
from bot.content import Content
from bot.transports.console import ConsoleTransport, ConsoleUser
from tests.postgres import PostgresServer, postgres_server

TEST_KEY = "test-pseudonym-key-0123456789abcdef"
BACKENDS = ("sqlite", "postgresql")

__all__ = ["postgres_server"]  # the session's PostgreSQL server fixture, `postgres`


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite's files; it runs on SQLite only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", BACKENDS[:1] if sqlite_only else BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    """The settings that select this test's database: none for SQLite, a fresh DATABASE_URL for PostgreSQL."""
    if request.param == "sqlite":
        yield {}
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database()
    yield {"database_url": url}
    server.drop_database(url)


class FakeClock:
    """Time that moves only when the test says so, or when the bot sleeps (the sleep then takes no time)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.current = start or dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
        self.mono = 1000.0

    def now(self) -> dt.datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.current += dt.timedelta(seconds=seconds)
        self.mono += seconds

    async def sleep(self, seconds: float) -> None:
        """A pacer's spacing or a rate-limit pause: time jumps ahead, other tasks get their turn."""
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


_build_index = AnswerIndex.build
_indexes: dict[tuple[Path, tuple[str, ...]], AnswerIndex] = {}


def _shared_index(content: Content, *args: Any, commands: Iterable[str] = (), **kwargs: Any) -> AnswerIndex:
    """The shipped campaign's index, built once per command list: building it is most of a bot's start-up.

    An index never changes once built, so sharing it between tests shares no state; any other
    content (a test's copy in a temporary folder) or setting gets its own index, as before.
    """
    names = tuple(commands)
    if args or kwargs or not content.folder.is_relative_to(PROJECT_ROOT / "content"):
        return _build_index(content, *args, commands=names, **kwargs)
    key = (content.folder, names)
    if key not in _indexes:
        _indexes[key] = _build_index(content, commands=names)
    return _indexes[key]


@pytest.fixture(autouse=True, scope="session")
def shared_answer_index() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AnswerIndex, "build", _shared_index)
        yield


class Chat:
    """One console user talking to the bot; each call returns what the user sees in reply."""

    @staticmethod
    def user(**fields: object) -> ConsoleUser:
        return ConsoleUser(**fields)  # type: ignore[arg-type]

    def __init__(self, bot: Bot, user: ConsoleUser) -> None:
        self.bot = bot
        self.out = io.StringIO()
        self.transport = ConsoleTransport(bot.services.for_transport(), bot.router, user, self.out)
        self._read = 0

    async def say(self, line: str) -> str:
        await self.transport.handle(line)
        return self.new_output()

    async def press(self, label_or_number: str | int) -> str:
        """Type a choice's number or label, as a console user does."""
        return await self.say(str(label_or_number))

    def new_output(self) -> str:
        text = self.out.getvalue()
        new, self._read = text[self._read :], len(text)
        return new


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_path": tmp_path / "petition.sqlite3", "pseudonym_key": TEST_KEY}
    values.update(overrides)
    return load_settings(env_file=None, **values)


@contextlib.asynccontextmanager
async def opened_bot(
    settings: Settings, clock: FakeClock | None = None, more_admins: frozenset[tuple[str, str]] = frozenset()
) -> AsyncIterator[Bot]:
    """A bot for the length of a `with` block: closed whatever happens in it."""
    b = await build_bot(settings, clock, more_admins)
    try:
        yield b
    finally:
        await b.close()


def says(bot: Bot, key: str, lang: str = "fr") -> str:
    """What a message of the content always says, whatever its values: its longest fixed line.

    Stories assert that the bot gave this answer (`says(bot, "cancelled") in reply`), not how
    the campaign words it today, so rewording a message breaks no story.
    """
    template = bot.services.content.template(lang, key)
    pieces = [
        line.replace("**", "").replace("__", "").strip(" :")
        for text, _, _, _ in string.Formatter().parse(template)
        for line in text.split("\n")
        if "[" not in line and "](" not in line
    ]
    fragment = max(pieces, key=len, default="")
    assert fragment, f"message {key!r} has no fixed text to recognise it by"
    return fragment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, object]) -> Settings:
    return make_settings(tmp_path, **backend)


@pytest.fixture
def admins() -> frozenset[tuple[str, str]]:
    """The bot's admins besides `ADMINS` (transport, user id): a test module overrides this fixture."""
    return frozenset()


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock, admins: frozenset[tuple[str, str]]) -> AsyncIterator[Bot]:
    async with opened_bot(settings, clock, admins) as b:
        yield b


@pytest.fixture
def chat(bot: Bot) -> Callable[..., Chat]:
    """Open a console chat: `chat()` for a private one, `chat(group="g1")` for a group."""

    def open_chat(**user: object) -> Chat:
        return Chat(bot, ConsoleUser(**user))  # type: ignore[arg-type]

    return open_chat
