"""The deployment files a campaign copies to its server: systemd units and the backup rotation."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops_helpers import ROOT, clean_environment

DEPLOY = ROOT / "deploy"
UNITS = ("petition-bot.service", "petition-bot-backup.service", "petition-bot-backup.timer")
INSTALLED = "/opt/petition-bot"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections and keys; systemd allows a key more than once, so each holds a list."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{name}: a setting before any section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"{name}: not KEY=value: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    assert key in section, f"missing {key}"
    return section[key][-1]


def test_the_service_runs_as_its_own_user_with_its_state_folder_and_restarts_on_failure() -> None:
    service = unit("petition-bot.service")["Service"]
    assert one(service, "User") == "petition-bot" and one(service, "Group") == "petition-bot"
    assert one(service, "StateDirectory") == "petition-bot"
    assert one(service, "WorkingDirectory") == INSTALLED
    assert one(service, "EnvironmentFile") == "/etc/petition-bot/env"
    assert "DATABASE_PATH=/var/lib/petition-bot/petition.sqlite3" in service["Environment"]
    assert "LOG_FORMAT=json" in service["Environment"]
    assert one(service, "Restart") == "on-failure"
    assert one(service, "ExecStart").endswith(" run")
    assert int(one(service, "TimeoutStopSec")) > 20  # the bot's own grace (10 s) and the transports' stop fit


@pytest.mark.parametrize("name", ["petition-bot.service", "petition-bot-backup.service"])
def test_both_services_are_hardened(name: str) -> None:
    service = unit(name)["Service"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictNamespaces": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
    }.items():
        assert one(service, key) == value, key
    assert "AF_INET" in one(unit("petition-bot.service")["Service"], "RestrictAddressFamilies")
    assert "@system-service" in service["SystemCallFilter"]


def test_the_instance_template_is_the_same_service_with_a_settings_file_per_instance() -> None:
    """Several instances on one PostgreSQL database (docs/OPERATIONS.md): same hardening, own ports."""
    single, template = unit("petition-bot.service"), unit("petition-bot@.service")
    differing = {"EnvironmentFile", "ExecStart"}
    assert {k: v for k, v in template["Service"].items() if k not in differing} == {
        k: v for k, v in single["Service"].items() if k not in differing
    }
    assert template["Service"]["EnvironmentFile"] == ["/etc/petition-bot/env", "/etc/petition-bot/instance-%i.env"]
    assert one(template["Service"], "ExecStart").endswith("--env-file /etc/petition-bot/instance-%i.env run")
    assert template["Install"] == single["Install"]


def test_the_backup_runs_daily_and_even_after_a_night_switched_off() -> None:
    timer = unit("petition-bot-backup.timer")
    assert one(timer["Timer"], "OnCalendar").startswith("*-*-* ")
    assert one(timer["Timer"], "Persistent") == "true"
    assert one(timer["Install"], "WantedBy") == "timers.target"
    backup = unit("petition-bot-backup.service")["Service"]
    assert one(backup, "Type") == "oneshot"
    assert "deploy/backup.sh" in one(backup, "ExecStart") and "petition-bot" in one(backup, "ExecStart")
    assert "DATABASE_PATH=/var/lib/petition-bot/petition.sqlite3" in backup["Environment"]


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; the key checks above still ran")
    # `verify` insists that the programs exist: point them at this checkout instead of /opt.
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        text = text.replace(f"{INSTALLED}/.venv/bin/petition-bot", str(ROOT / ".venv" / "bin" / "petition-bot"))
        text = text.replace(f"{INSTALLED}/deploy/", f"{DEPLOY}/")
        (tmp_path / name).write_text(text, encoding="utf-8")
    if not (ROOT / ".venv" / "bin" / "petition-bot").exists():
        pytest.skip("the petition-bot entry point is not installed in .venv (pip install -e .)")
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "petition-bot" in line]
    assert ours == [], ours


def backup(tmp_path: Path, keep: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", str(DEPLOY / "backup.sh"), sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_environment(
            DATABASE_PATH=str(tmp_path / "data" / "petition.sqlite3"),
            BACKUP_DIR=str(tmp_path / "backups"),
            BACKUP_KEEP=str(keep),
        ),
        timeout=60,
    )


def test_the_daily_backup_is_a_consistent_private_copy_and_old_ones_are_rotated(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [f"petition-2026010{day}T031000Z.sqlite3" for day in range(1, 6)]
    for name in old:
        (folder / name).write_bytes(b"old")
    (folder / "notes.txt").write_text("not a backup: left alone", encoding="utf-8")

    result = backup(tmp_path, keep=3)
    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in folder.iterdir() if p.name.startswith("petition-"))
    assert len(kept) == 3
    assert kept[:2] == old[-2:]  # the two newest old ones, then today's
    assert (folder / "notes.txt").exists()
    today = folder / kept[-1]
    assert today.stat().st_mode & 0o077 == 0
    with sqlite3.connect(today) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] >= 1
    assert "removed old backup petition-20260101T031000Z.sqlite3" in result.stdout


def test_a_bad_rotation_setting_is_refused_before_any_copy(tmp_path: Path) -> None:
    result = backup(tmp_path, keep=0)
    assert result.returncode != 0 and "BACKUP_KEEP" in result.stderr
    assert not (tmp_path / "backups").exists()


def test_the_backup_script_is_executable() -> None:
    assert os.access(DEPLOY / "backup.sh", os.X_OK)
