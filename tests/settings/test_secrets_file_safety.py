"""The secrets file's lock (atomic.locked, shared with every other writer) never follows a symbolic
link and gives up after its timeout with the lock named; a secrets file that is a FIFO is refused at
once instead of blocking."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.settings.atomic import LockError
from tui.settings.errors import SecretsError
from tui.settings.secrets import SecretsFile

HOLD_LOCK = """
import fcntl, sys
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def secrets(tmp_path) -> Path:
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    return folder / "secrets.toml"


def test_a_link_at_the_lock_path_is_refused_and_its_target_never_created(secrets):
    victim = secrets.parent.parent / "victim"
    (secrets.parent / ".secrets.toml.lock").symlink_to(victim)
    with pytest.raises(LockError, match=r"\.secrets\.toml\.lock is a symbolic link; refusing to follow it"):
        SecretsFile(secrets).set("main", "key-0001")
    assert not victim.exists() and not secrets.exists()


def test_a_lock_held_by_another_process_times_out_with_the_lock_named(secrets):
    SecretsFile(secrets).set("main", "key-0001")
    lock = secrets.parent / ".secrets.toml.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(LockError, match="another process has held the lock") as waited:
            SecretsFile(secrets, lock_timeout_s=0.3).set("main", "key-0002")
        assert str(lock) in str(waited.value) and "nothing was changed" in str(waited.value)
        assert SecretsFile(secrets).get("main") == "key-0001"
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    SecretsFile(secrets, lock_timeout_s=0.3).set("main", "key-0002")  # free again once the holder is gone
    assert SecretsFile(secrets).get("main") == "key-0002"


READ_AND_SET = """
import sys
from pathlib import Path
from tui.settings.errors import SecretsError
from tui.settings.secrets import SecretsFile
for attempt in (lambda f: f.read(), lambda f: f.set("main", "key-0001")):
    try:
        attempt(SecretsFile(Path(sys.argv[1])))
    except SecretsError as exc:
        print(exc)
"""


def test_a_fifo_as_the_secrets_file_is_refused_at_once(secrets):
    os.mkfifo(secrets, 0o600)
    # In a process of its own: should the read block again, the timeout fails the test instead of hanging it.
    done = subprocess.run([sys.executable, "-c", READ_AND_SET, str(secrets)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=False)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == 2, done.stderr
    assert all(f"secrets file {secrets} is not a regular file" in line for line in lines)
    with pytest.raises(SecretsError, match="not a regular file"):
        SecretsFile(secrets).check_permissions()  # what `config validate` reports
