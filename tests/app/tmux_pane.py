"""The console as an operator sees it: a real process in a tmux pane of a fixed size, read back with
capture-pane. Each pane has its own tmux server (-L), so a test never touches an operator's sessions."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

TMUX = shutil.which("tmux")
DEADLINE_S = 60.0
POLL_S = 0.05  # reading the pane: tmux has no event to wait on


class Pane:
    def __init__(self, name: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str],
                 size: tuple[int, int] = (80, 24)) -> None:
        assert TMUX is not None
        self.socket = f"{name}-{os.getpid()}"
        self.target = name
        width, height = size
        # -e per variable: the pane's environment is the server's, and a server may already run.
        variables = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self._tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), "-c", str(cwd),
                   *variables, " ".join(_quoted(arg) for arg in argv))
        self._tmux("set-option", "-t", name, "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=DEADLINE_S)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def keys(self, *keys: str) -> None:
        """tmux key names ("Enter", "Escape", "C-q") or literal text."""
        for key in keys:
            self._tmux("send-keys", "-t", self.target, *(["-l", key] if len(key) == 1 else [key]))

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def text(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def wait_for(self, *needles: str, absent: Sequence[str] = (), timeout_s: float = DEADLINE_S) -> str:
        """The screen once it shows every needle and none of `absent`; fails with the screen at the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.text()
            if all(n in screen for n in needles) and not any(a in screen for a in absent):
                return screen
            assert time.monotonic() < deadline, f"waited for {needles} (absent {absent}); the screen:\n{screen}"
            time.sleep(POLL_S)

    def exited(self) -> bool:
        return self._tmux("display-message", "-p", "-t", self.target, "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        subprocess.run([TMUX or "tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=DEADLINE_S)


def _quoted(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"
