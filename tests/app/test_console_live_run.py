"""The live run as an operator steers it, over the real core and the simulator: S asks first (n and
esc send nothing), space pauses and resumes, + and - step through the rates an operator would pick
up to the endpoint's limit, C cancels after a yes and the stopped run shows no ETA; requests/s is
never shown above the limit; the progress bar and the two sparklines follow the run. Also the keys
that must not type into the path field (read-only) and a quiet start with two destinations."""
from __future__ import annotations

import re

from console_kit import burst, make_app, open_send, settle, wait_until
from core_kit import core_app
from textual.widgets import ContentSwitcher, Input, Static

from tui.app.messages import RunProgressed, SendRequested
from tui.app.screens.prompt import PromptScreen
from tui.app.screens.yes_no import YesNoScreen
from tui.app.sections.history import HistorySection
from tui.app.widgets.run_panel import LimitSparkline, RunProgressBar
from tui.sync.history import HistoryStore


class Messages(list):
    def __call__(self, message) -> None:
        self.append(message)

    def of(self, kind) -> list:
        return [message for message in self if isinstance(message, kind)]


def panel_line(app, widget_id: str) -> str:
    return str(app.query_one(f"#{widget_id}", Static).render())


def status(app) -> str:
    return str(app.query_one("#send-status", Static).render())


async def start_paused(pilot) -> None:
    """S, yes, and space at once: the run stays put while the test looks at it."""
    app = pilot.app
    await open_send(pilot)
    await pilot.press("S", "y", "space")
    await wait_until(pilot, lambda: app.progress is not None and app.progress.state == "paused")


async def cancel(pilot) -> None:
    """A paused send left running would hold the test's event loop open for ever."""
    app = pilot.app
    if app.run_handle is not None:
        await pilot.press("C", "y")
    await settle(pilot)


async def test_plus_steps_through_the_rates_an_operator_picks_and_stops_at_the_limit(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url, endpoint="custom-attributes", rate_limit=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_paused(pilot)
        try:
            await wait_until(pilot, lambda: app.progress.rate_limit == 1 and app.progress.endpoint_limit == 150)
            for expected in (2, 5, 10, 25, 50, 100, 150, 150):   # v1's published limit is 150: held there
                await pilot.press("plus")
                await wait_until(pilot, lambda: app.progress.rate_limit == expected)
                assert f"Rate: {expected} requests/s" in status(app)
            assert "the endpoint's published limit" in status(app)
            for expected in (100, 50):
                await pilot.press("minus")
                await wait_until(pilot, lambda: app.progress.rate_limit == expected)
        finally:
            await cancel(pilot)


async def test_space_pauses_and_resumes_and_c_cancels_after_a_yes_with_no_eta_after(tmp_path, start_simulator):
    slow = await start_simulator(limits={"custom-attributes": 20})
    app = core_app(tmp_path, slow.url, endpoint="custom-attributes", rate_limit=20)   # 3,000 rows: minutes
    async with app.run_test(size=(80, 24)) as pilot:
        await start_paused(pilot)
        try:
            assert "PAUSED" in panel_line(app, "run-head") and "ETA" not in panel_line(app, "run-times")
            held = app.progress.requests
            await pilot.press("space")
            await wait_until(pilot, lambda: app.progress.state == "running" and app.progress.requests > held + 5)
            await wait_until(pilot, lambda: "ETA" in panel_line(app, "run-times"))
            await pilot.press("C")
            assert isinstance(app.screen, YesNoScreen) and "Cancel run #1" in app.screen.explanation
            await pilot.press("n")                     # no: it goes on
            assert not isinstance(app.screen, YesNoScreen) and app.run_handle is not None
            await pilot.press("C", "escape")           # esc: the same
            assert app.run_handle is not None and not app.run_handle.control.cancelled
            await pilot.press("C", "y")
            await settle(pilot)
        finally:
            await cancel(pilot)
        assert app.run_handle is None and app.progress.state == "cancelled"
        assert "CANCELLED" in panel_line(app, "run-head")
        assert "ETA" not in panel_line(app, "run-times")
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        assert store.list_runs()[0].status == "cancelled"


async def test_requests_per_second_is_never_shown_above_the_limit(tmp_path, simulator):
    """The whole sample in bulk is 12 calls in about a tenth of a second: the window that read
    125.8/s against 100/s. Every figure the panel showed stays at or under the rate."""
    app = core_app(tmp_path, simulator.url)
    messages = Messages()
    shown: list[str] = []
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await open_send(pilot)
        await pilot.press("S", "y")

        def ended() -> bool:
            if app.progress is not None:
                shown.append(panel_line(app, "requests-label"))
            return app.run_handle is None and app.progress is not None
        await wait_until(pilot, ended)
        await settle(pilot)
    progressed = messages.of(RunProgressed)
    assert progressed and all(p.progress.shown_requests_per_s <= p.progress.rate_limit for p in progressed
                              if p.progress.rate_limit is not None)
    limited = [re.fullmatch(r"requests/s ([\d.]+) of ([\d.]+)", line.strip()) for line in shown if " of " in line]
    assert limited and all(match is not None and float(match[1]) <= float(match[2]) for match in limited), shown


async def test_s_asks_naming_destination_environment_and_rows_and_n_or_esc_sends_nothing(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await open_send(pilot)
        await pilot.press("S")
        assert isinstance(app.screen, YesNoScreen)
        question = app.screen.explanation
        assert "loyalty-attributes" in question and "sandbox" in question and "~3,000" in question
        await pilot.press("n")
        await pilot.press("S", "escape")
        await pilot.press("S", "q")
        await settle(pilot)
        assert not messages.of(SendRequested) and app.run_handle is None
        with HistoryStore(app.session.data_dir, readonly=True) as store:
            assert store.list_runs() == []
        await pilot.press("S", "y")
        await wait_until(pilot, lambda: bool(messages.of(SendRequested)))
        await settle(pilot)
        asked = messages.of(SendRequested)
        assert len({id(message) for message in asked}) == 1 and asked[0].rows_estimate == 3000


async def test_production_s_asks_for_the_name_with_the_environment_and_rows(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url, environment="production")
    (app.session.config_dir / "production.toml").write_text((app.session.config_dir / "sandbox.toml").read_text())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_send(pilot)
        await pilot.press("S")
        assert isinstance(app.screen, PromptScreen)
        assert "Environment: production" in app.screen.explanation and "~3,000" in app.screen.explanation
        await pilot.press("escape")
        await settle(pilot)
        assert app.run_handle is None


async def test_the_progress_bar_and_the_sparklines_follow_the_run(tmp_path, start_simulator):
    slow = await start_simulator(limits={"custom-attributes": 20})
    app = core_app(tmp_path, slow.url, endpoint="custom-attributes", rate_limit=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_send(pilot)
        await pilot.press("S", "y")
        bar = app.query_one(RunProgressBar)
        requests = app.query_one("#requests-spark", LimitSparkline)
        headroom = app.query_one("#headroom-spark", LimitSparkline)
        try:
            await wait_until(pilot, lambda: app.progress is not None and app.progress.accepted > 20)
            first = list(requests.data or [])
            await wait_until(pilot, lambda: list(requests.data or []) != first and app.progress.elapsed_s > 2)
            assert bar.total == 3000 and 0 < bar.progress <= 3000
            assert requests.ceiling == 20 and max(requests.data) > 0 and max(requests.data) <= 20
            assert headroom.data and headroom.ceiling == 20
            assert panel_line(app, "requests-label").startswith("requests/s ")
            assert panel_line(app, "requests-label").endswith(" of 20")
            assert re.fullmatch(r"headroom \d+ of 20 left/s", panel_line(app, "headroom-label"))
            done = bar.progress
            await wait_until(pilot, lambda: bar.progress > done)
        finally:
            await cancel(pilot)


async def test_read_only_s_does_not_type_into_the_path_field():
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3", "s", "S", "m")
        await settle(pilot)
        assert app.query_one("#send-source", Input).value == ""
        assert not isinstance(app.focused, Input)


async def test_no_warning_at_start_up_with_two_destinations():
    app = make_app()   # the fixed sandbox has two destinations
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert len(app.view.environment.destinations) == 2
        assert not [note for note in app._notifications if "destination" in str(note.message).lower()]


async def test_a_section_key_pressed_right_after_a_send_key_is_not_undone_by_the_run_starting(tmp_path, simulator):
    """`m` then `4` in one read: the run starts after History is shown and must not pull the operator
    back to Send (the README walk in tmux lost its `4` this way)."""
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_send(pilot)
        burst(pilot, "m", "4")
        await wait_until(pilot, lambda: app.run_handle is not None or bool(app.query_one(HistorySection).runs))
        await wait_until(pilot, lambda: app.run_handle is None)
        await settle(pilot)
        assert app.query_one(ContentSwitcher).current == "history"
        assert app.focused is app.query_one("#runs-table")  # the keys go where the operator looks
