"""The simulator in a background thread of this process: the embedded default (`api_url =
"embedded"`), and a handy way for synchronous callers and tests to run one.

The embedded simulator's bulk jobs take 10s to 40s each (EMBEDDED_JOB_DELAY), PENDING then
IN_PROGRESS then COMPLETED: long enough that a demo shows a send waiting on Attentive as a real one
does (Attentive takes hours), short enough that a sample send's results arrive within about a
minute. Set ATTENTIVE_CONSOLE_SIM_JOB_DELAY to a duration or a range ("2s", "0.05s", "1m-5m") to
change it, e.g. to shorten it for tests; it is read when the embedded simulator starts.
"""
from __future__ import annotations

import asyncio
import atexit
import dataclasses
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tui.attentive.durations import DurationError, parse_duration_range
from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.demo import demo_config
from tui.attentive.simulator.server import start_server
from tui.attentive.simulator.state import StateFileError

STATE_FILE_NAME = "simulator-state.json"
EMBEDDED_JOB_DELAY = (10.0, 40.0)
JOB_DELAY_ENV = "ATTENTIVE_CONSOLE_SIM_JOB_DELAY"
logger = logging.getLogger(__name__)


def embedded_job_delay() -> tuple[float, float]:
    """EMBEDDED_JOB_DELAY, or the range in $ATTENTIVE_CONSOLE_SIM_JOB_DELAY. A value that cannot be
    read raises DurationError naming the variable: a silent fallback would hide a typo."""
    text = os.environ.get(JOB_DELAY_ENV, "").strip()
    if not text:
        return EMBEDDED_JOB_DELAY
    try:
        return parse_duration_range(text)
    except DurationError as exc:
        raise DurationError(f"{JOB_DELAY_ENV}: {exc}") from None


@dataclass
class RunningSimulator:
    url: str
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop serving, save the state and join the thread. Safe to call twice."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)


def start_in_thread(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> RunningSimulator:
    """Start a simulator on its own event loop in a daemon thread; returns once it accepts
    connections. Errors while starting (a bad state file, a busy port) are raised here."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            runner, url = loop.run_until_complete(start_server(config, host, port))
        except BaseException as exc:  # handed to the starting thread, which raises it
            outcome["error"] = exc
            loop.close()
            started.set()
            return
        outcome["url"] = url
        started.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(runner.cleanup())  # runs the app's on_cleanup: saves state
            except StateFileError as exc:
                logger.error("%s", exc)
            loop.close()

    thread = threading.Thread(target=run, name="attentive-simulator", daemon=True)
    thread.start()
    started.wait()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return RunningSimulator(str(outcome["url"]), loop, thread)


_embedded: RunningSimulator | None = None
_embedded_lock = threading.Lock()


def embedded_simulator(data_dir: Path) -> RunningSimulator:
    """The process-wide embedded simulator with the demo keys and its state in data_dir.

    Started on the first call (thread-safe); later calls return the same simulator whatever
    data_dir they pass. It is stopped, and its state saved, when the process exits.
    """
    global _embedded
    with _embedded_lock:
        if _embedded is None:
            low, high = embedded_job_delay()
            data_dir.mkdir(parents=True, exist_ok=True)
            config = dataclasses.replace(
                demo_config(data_dir / STATE_FILE_NAME), bulk_job_delay_s=low, bulk_job_delay_max_s=high
            )
            _embedded = start_in_thread(config)
            atexit.register(_embedded.stop)
        return _embedded
