"""One send at a time per (destination, environment), across processes.

An exclusive `fcntl.flock` on a file in the data directory. The kernel drops the lock when the
process dies, however it dies (SIGKILL included), so a crashed send never leaves it stuck. The file
holds the run id of the holder so a refused send can name it.
"""
from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

from tui.sync import history as hist
from tui.sync.history import RunRecord

_ATTEMPTS = 40  # x 5 ms


class SendLocked(Exception):
    def __init__(self, destination: str, environment: str, run_id: int | None):
        self.run_id = run_id
        holder = f"run {run_id}" if run_id is not None else "another send"
        super().__init__(
            f"{destination} ({environment}) is already being sent by {holder}; wait for it to finish "
            "or cancel it (see `attentive-console runs`)"
        )


def _lock_path(data_dir: Path, destination: str, environment: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", destination)
    return Path(data_dir) / "locks" / f"send-{environment}-{safe}.lock"


class SendLock:
    def __init__(self, data_dir: Path, destination: str, environment: str):
        self.destination = destination
        self.environment = environment
        self.path = _lock_path(data_dir, destination, environment)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise SendLocked naming the running run."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        for attempt in range(_ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_run_id(fd)
                # No run id: most likely `runs` peeking with a shared lock for a moment; wait it out.
                if holder is not None or attempt == _ATTEMPTS - 1:
                    os.close(fd)
                    raise SendLocked(self.destination, self.environment, holder) from None
                time.sleep(0.005)
        self._fd = fd

    def record_run(self, run_id: int) -> None:
        assert self._fd is not None, "record_run needs the lock"
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(run_id).encode(), 0)

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "SendLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_run_id(data_dir: Path, destination: str, environment: str) -> int | None:
    """The run holding the lock right now, or None when no send is running."""
    path = _lock_path(data_dir, destination, environment)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_run_id(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_run_id(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


def shown_status(run: RunRecord, data_dir: Path) -> str:
    """A run still marked running whose process is gone (killed) shows as interrupted."""
    if run.status == hist.RUNNING and holder_run_id(data_dir, run.destination, run.environment) != run.id:
        return hist.INTERRUPTED
    return run.status
