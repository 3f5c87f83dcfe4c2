"""ctrl+q: at once without a send; during one, a question (cancel the send and quit, or back), over the
real core and a slow simulator. And a stopped run is told in words, never as a Python repr."""
from __future__ import annotations

import time

from console_kit import build_history, make_app, open_send, settle, wait_until
from core_kit import core_app, screen_text
from textual.widgets import Static

from tui.app.backend import send_runner
from tui.app.backend.send_runner import RunHandle
from tui.app.launch import binding_ids
from tui.app.run_text import stop_text
from tui.app.screens.choice import ChoiceScreen
from tui.settings.ledger import Ledger
from tui.settings.paths import history_path
from tui.sync.history import RESUMABLE, HistoryStore
from tui.sync.tally import Stop

CANCEL_DRAIN_S = 5.0   # a cancel cuts short pacing and back-off: quitting takes seconds, not minutes


async def send_sample(pilot) -> None:
    """Send (3): the shipped sample audience, previewed, then `S` and yes."""
    await open_send(pilot)
    await pilot.press("S", "y")


async def test_ctrl_q_without_a_send_quits_at_once():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0


async def test_ctrl_q_during_a_send_asks_back_keeps_it_and_cancel_quits_with_the_run_resumable(
        tmp_path, start_simulator):
    slow = await start_simulator(limits={"custom-attributes": 20})   # 3,000 rows: minutes at 20/s
    app = core_app(tmp_path, slow.url, endpoint="custom-attributes", rate_limit=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await send_sample(pilot)
        await wait_until(pilot, lambda: app.progress is not None and app.progress.accepted > 0)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        text = screen_text(app)
        assert "Cancel the send and quit" in text and "Back" in text and "loyalty-attributes" in text
        assert "choice.back" in {row[2] for row in app.visible_bindings()} and "choice.back" in binding_ids()
        await pilot.press("enter")  # Back has the focus: an enter out of habit changes nothing
        assert not isinstance(app.screen, ChoiceScreen) and app.return_code is None
        accepted = app.progress.accepted
        await wait_until(pilot, lambda: app.progress.accepted > accepted)  # the send goes on
        assert app.run_handle is not None

        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        cancelled_at = time.monotonic()
        await pilot.press("shift+tab", "enter")  # to "Cancel the send and quit"
        await wait_until(pilot, lambda: app.return_code is not None, timeout_s=30)
        drained_s = time.monotonic() - cancelled_at
    assert app.return_code == 0 and drained_s < CANCEL_DRAIN_S, drained_s
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        run = store.list_runs()[0]
    assert run.status == "cancelled" and run.status in RESUMABLE and 0 < run.accepted < 3000
    actions = [entry.action for entry in Ledger(history_path(app.session.data_dir)).entries(limit=10)]
    assert actions.count("send.started") == actions.count("send.finished") == 1  # recorded before the exit


def test_a_cancel_pressed_before_the_sends_loop_runs_is_not_lost(monkeypatch):
    """Cancel and quit can come while the worker still prepares the request (key, simulator)."""
    async def run_send(request, *, control, on_progress):
        return control.cancelled

    monkeypatch.setattr(send_runner, "run_send", run_send)
    handle = RunHandle()
    handle.cancel()
    assert handle.run(None, lambda progress: None) is True  # type: ignore[arg-type]


async def test_a_run_stopped_by_a_refused_key_is_told_in_words(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url, key="not-a-key-anyone-issued")
    async with app.run_test(size=(120, 40)) as pilot:
        await send_sample(pilot)
        status = app.query_one("#send-status", Static)
        await wait_until(pilot, lambda: app.run_handle is None and "Run #" in str(status.render()))
        text = str(status.render())
    assert "Stopped: Attentive refused the credential: the API key was not accepted (HTTP 401)" in text
    assert "Stop(" not in text and "reason=" not in text


def test_a_history_stop_says_the_history_could_not_be_written_and_how_to_resume(tmp_path):
    build_history(tmp_path, 12, 0)
    with HistoryStore(tmp_path, readonly=True) as store:
        run = store.get_run(12)
    assert run is not None
    text = stop_text(Stop("history", "the send history in /data could not be written (OSError: [Errno 28] "
                                     "No space left on device)\x1b[2J"), run)
    assert text.startswith("Stopped: the send history could not be written")
    assert "No space left on device" in text and "can be resumed" in text and r"\x1b[2J" in text
    assert text.endswith("attentive-console send loyalty-attributes --env sandbox --resume 12")
    assert stop_text(Stop("unreachable", "Attentive keeps failing (timeout); the run stopped"), run) == (
        "Stopped: Attentive keeps failing (timeout); the run stopped")
