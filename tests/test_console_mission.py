"""The whole mission in the console, as a newcomer tries it with no chat platform configured.

One bot, as `petition-bot console --admin --group g1` starts it: the console chat (a
private chat and a group), the scheduler and the outbox. The follower and the group
are the console's own chats; what the campaign sends them is printed, marked as the
campaign's. The petition page is a real HTTP page on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import re
import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from bot.app import Bot, build_bot, components
from bot.leadership import Leadership
from bot.scheduler import Scheduler
from bot.transports.console import ConsoleTransport, ConsoleUser
from tests.conftest import FakeClock, make_settings
from tests.ops_helpers import bot_process, clean_environment, run_bot

FROM_CAMPAIGN = "📣 Message de la campagne"
WAIT_SECONDS = 15.0


class PetitionPage:
    """The petition's page on 127.0.0.1, showing whatever count the story sets."""

    def __init__(self) -> None:
        self.count = "18 882"
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> PetitionPage:
        app = web.Application()
        app.router.add_get("/petition", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/petition"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.Response:
        body = f"<html><body><p class='count'>{self.count} signatures</p></body></html>"
        return web.Response(text=body, content_type="text/html")


@dataclass
class Console:
    """What the newcomer types (through a pipe, as from a terminal) and what they see."""

    bot: Bot
    transport: ConsoleTransport
    scheduler: Scheduler
    typing: io.TextIOWrapper
    screen: io.StringIO
    read: int = 0

    async def type(self, line: str, until: str) -> str:
        """Type a line, then wait until `until` is on screen; returns what appeared."""
        self.typing.write(line + "\n")
        self.typing.flush()
        return await self.wait_for(until)

    async def wait_for(self, text: str) -> str:
        async with asyncio.timeout(WAIT_SECONDS):
            while text not in self.screen.getvalue()[self.read :]:
                await asyncio.sleep(0.02)
        await self.settled()
        return self.new()

    async def settled(self) -> None:
        """Whatever the outbox owes the console now has been printed."""
        async with asyncio.timeout(WAIT_SECONDS):
            await self.bot.services.outbox.settled("console")
            await self.bot.router.drain(WAIT_SECONDS)
        await asyncio.sleep(0.05)  # the last delivery's line and the final progress edit

    def new(self) -> str:
        text = self.screen.getvalue()
        seen, self.read = text[self.read :], len(text)
        return seen

    async def run_job(self, job_id: str) -> None:
        """Run a scheduled job now, as its trigger would."""
        [job] = [func for found, func, _ in self.scheduler.jobs() if found == job_id]
        await job()


@pytest.fixture
async def page() -> AsyncIterator[PetitionPage]:
    p = await PetitionPage().start()
    yield p
    await p.stop()


@pytest.fixture
async def console(tmp_path: Path, page: PetitionPage, clock: FakeClock) -> AsyncIterator[Console]:
    # 11:00 in Paris: outside the quiet hours, so announcements leave at once.
    settings = make_settings(tmp_path, count_source_url=page.url)
    user = ConsoleUser(id="1", name="Camille", admin=True, group="g1")
    bot = await build_bot(settings, clock, frozenset({("console", "1")}))
    parts = [getattr(p, "inner", p) for p in components(bot, user)]  # the scheduler runs on the leader
    assert [type(p) for p in parts] == [Leadership, ConsoleTransport, Scheduler]  # what `petition-bot console` runs
    read_fd, write_fd = os.pipe()
    screen = io.StringIO()
    source = open(read_fd, encoding="utf-8")
    transport = ConsoleTransport(
        bot.services.for_transport(), bot.router, user, screen, source=source, offers=bot.services.offers
    )
    scheduler = parts[2]
    assert isinstance(scheduler, Scheduler)
    typing = open(write_fd, "w", encoding="utf-8")
    await transport.start()
    await scheduler.start()
    story = Console(bot, transport, scheduler, typing, screen)
    try:
        yield story
    finally:
        typing.close()
        await scheduler.stop()
        await transport.stop()
        await bot.close()


async def test_a_newcomer_sees_milestones_broadcasts_and_the_digest_in_the_console(
    console: Console, page: PetitionPage, tmp_path: Path
) -> None:
    # A group subscribes, the same person follows the news in their private chat.
    assert "ce groupe recevra" in await console.type("/abonner", until="/desabonner")
    await console.type(":prive", until="conversation privée")
    assert "vous recevrez les nouvelles" in await console.type("/suivre", until="/nepassuivre")

    # An admin sets the official count over 19 000: the announcement reaches both, once each.
    seen = await console.type("/compteur_officiel 19 050", until="19\u202f000 signatures !")
    await console.settled()
    seen += console.new()
    assert "Compteur officiel mis à jour : 19\u202f050 signatures" in seen
    assert seen.count(FROM_CAMPAIGN) == 2
    assert f"{FROM_CAMPAIGN}, reçu dans le groupe g1 :\n🎉 19\u202f000 signatures !" in seen
    assert f"{FROM_CAMPAIGN}, reçu dans votre conversation privée avec le bot :\n🎉 19\u202f000" in seen
    assert seen.count("19\u202f000 signatures !") == 2

    # The petition page dips under 19 000, then rises over it again: polled, nothing is announced twice.
    page.count = "18 990"
    await console.run_job("count_poll")
    assert (await console.bot.services.counts.totals()).official == 18_990
    page.count = "19 104"
    await console.run_job("count_poll")
    assert (await console.bot.services.counts.totals()).official == 19_104  # the poll moved the count
    await console.run_job("milestones")
    await console.settled()
    assert FROM_CAMPAIGN not in console.new()
    assert "19\u202f104 signatures au total" in await console.type("/compteur", until="Prochain objectif")

    # An admin broadcast: preview, Envoyer, both chats receive it, the progress line says it is done.
    await console.type("/diffuser", until="À qui l'envoyer")
    await console.type("Les deux", until="Écrivez maintenant le message")
    preview = await console.type("Rassemblement **samedi** à 14 h !", until="[1] Envoyer")
    assert "Envoyer ce message à 2 destinataire(s) (groupes et abonnés), maintenant ?" in preview
    sent = await console.type("Envoyer", until="↻ Diffusion terminée")
    assert sent.count(FROM_CAMPAIGN) == 2 and sent.count("Rassemblement samedi à 14 h !") == 2
    assert "Diffusion n° 2 lancée vers 2 destinataire(s)" in sent
    assert "Envoyés : 2 · Échecs : 0" in sent.split("↻ Diffusion terminée")[1]

    # The daily digest, now: its text, and its chart saved as a PNG in the data folder.
    shown = await console.type("/point", until="[1] Envoyer maintenant")
    assert "Signatures au total : 19\u202f104" in shown
    assert "1 groupe(s) abonné(s) le recevront à 18:00" in shown
    [path] = re.findall(r"🖼 Image enregistrée : (\S+\.png)", shown)
    assert Path(path).parent == tmp_path / "console-images"
    assert Path(path).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(path) as chart:
        chart.load()
        assert chart.format == "PNG" and chart.size == (800, 450)
    sent_now = await console.type("Envoyer maintenant", until="Point quotidien envoyé maintenant à 1 groupe(s)")
    await console.settled()
    sent_now += console.new()
    assert f"{FROM_CAMPAIGN}, reçu dans le groupe g1 :\n📊 La pétition aujourd'hui" in sent_now
    assert sent_now.count(FROM_CAMPAIGN) == 1  # the digest goes to groups only
    assert "le prochain partira demain à 18:00" in await console.type("/point", until="demain")


async def test_with_nobody_to_receive_it_the_admin_is_told_why(console: Console) -> None:
    await console.type(":prive", until="conversation privée")
    await console.type("/diffuser", until="À qui l'envoyer")
    await console.type("Les deux", until="Écrivez maintenant le message")
    seen = await console.type("Bonjour", until="diffusion abandonnée")
    assert "Personne ne recevrait ce message pour l'instant (groupes et abonnés)" in seen
    assert "- console (en marche) : personnes qui suivent les nouvelles : 0 ; groupes abonnés : 0" in seen
    assert "/suivre dans une conversation privée avec moi, /abonner dans un groupe" in seen


def _cli(tmp_path: Path, args: list[str], stdin: str, **env: str) -> str:
    environment = clean_environment(DATABASE_PATH=str(tmp_path / "data" / "petition.sqlite3"), **env)
    result = run_bot(tmp_path / "none.env", args, stdin, environment)
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_piped_lines_see_the_announcement_they_caused_before_the_console_exits(tmp_path: Path) -> None:
    out = _cli(tmp_path, ["console", "--admin"], "/suivre\n/compteur_officiel 19050\n", QUIET_HOURS="none")
    assert out.count(f"{FROM_CAMPAIGN}, reçu dans votre conversation privée avec le bot :") == 1
    assert out.index("Compteur officiel mis à jour") < out.index("🎉 19\u202f000 signatures !")
    again = _cli(tmp_path, ["console", "--admin"], "/compteur_officiel 19060\n", QUIET_HOURS="none")
    assert FROM_CAMPAIGN not in again  # announced once, ever


def test_in_quiet_hours_the_announcement_waits_and_nothing_hangs(tmp_path: Path) -> None:
    hour = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).hour
    quiet = f"{hour:02d}:00-{(hour + 2) % 24:02d}:00"  # now is in the quiet hours
    out = _cli(tmp_path, ["console", "--admin"], "/suivre\n/compteur_officiel 19050\n", QUIET_HOURS=quiet)
    assert "Compteur officiel mis à jour" in out and FROM_CAMPAIGN not in out


async def test_run_without_a_token_polls_the_page_and_announces_in_the_console(
    tmp_path: Path, page: PetitionPage
) -> None:
    """The issue's story: `run` with a local page at 19 500 moves the count and announces 19 000."""
    _cli(tmp_path, ["console"], "/suivre\n")
    page.count = "19 500"
    process = await bot_process(
        str(tmp_path / "none.env"),
        "run",
        stdin=asyncio.subprocess.PIPE,
        env=clean_environment(
            DATABASE_PATH=str(tmp_path / "data" / "petition.sqlite3"),
            COUNT_SOURCE_URL=page.url,
            COUNT_POLL_MINUTES="1",
            QUIET_HOURS="none",
        ),
    )
    assert process.stdout is not None and process.stdin is not None
    seen = b""
    async with asyncio.timeout(30):
        while "🎉 19\u202f000 signatures !".encode() not in seen:
            chunk = await process.stdout.read(4096)
            assert chunk, seen.decode()
            seen += chunk
    process.stdin.write(b"/compteur\n")
    process.stdin.close()
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    text = (seen + out).decode()
    assert f"{FROM_CAMPAIGN}, reçu dans votre conversation privée avec le bot :" in text
    assert "19\u202f500 signatures au total" in text


async def test_the_admin_learns_where_and_when_a_crossed_milestone_is_announced(
    console: Console, clock: FakeClock
) -> None:
    await console.type(":prive", until="conversation privée")
    told = await console.type("/compteur_officiel 19 050", until="Objectif 19\u202f000 franchi")
    assert "personne ne reçoit encore les annonces" in told and "- console (en marche)" in told
    assert FROM_CAMPAIGN not in told
    await console.type("/suivre", until="/nepassuivre")
    clock.current = clock.current.replace(hour=22, minute=30)  # 23:30 in Paris: quiet hours
    told = await console.type("/compteur_officiel 20 010", until="Objectif 20\u202f000 franchi")
    assert "son annonce partira le 30 novembre 2026 à 08:00, à la fin des heures calmes (22:00-08:00)" in told
    assert "vers 1 destinataire(s)" in told and FROM_CAMPAIGN not in told


def test_the_banner_says_where_the_campaign_writes_and_how_to_reach_the_private_chat(tmp_path: Path) -> None:
    out = _cli(tmp_path, ["console", "--group", "g1"], "/abonner\n:prive\n/suivre\n")
    banner = out.split("\n\n")[0]
    assert "s'affiche ici, précédé de 📣" in banner
    assert "groupe g1" in banner and ":prive" in banner and "--admin" in banner
    assert "Seuls les administrateurs de ce groupe" in out  # a plain member, as the banner said
    assert "vous recevrez les nouvelles de la pétition ici" in out  # :prive reached the private chat
