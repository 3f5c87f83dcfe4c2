"""History and the rejection log over a real history database."""
from __future__ import annotations

from console_kit import FixedBackend, make_app, open_run, settle
from textual.widgets import ContentSwitcher, DataTable


async def test_run_detail_filters_as_typed_and_goes_back(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        log = await open_run(pilot)
        assert log.total == 210 and log.visible_lines()[0].split()[:2] == ["2", "user0000000@example.com"]
        await pilot.press("slash", *"user000010", "enter")
        await settle(pilot)
        assert log.total == 10
        assert all("user000010" in line for line in log.visible_lines())
        await pilot.press("escape")
        assert app.query_one("#history-switcher", ContentSwitcher).current == "history-list"


async def test_facet_picker_narrows_to_a_reason(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        log = await open_run(pilot)
        await pilot.press("f", "down", "down", "enter")  # second facet: invalid_phone or invalid_email
        await settle(pilot)
        reason = log.where.reason
        assert reason in ("invalid_email", "invalid_phone") and log.total in (52, 53)
        assert all(reason in line for line in log.visible_lines())


async def test_restricted_operator_sees_masked_identifiers_and_exports_masked(tmp_path):
    backend = FixedBackend().with_history(tmp_path)
    app = make_app(operator="bob", backend=backend)
    async with app.run_test(size=(80, 24)) as pilot:
        log = await open_run(pilot)
        lines = log.visible_lines()
        assert "u***@e***.com" in lines[0] and not any("example.com" in line for line in lines)
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one("#prompt-input").value = str(tmp_path / "out.csv")
        await pilot.press("enter")
        await settle(pilot)
        assert backend.exports and backend.exports[0][3] is True


async def test_read_only_hides_resend_but_keeps_export(tmp_path):
    app = make_app(read_only=True, backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot)
        ids = {row[2] for row in app.visible_bindings()}
        assert "rejections.export" in ids and "rejections.resend" not in ids


async def test_a_reload_keeps_the_cursor_on_its_run(tmp_path):
    """History reloads whenever a bulk job folds: the operator's place in the list stays put."""
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4", "down")
        table = app.query_one("#runs-table", DataTable)
        assert table.cursor_row == 1
        await pilot.press("r")
        await settle(pilot)
        assert table.cursor_row == 1 and table.row_count == 3
