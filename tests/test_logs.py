"""Logs as journald or Loki receive them: one line per event, JSON on request, never a person's data.

Whole stories run as real processes (the console, and `petition-bot run` against the
Bot API stand-in); everything they write on standard error is then scanned for the
ids, names and texts the story used.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
from pathlib import Path

import pytest

from bot import logs
from bot.app import Bot
from bot.router import Router, Routes
from bot.transports.console import ConsoleTransport, ConsoleUser
from tests.ops_helpers import bot_process, clean_environment, free_port
from tests.telegram_stub import TelegramStub, User

USER_ID = 918273645
USER_NAME = "Adélaïde Secretname"
USERNAME = "adelaide_secret"
GROUP_ID = -1005550001234
QUESTION = "Pourquoi Microsoft héberge mes données confidentielles ?"


async def console_story(tmp_path: Path, typed: str, *args: str, **env: str) -> tuple[int, str, str]:
    process = await bot_process(
        str(tmp_path / "none.env"),
        "console",
        *args,
        stdin=asyncio.subprocess.PIPE,
        env=clean_environment(DATABASE_PATH=str(tmp_path / "data" / "petition.sqlite3"), **env),
    )
    out, err = await asyncio.wait_for(process.communicate(typed.encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_anonymous(log_text: str) -> None:
    for personal in (str(USER_ID), "Adélaïde", "Secretname", USERNAME, str(GROUP_ID), str(GROUP_ID)[5:], "héberge"):
        assert personal not in log_text, personal
    assert "confidentielles" not in log_text


async def test_json_logs_are_one_object_per_line_and_carry_no_personal_data(tmp_path: Path) -> None:
    story = f"/start\n{QUESTION}\n/compteur\n/diffuser\n1\nUn message secret pour Adélaïde\n/aide\n"
    code, out, err = await console_story(
        tmp_path, story, "--user", str(USER_ID), "--name", USER_NAME, "--admin", LOG_FORMAT="json", LOG_LEVEL="DEBUG"
    )
    assert code == 0, err
    assert "signatures au total" in out  # the story really ran (the /compteur reply)
    lines = err.splitlines()
    assert len(lines) >= 3  # start-up, migrations, commands: there is something to check
    for line in lines:
        entry = json.loads(line)
        assert isinstance(entry, dict)
        assert {"time", "level", "logger", "message"} <= set(entry)
        assert entry["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert_anonymous(err)

    code, _, group_err = await console_story(
        tmp_path,
        "/abonner\n@bot une question sur mes données confidentielles\n",
        "--user",
        str(USER_ID),
        "--name",
        USER_NAME,
        "--group",
        str(GROUP_ID),
        "--admin",
        LOG_LEVEL="DEBUG",
    )
    assert code == 0
    assert_anonymous(group_err)


async def test_text_logs_are_one_line_per_event(tmp_path: Path) -> None:
    code, _, err = await console_story(tmp_path, f"/start\n{QUESTION}\n", LOG_LEVEL="DEBUG")
    assert code == 0, err
    for line in err.splitlines():
        # "2026-11-29 10:00:00,000 LEVEL logger: message": a continuation line would not start with a date
        assert line[:2] == "20" and " " in line, line
    assert_anonymous(err)


async def test_a_telegram_story_logs_no_id_name_or_text(tmp_path: Path) -> None:
    stub = await TelegramStub().start()
    env = clean_environment(
        DATABASE_PATH=str(tmp_path / "data" / "petition.sqlite3"),
        TELEGRAM_BOT_TOKEN=stub.token,
        TELEGRAM_API_URL=stub.api_url,
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        COUNT_SOURCE_URL=f"http://127.0.0.1:{free_port()}/petition",
        ADMINS=f"telegram:{USER_ID}",
    )
    process = await bot_process(
        str(tmp_path / "none.env"),
        "run",
        stdout=asyncio.subprocess.DEVNULL,
        env=env,
    )
    try:
        ada = User(USER_ID, "Adélaïde", "Secretname", USERNAME)
        for text in ("/start", QUESTION, "/compteur", "/nimportequoi"):
            replies = len(stub.sent("sendMessage"))
            stub.push(stub.message_update(ada, text))
            await stub.wait_for(lambda: len(stub.sent("sendMessage")) > replies, 30)  # noqa: B023
        stub.push(stub.message_update(ada, "/abonner", chat_id=GROUP_ID, chat_type="supergroup"))
        await asyncio.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, err_bytes = await asyncio.wait_for(process.communicate(), 30)
    finally:
        await stub.close()
    err = err_bytes.decode()
    assert process.returncode == 0, err
    assert any("telegram started" in json.loads(line)["message"] for line in err.splitlines())
    for line in err.splitlines():
        assert isinstance(json.loads(line), dict)
    assert_anonymous(err)


class _Broken:
    """A handler with a bug whose exception message quotes what the user typed."""

    @staticmethod
    async def answer(ctx: object) -> None:
        try:
            {}["missing"]
        except KeyError as exc:
            raise ValueError(f"could not answer {QUESTION!r} for {USER_NAME}") from exc


def _line_of(text: str) -> int:
    return next(i for i, line in enumerate(Path(__file__).read_text().splitlines(), start=1) if text in line)


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_handler_bug_is_logged_with_its_stack_but_not_its_message(
    bot: Bot, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure("INFO", fmt)
    try:
        router = Router(Routes(free_text=_Broken.answer), bot.services)
        console = ConsoleTransport(
            bot.services.for_transport(), router, ConsoleUser(str(USER_ID), USER_NAME), io.StringIO()
        )
        await console.handle(QUESTION)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert "handler failed" in err
    raised, cause = _line_of('raise ValueError(f"could not answer'), _line_of('{}["missing"]')
    if fmt == "json":
        [entry] = [json.loads(line) for line in err.splitlines() if "handler failed" in line]
        assert entry["error"] == "ValueError"
        assert f"test_logs.py:{raised} in answer" in " ".join(entry["stack"])
        assert entry["caused_by"][0]["error"] == "KeyError"
        assert f"test_logs.py:{cause} in answer" in " ".join(entry["caused_by"][0]["stack"])
    else:
        assert f'test_logs.py", line {raised}, in answer' in err  # where the bug is: file, line, function
        assert f'test_logs.py", line {cause}, in answer' in err and "KeyError" in err and "ValueError" in err
        assert "router.py" in err  # the whole stack, not only the last frame
    assert_anonymous(err)  # the messages (the question, the name) are left out; code lines stay
    assert f"could not answer {QUESTION!r}" not in err and "KeyError: 'missing'" not in err
