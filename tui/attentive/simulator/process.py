"""Run the simulator as a separate process (benchmarks, tests that must not share the CPU's event
loop with it): start it on a free port, wait until it prints its URL, stop it cleanly."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from tui.attentive.simulator.standalone import READY_PREFIX


class SimulatorProcessError(RuntimeError):
    """The simulator process did not come up; the message carries what it printed on stderr."""


@dataclass
class SimulatorProcess:
    url: str
    process: subprocess.Popen[str] = field(repr=False)
    _stderr: IO[str] = field(repr=False)

    def stop(self, timeout_s: float = 15.0) -> int:
        """SIGTERM (the simulator saves its state and exits), SIGKILL if it does not. Returns the
        exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
        return self.process.returncode

    def __enter__(self) -> "SimulatorProcess":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _pump(stream: IO[str], lines: "queue.Queue[str | None]") -> None:
    """Forward stdout lines until EOF; keeps draining after readiness so the pipe never fills."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def start_simulator_process(
    args: Sequence[str] = (), *, host: str = "127.0.0.1", timeout_s: float = 30.0
) -> SimulatorProcess:
    """Start `python -m tui.attentive.simulator --port 0 ARGS...` and wait for its URL.

    `args` are the simulator's options, e.g. ["--no-rate-limits", "--key", "bench-key"].
    """
    stderr = tempfile.TemporaryFile("w+", encoding="utf-8")
    command = [sys.executable, "-m", "tui.attentive.simulator", "--host", host, "--port", "0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    lines: queue.Queue[str | None] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(process.stdout, lines), name="simulator-stdout", daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=timeout_s)
            if line is None:
                break
            if line.startswith(READY_PREFIX):
                return SimulatorProcess(line[len(READY_PREFIX):].strip(), process, stderr)
    except queue.Empty:
        pass
    if process.poll() is None:
        process.kill()
    process.wait()
    stderr.seek(0)
    detail = stderr.read().strip() or f"no URL printed within {timeout_s:g}s"
    stderr.close()
    raise SimulatorProcessError(f"the simulator process did not start: {detail}")
