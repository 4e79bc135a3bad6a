"""The console chat as a user runs it: a real process, piped input, replies on standard output."""

import os
import subprocess
from pathlib import Path

from tests.ops_helpers import run_bot


def _run(tmp_path: Path, args: list[str], stdin: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
    environment.update({"DATABASE_PATH": str(tmp_path / "data" / "petition.sqlite3"), **env})
    return run_bot(tmp_path / "missing.env", args, stdin, environment)


def test_piped_lines_are_all_answered_in_order_then_it_exits_0(tmp_path: Path) -> None:
    result = _run(tmp_path, ["console"], "/compteur\n/start\n2\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("signatures au total") < out.index("Bienvenue") < out.index("2019")
    assert "[1] 📜 La pétition" in out
    assert (tmp_path / "data" / "petition.sqlite3").exists()


def test_run_without_platform_opens_the_console(tmp_path: Path) -> None:
    result = _run(tmp_path, ["run"], "/aide\n")
    assert result.returncode == 0, result.stderr
    assert "/chronologie" in result.stdout


def test_console_options_set_language_and_group(tmp_path: Path) -> None:
    result = _run(tmp_path, ["console", "--lang", "en", "--user", "7", "--name", "Ada"], "/count\n")
    assert "signatures in all" in result.stdout
    group = _run(tmp_path, ["console", "--group", "g1"], "hello there\n/aide\n")
    assert group.stdout.count("Commandes") == 1


def test_an_invalid_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = _run(tmp_path, ["console"], "", TIMEZONE="Nowhere/Land")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TIMEZONE" in lines[0]


def test_a_broken_campaign_folder_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "campaign"
    folder.mkdir()
    (folder / "campaign.toml").write_text("[campaign\n", encoding="utf-8")
    result = _run(tmp_path, ["console"], "", CAMPAIGN=str(folder))
    assert result.returncode != 0
    assert "campaign.toml" in result.stderr and "Traceback" not in result.stderr


def test_a_300_line_piped_script_is_answered_in_full_without_log_lines(tmp_path: Path) -> None:
    script = "/compteur\nQui héberge nos données de santé ?\n/aide\n" * 100
    result = _run(tmp_path, ["run"], script)  # `make run` with no platform: the console
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("signatures au total") == 100  # the console's own user is never flood-limited
    assert out.count("**Commandes**") == 0 and out.count("Commandes\n") == 100
    assert out.count("Source") >= 100
    assert "pause" not in out
    assert result.stderr.strip() == "", result.stderr  # no routine log line among the chat (WARNING and above only)


def test_the_console_says_what_it_is_how_to_choose_and_how_to_quit(tmp_path: Path) -> None:
    out = _run(tmp_path, ["console"], "").stdout
    first = out.split("\n\n")[0]
    assert "Console du bot de la pétition" in first and "tapez son numéro" in first and "Ctrl-D" in first
    assert "Petition bot console" in _run(tmp_path, ["console", "--lang", "en"], "").stdout
    assert "commencez une ligne par @bot" in _run(tmp_path, ["console", "--group", "g1"], "").stdout


def test_after_a_restart_the_last_choices_still_answer_a_number(tmp_path: Path) -> None:
    first = _run(tmp_path, ["console", "--name", "Jeanne Dupont"], "/signer\n")
    assert "[1] Mon nom : Jeanne Dupont" in first.stdout
    again = _run(tmp_path, ["console", "--name", "Jeanne Dupont"], "1\n")
    assert "sous le nom « Jeanne Dupont »" in again.stdout  # "1" pressed the choice, it is not a name
