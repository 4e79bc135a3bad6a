"""Files holding personal data are readable by their owner only (0600), whatever the umask.

Under the usual umask 022 a new file is world-readable; the database, its `-wal` and
`-shm`, the pseudonym key, a backup and an export must not be.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from pathlib import Path

from tests.ops_helpers import bot_process, clean_environment


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def bot_in(data: Path, *args: str, stdin: int = subprocess.DEVNULL) -> asyncio.subprocess.Process:
    env = clean_environment(DATABASE_PATH=str(data / "petition.sqlite3"))
    env.pop("PSEUDONYM_KEY")  # the key is generated into the data folder
    return await bot_process(
        str(data.parent / "none.env"),
        *args,
        stdin=stdin,
        env=env,
        umask=0o022,
    )


async def test_every_file_with_personal_data_is_0600_under_umask_022(tmp_path: Path) -> None:
    data = tmp_path / "data"
    console = await bot_in(data, "console", stdin=asyncio.subprocess.PIPE)
    assert console.stdin is not None and console.stdout is not None
    console.stdin.write(b"/suivre\n")
    await console.stdin.drain()
    while b"nouvelles" not in await asyncio.wait_for(console.stdout.readline(), 30):
        pass
    names = sorted(p.name for p in data.iterdir())
    assert names == ["petition.sqlite3", "petition.sqlite3-shm", "petition.sqlite3-wal", "pseudonym.key"]
    for name in names:
        assert mode(data / name) == 0o600, name  # while the bot runs, -wal and -shm included
    console.stdin.close()
    await asyncio.wait_for(console.wait(), 30)

    backup = tmp_path / "backups" / "copy.sqlite3"
    export = tmp_path / "names.csv"
    for args in (("admin", "backup", str(backup)), ("admin", "export", "--output", str(export))):
        process = await bot_in(data, *args)
        _, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
    assert mode(backup) == 0o600
    assert mode(export) == 0o600


async def test_a_database_made_world_readable_is_made_private_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process = await bot_in(data, "admin", "stats")
    await asyncio.wait_for(process.communicate(), 60)
    database = data / "petition.sqlite3"
    os.chmod(database, 0o644)  # e.g. restored with cp under umask 022
    export = tmp_path / "old.csv"
    export.write_text("")
    os.chmod(export, 0o644)
    process = await bot_in(data, "admin", "export", "--output", str(export))
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert mode(database) == 0o600
    assert mode(export) == 0o600  # an existing file is not left readable either
