"""The simulator in a background thread of this process: the embedded default (`api_url =
"embedded"`), and a handy way for synchronous callers and tests to run one."""
from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.demo import demo_config
from tui.attentive.simulator.server import start_server
from tui.attentive.simulator.state import StateFileError

STATE_FILE_NAME = "simulator-state.json"
logger = logging.getLogger(__name__)


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
            data_dir.mkdir(parents=True, exist_ok=True)
            _embedded = start_in_thread(demo_config(data_dir / STATE_FILE_NAME))
            atexit.register(_embedded.stop)
        return _embedded
