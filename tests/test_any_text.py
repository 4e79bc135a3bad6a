"""Whatever anyone types, into any admin command or any step that waits for text, the bot answers,
never fails, and never saves half of something.

Property-based (Hypothesis): arbitrary Unicode, control and bidi characters, digits of
every script, near-miss numbers and dates. After each example the database must be
whole: counters match their rows, every count change has its history point and its
audit row, every admin broadcast has its audit row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Bot, build_bot
from tests.conftest import Chat, FakeClock, make_settings
from tests.outbox_fakes import RecordingPlatform

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as people and typos produce it: anything, plus near-misses of what the parsers expect.
digits = st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９۰۱۲۳߀१२")
separators = st.sampled_from([" ", "\u00a0", "\u202f", ".", ",", "'", "_", "\n", ""])
numberish = st.lists(st.one_of(digits, separators), min_size=1, max_size=40).map("".join)
dateish = st.builds(
    lambda y, mo, d, h, mi, sep: f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}",
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.sampled_from([" ", "T", "  ", "\t"]),
)
anything = st.one_of(st.text(max_size=300), st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
typed = st.one_of(anything, numberish, dateish)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Bot, Chat]]:
    clock = FakeClock()
    bot = await build_bot(make_settings(tmp_path, flood_max_per_minute=10_000), clock, frozenset({("console", "1")}))
    platform = RecordingPlatform()
    bot.services.outbounds["console"] = platform
    await Chat(bot, Chat.user(group="g1", admin=True)).say("/abonner")
    try:
        yield bot, Chat(bot, Chat.user(id="1", name="Admin"))
    finally:
        await bot.close()


def failures(bot: Bot) -> float:
    """Handler bugs and storage failures the router caught (the user saw "a technical problem")."""
    registry = bot.services.metrics.registry
    return sum(
        registry.get_sample_value("petition_bot_errors_total", {"kind": k}) or 0.0 for k in ("handler", "storage")
    )


async def assert_whole(bot: Bot) -> None:
    """Nothing half-saved: every derived figure agrees with what it is derived from."""
    async with bot.services.db.read() as tx:

        async def one(sql: str) -> int:
            row = await tx.fetchone(sql)
            assert row is not None
            return int(row[0] or 0)

        signatures = await one("SELECT COUNT(*) FROM signatures")
        assert await one("SELECT value FROM counters WHERE name = 'signatures'") == signatures
        assert await one("SELECT SUM(signed) - SUM(withdrawn) FROM daily_counts") == signatures
        changes = await one("SELECT COUNT(*) FROM count_history WHERE source = 'admin'")
        assert await one("SELECT COUNT(*) FROM audit_log WHERE action = 'count.official'") == changes
        official = await tx.fetchone("SELECT value FROM kv WHERE key = 'count.official'")
        last = await tx.fetchone("SELECT official FROM count_history WHERE source = 'admin' ORDER BY id DESC LIMIT 1")
        assert (official is None) == (last is None)
        if official is not None and last is not None:
            assert int(official[0]) == int(last[0])
        messages = await one("SELECT COUNT(*) FROM broadcasts WHERE kind = 'message'")
        audited = await one("SELECT COUNT(*) FROM audit_log WHERE action IN ('broadcast.send', 'broadcast.schedule')")
        assert messages == audited
        assert await one("SELECT COUNT(*) FROM milestones") <= 4  # never one row per milestone skipped


async def answered(bot: Bot, admin: Chat, line: str) -> str:
    before = failures(bot)
    seen = await admin.say(line)
    assert seen.strip(), f"no answer to {line!r}"
    assert failures(bot) == before, f"a failure answering {line!r}: {seen!r}"
    return seen


async def reset(bot: Bot, admin: Chat) -> None:
    await admin.say("/annuler")
    await assert_whole(bot)


@pytest.mark.parametrize(
    "command",
    [
        "/compteur_officiel",
        "/official_count",
        "/annuler_diffusion",
        "/programmer",
        "/schedule",
        "/diffusions",
        "/point",
        "/langue",
        "/abonner",
    ],
)
@given(text=typed)
@EXAMPLES
async def test_any_argument_to_a_command_is_answered_and_saves_nothing_half(
    world: tuple[Bot, Chat], command: str, text: str
) -> None:
    bot, admin = world
    seen = await answered(bot, admin, f"{command} {text}")
    if "Vérifiez avant d'enregistrer" in seen:
        await answered(bot, admin, "1")  # confirm the large change: still whole
    await reset(bot, admin)


@given(text=typed)
@EXAMPLES
async def test_any_text_at_any_step_is_answered_and_saves_nothing_half(world: tuple[Bot, Chat], text: str) -> None:
    bot, admin = world
    steps = [
        ["/signer", "3"],  # typing a name
        ["/signer"],  # the name's choices: words instead of a press
        ["/diffuser", "1"],  # an admin's broadcast text
        ["/compteur_officiel 500 000"],  # a large change waiting for its confirmation
        ["/oublier"],  # a yes/no confirmation
        [],  # a free question
    ]
    for before in steps:
        for line in before:
            await answered(bot, admin, line)
        seen = await answered(bot, admin, text)
        if "Envoyer ce message à" in seen:
            await answered(bot, admin, "Envoyer")
        await reset(bot, admin)
