"""`petition-bot check` against a real homeserver: the throwaway Synapse of the Matrix tests."""

from __future__ import annotations

from pathlib import Path

from tests.ops_helpers import cli, filled_campaign, write_env
from tests.synapse import Synapse, synapse_server  # noqa: F401 - the session's homeserver, fixture "synapse"


async def test_check_accepts_the_bot_account_and_refuses_a_revoked_token(tmp_path: Path, synapse: Synapse) -> None:
    account = synapse.register("petitionbot")
    settings = {
        "CAMPAIGN": str(filled_campaign(tmp_path / "campaign")),
        "DATABASE_PATH": str(tmp_path / "petition.sqlite3"),
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER_ID": account.user_id,
        "MATRIX_ACCESS_TOKEN": account.access_token,
        "MATRIX_DEVICE_ID": account.device_id,
    }
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code == 0, out + err
    assert f"✔ Matrix: access token accepted for {account.user_id}" in out
    assert account.access_token not in out + err

    synapse.request("POST", "/_matrix/client/v3/logout", {}, token=account.access_token)
    code, out, err = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code != 0
    assert "✘ Matrix: MATRIX_ACCESS_TOKEN is refused by the homeserver (HTTP 401 M_UNKNOWN_TOKEN)" in out
    assert account.access_token not in out + err

    other = synapse.register("someoneelse")
    settings["MATRIX_ACCESS_TOKEN"] = other.access_token
    code, out, _ = await cli(write_env(tmp_path / ".env", **settings), "check")
    assert code != 0 and "belongs to another account than MATRIX_USER_ID" in out
