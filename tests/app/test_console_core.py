"""The console over the real core and the simulator on loopback: the new user's path (sample send to
the sandbox, its read-back, promotion with a typed name), a cancelled run, a failing gate."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from console_kit import open_send, settle, wait_until
from core_kit import POLL_SCALE, core_app, screen_text
from textual.widgets import DataTable, Static

from tui.app.app import ConsoleApp
from tui.app.backend.core import CoreBackend
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen
from tui.app.sections.history import HistorySection
from tui.app.session import Session
from tui.settings.ledger import Ledger
from tui.settings.paths import history_path
from tui.sync.history import HistoryStore
from tui.sync.job_schedule import SCALE_VARIABLE
from tui.sync.sample_audience import SAMPLE_PATH

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config"


async def test_sample_send_preview_verify_and_promote(tmp_path, simulator, monkeypatch):
    monkeypatch.setenv(SCALE_VARIABLE, POLL_SCALE)
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_send(pilot)
        table = app.query_one("#preview-table", DataTable)
        assert table.row_count == 20 and app.focused is table
        summary = str(app.query_one("#preview-summary", Static).render())
        assert "as sent to loyalty-attributes" in summary
        columns = [str(column.label) for column in table.columns.values()]
        assert columns == ["Row", "email", "Loyalty Tier", "Points", "Problem"]

        await pilot.press("m")
        await settle(pilot)  # the send ends at submission; the console follows its job and read-back
        history = app.query_one(HistorySection)
        await wait_until(pilot, lambda: bool(history.runs) and (history.runs[0].verification or "").startswith("matched"))
        with HistoryStore(app.session.data_dir, readonly=True) as store:
            run = store.list_runs()[0]
            verification = store.latest_verification(run.id)
        assert (run.mode, run.status) == ("sample", "finished")
        assert verification is not None and verification.passed
        actions = [entry.action for entry in Ledger(history_path(app.session.data_dir)).entries(limit=10)]
        assert "send.started" in actions and "send.finished" in actions

        await pilot.press("5")
        app.query_one("#promotion-destination").value = "loyalty-attributes"
        await settle(pilot)
        plan = app.query_one("PromotionSection").plan
        assert plan is not None and plan.ok, [gate.reason for gate in plan.failed]
        await pilot.press("P")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"loyalty", "enter")  # not the whole name: refused, the prompt stays
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("#prompt-input").value = "loyalty-attributes"
        await pilot.press("enter")
        await settle(pilot)
        production = tomllib.loads((app.session.config_dir / "production.toml").read_text())
        assert "loyalty-attributes" in production["destinations"]


async def test_cancelled_run_is_recorded_cancelled(tmp_path, start_simulator):
    # A slow endpoint the destination knows about: paced at its limit, the requests in flight when the
    # operator cancels finish in moments (at a limit it did not know, they would sit in 429 back-off).
    slow = await start_simulator(limits={"custom-attributes": 20})
    app = core_app(tmp_path, slow.url, endpoint="custom-attributes", rate_limit=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_send(pilot)
        await pilot.press("S", "y")
        await wait_until(pilot, lambda: app.progress is not None and app.progress.accepted > 0)
        assert "Cancel" in screen_text(app)  # the run's keys are offered while it runs
        await pilot.press("C", "y")
        await settle(pilot)
        assert app.run_handle is None
        with HistoryStore(app.session.data_dir, readonly=True) as store:
            run = store.list_runs()[0]
        assert run.status == "cancelled" and 0 < run.accepted < 3000


async def test_failing_gate_is_shown_and_promotion_refused(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        app.query_one("#promotion-destination").value = "loyalty-attributes"
        await settle(pilot)
        text = screen_text(app)
        assert "FAIL" in text and "no finished sandbox test" in text
        await pilot.press("P")
        assert not isinstance(app.screen, PromptScreen)
        production = (app.session.config_dir / "production.toml").read_text()
        assert "loyalty-attributes" not in production


async def test_production_send_asks_for_the_name(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url, environment="production")
    (app.session.config_dir / "production.toml").write_text(
        (app.session.config_dir / "sandbox.toml").read_text())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_send(pilot)
        await pilot.press("S")  # production: the typed name, no yes/no first
        assert isinstance(app.screen, PromptScreen) and "PRODUCTION" in app.screen.title_text
        await pilot.press("escape")
        await settle(pilot)
        with HistoryStore(app.session.data_dir, readonly=True) as store:
            assert store.list_runs() == []


async def test_unknown_source_file_is_a_message_not_a_crash(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        app.query_one("#send-source").value = str(tmp_path / "missing.csv")
        app.query_one("#send-source").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen) and "no such file" in app.screen.detail


async def test_embedded_default_previews_the_sample_without_taking_focus_elsewhere(tmp_path):
    """A new user's first keys: the sample preview is ready on arrival at Send, so `d` acts on it
    rather than typing into the path; until then it leaves the Destinations section's focus alone."""
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    session = Session(environment="sandbox", operator="alice", config_dir=config, data_dir=tmp_path / "data",
                      secrets_file=tmp_path / "secrets.toml", read_only=False)
    app = ConsoleApp(session, CoreBackend(session))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#preview-table", DataTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        assert app.current_section.id == "destinations" and app.focused is not table
        await pilot.press("3")
        await settle(pilot)
        assert app.query_one("#send-source").value == str(SAMPLE_PATH) and app.focused is table
        await pilot.press("d")
        await wait_until(pilot, lambda: "would send" in str(app.query_one("#send-status", Static).render()))
