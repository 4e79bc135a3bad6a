"""Settings: one clear line naming a bad setting, and never a secret's value."""

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings


def test_defaults_need_no_file() -> None:
    settings = load_settings(env_file=None)
    assert settings.timezone == "Europe/Paris"
    assert settings.default_language == "fr"
    assert not settings.telegram_enabled and not settings.matrix_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("ADMINS", "carrier-pigeon:42"),
        ("DEFAULT_LANGUAGE", "de"),
        ("LOG_LEVEL", "LOUD"),
        ("QUIET_HOURS", "late"),
        ("COUNT_SOURCE_PATTERN", "([0-9]+"),
        ("FLOOD_MAX_PER_MINUTE", "many"),
    ],
)
def test_an_invalid_setting_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert name in message and "\n" not in message


def test_a_secret_never_appears_in_an_error(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=123:SECRET-TOKEN\nTELEGRAM_WEBHOOK_PORT=SECRET-TOKEN\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=env)
    assert "SECRET" not in str(caught.value)
    assert "TELEGRAM_WEBHOOK_PORT" in str(caught.value)


def test_settings_come_from_the_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("ADMINS=telegram:12345,matrix:@alice:example.org\nHEALTH_PORT=\n")
    settings = load_settings(env_file=env)
    assert settings.admin_ids == {("telegram", "12345"), ("matrix", "@alice:example.org")}
    assert settings.health_port is None


def test_postgresql_needs_a_shared_pseudonym_key_and_a_postgresql_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key generated into one instance's data folder would give each instance other pseudonyms."""
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    url = "postgresql://petition:s3cret-pw@db.example.org/petition"
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None, database_url=url)
    assert "PSEUDONYM_KEY" in str(caught.value) and "DATABASE_URL" in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None, database_url="mysql://petition:s3cret-pw@db/petition", pseudonym_key="k" * 32)
    assert "DATABASE_URL" in str(caught.value) and "s3cret-pw" not in str(caught.value)
    settings = load_settings(env_file=None, database_url=url, pseudonym_key="k" * 32)
    assert settings.postgres_url == url and "s3cret-pw" not in repr(settings)


def test_quiet_hours_can_be_turned_off_in_the_settings_file(tmp_path: Path) -> None:
    """An empty value in a settings file means "the default"; `none` is how to have no quiet hours."""
    env = tmp_path / ".env"
    env.write_text("QUIET_HOURS=none\n", encoding="utf-8")
    assert load_settings(env).quiet_window is None
    env.write_text("QUIET_HOURS=\n", encoding="utf-8")
    assert load_settings(env).quiet_window is not None
