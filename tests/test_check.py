"""`petition-bot check` and `run`'s pre-flight, as a volunteer runs them: a real process, real HTTP on 127.0.0.1.

Telegram is the local Bot API stand-in; Matrix is a small responder answering
`whoami` like Synapse (the real homeserver is in test_check_synapse.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.transports.matrix_platform import SESSION_KEY
from storage.db import SqliteDatabase
from storage.kv import KeyValueRepository
from tests.ops_helpers import (
    MATRIX_TOKEN,
    MATRIX_USER,
    ROOT,
    MatrixWhoami,
    can_mount,
    clean_environment,
    cli,
    fill,
    filled_campaign,
    free_port,
    small_tmpfs,
    write_env,
)
from tests.postgres import PostgresServer
from tests.telegram_stub import BOT_USERNAME, TelegramStub

WRONG_TOKEN = "999999:this-token-is-wrong-and-secret"


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStub]:
    stub = await TelegramStub().start()
    yield stub
    await stub.close()


@pytest.fixture
async def matrix() -> AsyncIterator[MatrixWhoami]:
    responder = await MatrixWhoami().start()
    yield responder
    await responder.close()


def good_settings(tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami, **changes: str) -> dict[str, str]:
    campaign = tmp_path / "campaign-filled"
    if not campaign.exists():
        filled_campaign(campaign)
    settings = {
        "CAMPAIGN": str(campaign),
        "DATABASE_PATH": str(tmp_path / "data" / "petition.sqlite3"),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.api_url,
        "MATRIX_HOMESERVER": matrix.url,
        "MATRIX_USER_ID": MATRIX_USER,
        "MATRIX_ACCESS_TOKEN": MATRIX_TOKEN,
        "MATRIX_DEVICE_ID": "PETITIONBOT",
        "HEALTH_PORT": str(free_port()),
    }
    settings.update(changes)
    return {k: v for k, v in settings.items() if v != ""}


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (WRONG_TOKEN, MATRIX_TOKEN, "123456:TEST-token", "TEST-token"):
            assert secret not in text


def problem_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("✘")]


# A good configuration ---------------------------------------------------------------


async def test_check_on_a_good_configuration_says_everything_is_ready(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    env = write_env(tmp_path / ".env", **good_settings(tmp_path, telegram, matrix))
    code, out, err = await cli(env, "check")
    assert code == 0, out + err
    assert f"✔ Telegram: token accepted, the bot is @{BOT_USERNAME}" in out
    assert f"✔ Matrix: access token accepted for {MATRIX_USER}" in out
    assert "✔ database:" in out and "schema version" in out
    assert "✔ data folder:" in out and "✔ HEALTH_PORT:" in out
    assert "✔ campaign content: sante-microsoft" in out
    assert "• scheduler: digest: daily at 18:00 (Europe/Paris), next " in out
    assert "• scheduler: count_poll: at start-up, then every 15 min" in out
    assert out.rstrip().endswith("Everything is ready.")
    assert not problem_lines(out)
    assert_no_secret(out, err)
    # the database was created and migrated, as `run` would do
    with sqlite3.connect(tmp_path / "data" / "petition.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] >= 1
    assert [c.method for c in telegram.calls] == ["getMe"]  # check changes nothing on the platform


async def test_check_with_a_matrix_password_only_checks_the_homeserver_answers(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    settings = good_settings(
        tmp_path, telegram, matrix, MATRIX_ACCESS_TOKEN="", MATRIX_DEVICE_ID="", MATRIX_PASSWORD="pw-secret-123"
    )
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code == 0, out + err
    assert "✔ Matrix: homeserver reachable" in out
    assert "pw-secret-123" not in out + err


async def test_once_logged_in_with_a_password_the_stored_session_is_enough(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    settings = good_settings(tmp_path, telegram, matrix, MATRIX_ACCESS_TOKEN="", MATRIX_DEVICE_ID="")
    db_path = tmp_path / "data" / "petition.sqlite3"
    db = await SqliteDatabase.open(db_path)
    session = {"homeserver": matrix.url, "device_id": "STORED", "access_token": MATRIX_TOKEN}
    try:
        await KeyValueRepository(db).set(SESSION_KEY.format(user=MATRIX_USER), json.dumps(session))
    finally:
        await db.close()
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code == 0, out + err
    assert f"✔ Matrix: access token accepted for {MATRIX_USER}" in out
    assert_no_secret(out, err)


async def test_an_unknown_name_in_the_settings_file_is_pointed_out(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    settings = good_settings(tmp_path, telegram, matrix)
    settings["TELEGRAM_BOT_TOKN"] = "x"
    code, out, _ = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code == 0
    assert "TELEGRAM_BOT_TOKN is not a setting" in out


# Each bad input: one clear line from check and from run ---------------------------


async def test_a_malformed_settings_file_names_the_file_and_line(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DATABASE_PATH=data/x.sqlite3\nTELEGRAM_BOT_TOKEN 123:abc\n", encoding="utf-8")
    code, out, _ = await cli(env, "check")
    assert code != 0
    [line] = problem_lines(out)
    assert str(env) in line and "line 2" in line
    assert "123:abc" not in out
    code, out, err = await cli(env, "run")
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and "line 2" in err and str(env) in err
    assert "123:abc" not in err


async def test_an_invalid_setting_is_named_without_its_value(tmp_path: Path) -> None:
    env = write_env(tmp_path / ".env", HEALTH_PORT="99999", DATABASE_PATH=str(tmp_path / "db.sqlite3"))
    code, out, _ = await cli(env, "check")
    assert code != 0 and "HEALTH_PORT" in problem_lines(out)[0]
    code, _, err = await cli(env, "run")
    assert code != 0 and err.strip().count("\n") == 0 and "HEALTH_PORT" in err


async def test_the_shipped_content_in_the_console_passes_with_a_warning_for_each_placeholder(tmp_path: Path) -> None:
    code, out, _ = await cli(tmp_path / "missing.env", "check", DATABASE_PATH=str(tmp_path / "db.sqlite3"))
    assert code == 0, out
    assert "environment variables only" in out
    assert not problem_lines(out)
    warnings = [line for line in out.splitlines() if line.startswith("⚠")]
    assert any("platforms: none configured" in line and "console chat" in line for line in warnings)
    for key in ("campaign.controller", "campaign.contact", "campaign.petition_url"):
        assert any(f"campaign.toml: {key} is still a placeholder" in line for line in warnings), key
    assert len(warnings) == 4
    assert "• count source: no petition page to poll" in out and "/compteur_officiel" in out
    assert "with 4 warning(s)" in out.splitlines()[-1]


async def test_the_shipped_content_with_a_telegram_token_fails_naming_each_placeholder(
    tmp_path: Path, telegram: TelegramStub
) -> None:
    settings = {
        "DATABASE_PATH": str(tmp_path / "data" / "petition.sqlite3"),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.api_url,
    }
    code, out, _ = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code == 1
    problems = problem_lines(out)
    assert [line.split(": ")[2].split(" ")[0] for line in problems] == [
        "campaign.controller",
        "campaign.contact",
        "campaign.petition_url",
    ]
    assert all(line.startswith("✘ campaign content: campaign.toml: ") for line in problems)
    assert "3 problem(s) found." in out


async def test_a_wrong_telegram_token_is_named_and_never_printed(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    env = write_env(tmp_path / ".env", **good_settings(tmp_path, telegram, matrix, TELEGRAM_BOT_TOKEN=WRONG_TOKEN))
    code, out, err = await cli(env, "check")
    assert code != 0
    [line] = problem_lines(out)
    assert "TELEGRAM_BOT_TOKEN is refused by the Bot API (HTTP 401)" in line
    assert "@BotFather" in out
    code, run_out, run_err = await cli(env, "run")
    assert code != 0
    assert run_err.strip().count("\n") == 0 and "TELEGRAM_BOT_TOKEN" in run_err
    assert_no_secret(out, err, run_out, run_err)
    assert telegram.calls == []  # the wrong token never got further than the stand-in's door


async def test_a_wrong_matrix_token_and_an_unreachable_homeserver(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    wrong = good_settings(tmp_path, telegram, matrix, MATRIX_ACCESS_TOKEN="syt_wrong")
    code, out, _ = await cli(write_env(tmp_path / ".env", **wrong), "check")
    assert code != 0
    assert "MATRIX_ACCESS_TOKEN is refused by the homeserver (HTTP 401 M_UNKNOWN_TOKEN)" in problem_lines(out)[0]

    no_device = good_settings(tmp_path, telegram, matrix, MATRIX_DEVICE_ID="")
    code, out, _ = await cli(write_env(tmp_path / ".env", **no_device), "check")
    assert code != 0 and "MATRIX_DEVICE_ID is empty" in problem_lines(out)[0]

    gone = good_settings(tmp_path, telegram, matrix, MATRIX_HOMESERVER=f"http://127.0.0.1:{free_port()}")
    env = write_env(tmp_path / ".env", **gone)
    code, out, err = await cli(env, "check")
    assert code != 0
    [line] = problem_lines(out)
    assert "(MATRIX_HOMESERVER) is unreachable" in line
    code, _, run_err = await cli(env, "run")
    assert code != 0 and run_err.strip().count("\n") == 0 and "MATRIX_HOMESERVER" in run_err
    assert_no_secret(out, err, run_err)
    assert "sendMessage" not in [c.method for c in telegram.calls]
    assert "getUpdates" not in [c.method for c in telegram.calls]  # nothing half-started


async def test_an_unreachable_telegram_api_is_named(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    settings = good_settings(tmp_path, telegram, matrix, TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}/bot")
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code != 0
    assert "(TELEGRAM_API_URL) is unreachable" in problem_lines(out)[0]
    assert_no_secret(out, err)


async def test_a_taken_health_port_is_named(tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami) -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        env = write_env(tmp_path / ".env", **good_settings(tmp_path, telegram, matrix, HEALTH_PORT=str(port)))
        code, out, _ = await cli(env, "check")
        assert code != 0
        [line] = problem_lines(out)
        assert f"HEALTH_PORT: port {port} on 127.0.0.1 is already taken" in line
        code, _, err = await cli(env, "run")
    assert code != 0 and err.strip().count("\n") == 0 and "HEALTH_PORT" in err and str(port) in err
    methods = [c.method for c in telegram.calls]
    assert "getUpdates" not in methods and "setMyCommands" not in methods  # nothing half-started


@pytest.mark.skipif(not can_mount() and os.geteuid() == 0, reason="root ignores permissions and cannot mount here")
async def test_a_read_only_data_folder_is_named(tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami) -> None:
    folder = tmp_path / "ro"
    settings = good_settings(tmp_path, telegram, matrix, DATABASE_PATH=str(folder / "petition.sqlite3"))
    env = write_env(tmp_path / ".env", **settings)
    if can_mount():
        with small_tmpfs(folder, "1m", read_only=True):
            code, out, _ = await cli(env, "check")
            run_code, _, err = await cli(env, "run")
    else:
        folder.mkdir()
        folder.chmod(0o500)
        code, out, _ = await cli(env, "check")
        run_code, _, err = await cli(env, "run")
        folder.chmod(0o700)
    assert code != 0
    assert f"data folder: {folder} is not writable" in problem_lines(out)[0]
    assert "StateDirectory" in out  # how to fix it
    assert run_code != 0 and err.strip().count("\n") == 0 and str(folder) in err
    assert "getUpdates" not in [c.method for c in telegram.calls]


@pytest.mark.skipif(not can_mount(), reason="a full file system needs a small tmpfs (root on Linux)")
async def test_a_full_data_folder_is_named(tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami) -> None:
    folder = tmp_path / "full"
    settings = good_settings(tmp_path, telegram, matrix, DATABASE_PATH=str(folder / "petition.sqlite3"))
    env = write_env(tmp_path / ".env", **settings)
    with small_tmpfs(folder, "256k"):
        fill(folder)
        code, out, _ = await cli(env, "check")
        run_code, _, err = await cli(env, "run")
        assert not (folder / "petition.sqlite3").exists()
    assert code != 0
    assert f"data folder: {folder} is full" in problem_lines(out)[0]
    assert run_code != 0 and err.strip().count("\n") == 0 and "is full" in err
    assert "getUpdates" not in [c.method for c in telegram.calls]


async def test_a_broken_campaign_is_named_by_check(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami
) -> None:
    folder = tmp_path / "campaign"
    folder.mkdir()
    (folder / "campaign.toml").write_text("[campaign\n", encoding="utf-8")
    env = write_env(tmp_path / ".env", **good_settings(tmp_path, telegram, matrix, CAMPAIGN=str(folder)))
    code, out, _ = await cli(env, "check")
    assert code != 0
    assert "campaign.toml" in problem_lines(out)[0]


async def test_a_good_run_starts_and_stops_on_sigterm(tmp_path: Path, telegram: TelegramStub) -> None:
    """The pre-flight lets a good configuration through: the same settings serve Telegram until SIGTERM."""
    settings = {
        "DATABASE_PATH": str(tmp_path / "data" / "petition.sqlite3"),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.api_url,
    }
    env = write_env(tmp_path / ".env", **settings)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--env-file",
        str(env),
        "run",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=clean_environment(),
    )
    await telegram.wait_for(lambda: any(c.method == "getUpdates" for c in telegram.calls), timeout=30)
    process.terminate()
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()


# PostgreSQL ---------------------------------------------------------------------------------


async def test_check_probes_postgresql_and_never_prints_its_password(
    tmp_path: Path, telegram: TelegramStub, matrix: MatrixWhoami, postgres: PostgresServer
) -> None:
    url = postgres.new_database(migrated=False)
    settings = good_settings(tmp_path, telegram, matrix, DATABASE_URL=url)
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code == 0, out + err
    database = url.rsplit("/", 1)[1]
    assert f"✔ database: postgresql://petition@127.0.0.1:{postgres.port}/{database}: schema version" in out
    assert "migration(s) applied now" in out  # an empty database is brought up to date, as `run` would
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert "applied now" not in out  # current now

    wrong = url.replace(postgres.app_password, "not-the-password")
    settings = good_settings(tmp_path, telegram, matrix, DATABASE_URL=wrong)
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code == 2  # the database is unusable
    assert "✘ database:" in out and "refused the user or password (DATABASE_URL)" in out
    assert "fix: check DATABASE_URL" in out
    assert "not-the-password" not in out + err and postgres.app_password not in out + err
    postgres.drop_database(url)
