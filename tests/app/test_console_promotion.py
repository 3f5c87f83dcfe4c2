"""Promotion says one thing at a time and shows only what it writes: one status line from one state
(not checked, gates failing, ready, promoted / nothing to promote), the diff of the text the promotion
writes into production.toml (never a field it leaves out, such as `subscriptions = false`), scrolled
into view at 80x24 once the gates are checked; `c` checks the gates (`g` is top-of-list everywhere)."""
from __future__ import annotations

import time
import tomllib
from contextlib import closing

from console_kit import FixedBackend, make_app, settle
from core_kit import core_app, screen_text
from textual.widgets import Static

from tui.app.screens.prompt import PromptScreen
from tui.app.sections.promotion import NOT_CHECKED, PromotionSection
from tui.core.promotion import PromotionError
from tui.settings.loader import load_environment
from tui.sync import history_schema

NAME = "loyalty-attributes"


def record_test_send(app) -> None:
    """A finished, read-back sample send of the sandbox destination as it is now: every gate passes."""
    config_hash = load_environment(app.session.config_dir, "sandbox").destinations[NAME].config_hash()
    with closing(history_schema.connect(app.session.data_dir)) as conn:
        run_id = conn.execute(
            "INSERT INTO runs (operator, environment, destination, endpoint, config_hash, mode, sample_size,"
            " source_path, source_hash, source_format, started_at, finished_at, status, rows_read, accepted,"
            " rejected, invalid, failed) VALUES ('alice', 'sandbox', ?, 'bulk', ?, 'sample', 50, 'audience.csv',"
            " 'x', 'csv', ?, ?, 'finished', 50, 50, 0, 0, 0)", (NAME, config_hash, time.time(), time.time()),
        ).lastrowid
        conn.execute(
            "INSERT INTO verifications (run_id, checked_at, checked, matched, mismatched, missing, passed, details)"
            " VALUES (?, ?, 50, 50, 0, 0, 1, '[]')", (run_id, time.time()))
        conn.commit()


def status(app) -> str:
    return str(app.query_one("#promotion-status", Static).render())


async def choose(pilot, name: str = NAME) -> None:
    await settle(pilot)
    await pilot.press("5")
    pilot.app.query_one("#promotion-destination").value = name
    await settle(pilot)


async def promote(pilot) -> None:
    await pilot.press("P")
    assert isinstance(pilot.app.screen, PromptScreen)
    pilot.app.screen.query_one("#prompt-input").value = NAME
    await pilot.press("enter")
    await settle(pilot)


async def test_one_status_line_before_and_after_promoting(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    record_test_send(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        assert status(app) == NOT_CHECKED
        await choose(pilot)
        assert status(app) == f"Every gate passed: P promotes {NAME} (you type its name)."
        assert "nothing" not in screen_text(app)

        await promote(pilot)
        assert NAME in tomllib.loads((app.session.config_dir / "production.toml").read_text())["destinations"]
        section = app.query_one(PromotionSection)
        assert section.plan is not None and section.plan.diff.unchanged  # checked again on the new files
        text = screen_text(app)
        assert status(app).startswith(f"{NAME} promoted (ledger entry #") and "nothing left to promote" in text
        assert "Every gate passed" not in text and "P promotes" not in text
        assert str(app.query_one("#promotion-diff", Static).render()) == ""

        await pilot.press("c")  # checked again: still one thing said
        await settle(pilot)
        assert status(app).endswith("nothing left to promote.") and "P promotes" not in screen_text(app)
        await pilot.press("P")  # nothing to promote: no prompt
        assert not isinstance(app.screen, PromptScreen)


async def test_failing_gates_say_so_once_and_c_checks_again():
    app = make_app()  # the fixed backend has no test send on record
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot, "sms-optins")  # not in production yet
        assert status(app) == "Promotion refused: 2 of 4 gates not passed (below); c checks again."
        text = screen_text(app)
        assert text.count("c checks again") == 1 and "P promotes" not in text and "Every gate passed" not in text
        section = app.query_one(PromotionSection)
        first = section.plan
        await pilot.press("g")  # g is top-of-list in the key language, not a check
        await settle(pilot)
        assert section.plan is first
        await pilot.press("c")
        await settle(pilot)
        assert section.plan is not None and section.plan is not first
        assert {row[2] for row in app.visible_bindings()} >= {"promotion.plan"}


async def test_the_diff_shows_only_what_is_written(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    record_test_send(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot)
        section = app.query_one(PromotionSection)
        assert section.plan is not None and not section.plan.destination.subscriptions
        diff = str(app.query_one("#promotion-diff", Static).render())
        assert "subscriptions" not in diff and f"+[destinations.{NAME}]" in diff
        added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
        before = (app.session.config_dir / "production.toml").read_text()
        await promote(pilot)
        after = (app.session.config_dir / "production.toml").read_text()
    assert after.startswith(before) and after[len(before):].splitlines() == added  # the diff was the write


async def test_the_diff_is_in_view_at_80x24_once_the_gates_passed(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    record_test_send(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot)
        await pilot.pause()  # the scroll comes after the plan is laid out
        diff = app.query_one("#promotion-diff", Static)
        box = app.query_one("#promotion-plan-box")
        shown = box.content_region.intersection(diff.region)
        assert shown.height >= 5, (box.content_region, diff.region)  # heading, file names, hunk, a line
        assert shown.bottom <= 24
        text = screen_text(app)
        assert "new in production, as written:" in text and f"+[destinations.{NAME}]" in text
        assert "Every gate passed" in text  # the status line stays above the scrolled box


class Unplannable(FixedBackend):
    def plan_promotion(self, destination):
        raise PromotionError("production.toml: cannot be read")


async def test_a_plan_that_cannot_be_made_says_so_in_the_status_line():
    app = make_app(backend=Unplannable())
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot, "sms-optins")
        assert status(app) == ("Promotion plan of sms-optins failed: production.toml: cannot be read "
                               "(c checks again).")


def test_a_pending_gate_reads_pending_whole_at_80_columns():
    """Jobs taking minutes at Attentive leave gates PENDING: the word is never cut to `PEN…`."""
    from types import SimpleNamespace

    from rich.console import Console

    from tui.app.sections.promotion import plan_view
    from tui.settings.promotion_gates import Gate

    gates = [Gate("admin", "operator is an admin", True, "alice is an admin"),
             Gate("verification", "read-back verification matched", False, "1 job processing", pending=True),
             Gate("production_credential", "production credential connects", False, "401", fix="set the key")]
    console = Console(width=80, record=True, no_color=True)
    console.print(plan_view(SimpleNamespace(gates=gates)))
    text = console.export_text()
    assert "PENDING read-back verification matched" in text and "PEN…" not in text
    assert "PASS    operator is an admin" in text and "FAIL    production credential" in text
