"""atomic.locked, the lock every writer of an environment file (and of the secrets file and the
ledger's head) takes: never through a symbolic link, never on something that is not a regular file,
and given up after its timeout with the lock file named, not waited on for ever."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from config_kit import write_config_folder
from settings_kit import VALID

from tui.settings.atomic import LockError, locked
from tui.settings.model import Destination
from tui.settings.store import ConfigStore

HOLD_LOCK = """
import fcntl, sys
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def add_vip(config) -> None:
    with ConfigStore(config).editing("sandbox") as handle:
        handle.upsert_destination(Destination("vip", "", "main", "email", identifiers={"email": "email"}))


def test_a_link_at_the_lock_path_is_refused_and_its_target_never_created(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    victim = tmp_path / "victim"
    (config / ".sandbox.toml.lock").symlink_to(victim)
    with pytest.raises(LockError, match=r"\.sandbox\.toml\.lock is a symbolic link; refusing to follow it") as refused:
        add_vip(config)
    assert f"rm {config / '.sandbox.toml.lock'}" in str(refused.value)
    assert not victim.exists() and (config / "sandbox.toml").read_text() == VALID


def test_a_fifo_at_the_lock_path_is_refused_at_once(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    os.mkfifo(config / ".sandbox.toml.lock", 0o600)
    with pytest.raises(LockError, match=r"\.sandbox\.toml\.lock is not a regular file; nothing was changed"):
        add_vip(config)
    assert (config / "sandbox.toml").read_text() == VALID


def test_a_lock_held_by_another_process_times_out_naming_the_lock(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    path, lock = config / "sandbox.toml", config / ".sandbox.toml.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(LockError, match="another process has held the lock") as waited, locked(path, timeout_s=0.2):
            pytest.fail("the lock was taken although another process holds it")
        assert f"({lock}) for over 0.2 s" in str(waited.value) and f"fuser {lock}" in str(waited.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    add_vip(config)  # free again once the holder is gone
    assert "[destinations.vip]" in path.read_text()
