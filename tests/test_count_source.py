"""The published count, polled from a real local HTTP server serving saved petition pages."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import Bot, build_bot
from bot.count_source import CountSourceError, parse_number, poll_count
from storage.count_history import CountHistoryRepository
from tests.conftest import FakeClock, make_settings

FIXTURES = Path(__file__).parent / "fixtures"


class PetitionSite:
    """A local petition site: `page` names the saved page served next, or a failure."""

    def __init__(self) -> None:
        self.page = "petition_fr.html"
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/petition", self._serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/petition"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.page == "500":
            return web.Response(status=500, text="Internal Server Error")
        if self.page == "slow":
            await asyncio.sleep(2)
        return web.Response(text=(FIXTURES / self.page).read_text(encoding="utf-8"), content_type="text/html")


@pytest.fixture
async def site() -> AsyncIterator[PetitionSite]:
    s = PetitionSite()
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def polled(tmp_path: Path, site: PetitionSite, clock: FakeClock) -> AsyncIterator[Bot]:
    bot = await build_bot(make_settings(tmp_path, count_source_url=site.url), clock)
    yield bot
    await bot.close()


async def official(bot: Bot) -> int:
    return (await bot.services.counts.totals()).official


async def history(bot: Bot) -> list[int]:
    points = await CountHistoryRepository(bot.services.db).since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    return [p.official for p in points]


@pytest.mark.parametrize(
    "page", ["petition_fr.html", "petition_fr_dots.html", "petition_fr_nbsp.html", "petition_en.html"]
)
async def test_the_count_is_read_in_french_and_english_formats(polled: Bot, site: PetitionSite, page: str) -> None:
    site.page = page
    await polled.services.counts.set_official(18_000, polled.services.clock.now())
    result = await poll_count(polled.services)
    assert result.value == 18_882 and result.changed
    assert await official(polled) == 18_882
    assert await history(polled) == [18_882]


async def test_a_rise_is_recorded_in_the_history(polled: Bot, site: PetitionSite, clock: FakeClock) -> None:
    await poll_count(polled.services)  # 18 882, as already published: nothing new
    assert await history(polled) == []
    site.page = "petition_grown.html"
    clock.advance(900)
    assert (await poll_count(polled.services)).value == 19_104
    assert await history(polled) == [19_104]


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("500", "HTTP 500"),
        ("slow", "did not answer in time"),
        ("petition_closed.html", "does not match"),
        ("petition_tenfold.html", "grew more than"),
        ("petition_dropped.html", "fell by more than 10"),
    ],
)
async def test_a_failed_or_implausible_poll_keeps_the_last_good_value(
    polled: Bot, site: PetitionSite, page: str, reason: str
) -> None:
    site.page = page
    result = await poll_count(polled.services, wait_seconds=0.5)
    assert result.value is None and reason in (result.error or "")
    assert await official(polled) == 18_882
    assert await history(polled) == []
    assert site.requests == 1


async def test_an_unreachable_site_keeps_the_last_good_value(tmp_path: Path, clock: FakeClock) -> None:
    bot = await build_bot(make_settings(tmp_path, count_source_url="http://127.0.0.1:9/petition"), clock)
    try:
        result = await poll_count(bot.services, wait_seconds=0.5)
        assert result.value is None and "unreachable" in (result.error or "")
        assert await official(bot) == 18_882
    finally:
        await bot.close()


async def test_a_poll_never_announces_a_milestone_from_an_implausible_value(polled: Bot, site: PetitionSite) -> None:
    from bot.milestones import check_milestones

    site.page = "petition_tenfold.html"
    await poll_count(polled.services, wait_seconds=0.5)
    assert await check_milestones(polled.services) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("18.882", 18_882),
        ("18 882", 18_882),
        ("18\u00a0882", 18_882),
        ("18\u202f882", 18_882),
        ("18,882", 18_882),
        ("18882", 18_882),
        ("1 018 882 ", 1_018_882),
        ("950", 950),
    ],
)
def test_numbers_are_parsed_the_french_and_english_ways(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["18,5", "1.2.3", "", "dix-huit mille", "18 88"])
def test_what_is_not_a_whole_number_is_refused(text: str) -> None:
    with pytest.raises(CountSourceError):
        parse_number(text)
