"""Writing a file so that a reader or a crash only ever sees the old or the new content."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tui.settings.errors import SettingsError

LOCK_TIMEOUT_S = 10.0
_LOCK_POLL_S = 0.05


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Temp file in the same folder, fsync, os.replace, fsync the folder.

    `mode` defaults to the existing file's mode (else 0o644 less the umask). The temp file is
    created 0600 and only widened to the final mode once written, so a secret is never readable
    by others, not even for a moment."""
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o644 & ~umask
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_dir(path.parent)


def create_private_file(path: Path) -> None:
    """Create `path` 0600 if it does not exist (the history database, before SQLite would create it
    with the umask; SQLite gives its -wal and -shm the same mode). An existing file is never opened:
    closing any descriptor of a file drops every POSIX lock this process holds on it, so touching a
    live database would let another process checkpoint under its readers."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LockError(SettingsError):
    """The lock beside a file could not be taken; nothing was changed. The message names the lock file."""


@contextlib.contextmanager
def locked(path: Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Exclusive advisory lock on `<folder>/.<name>.lock`, held by every writer of `path`.

    A separate lock file, because os.replace swaps the file itself: a lock on it would lock the
    old inode. flock is per open file, so threads of one process exclude each other too. Opened with
    O_NOFOLLOW and checked to be a regular file: a link planted there must not make us create or
    lock its target, and a FIFO must not block us. flock cannot time out, so a non-blocking attempt
    is repeated until `timeout_s` has passed; LockError then names the lock and who to look for."""
    lock_path = path.parent / f".{path.name}.lock"
    remove = f"remove it (rm {lock_path}) and try again"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise LockError(f"the lock file {lock_path} is a symbolic link; refusing to follow it; "
                            f"nothing was changed ({remove})") from None
        raise LockError(f"cannot open the lock file {lock_path}: {err.strerror}; nothing was changed "
                        f"(check that it is a file you own in a folder you may write: {lock_path.parent})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LockError(f"the lock file {lock_path} is not a regular file; nothing was changed ({remove})")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockError(
                        f"another process has held the lock on {path} ({lock_path}) for over {timeout_s:g} s; "
                        f"nothing was changed (let the other attentive-console command finish, find it with: "
                        f"fuser {lock_path}; then try again)") from None
                time.sleep(_LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # closing releases the lock
