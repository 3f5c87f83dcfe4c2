"""80x24 is the design size, and no colour a first-class mode: what the operator reads on the rendered
screen (core_kit.screen_text, the SVG export's text), not what the widgets hold."""
from __future__ import annotations

import pytest
from console_kit import make_app, settle, wait_until
from core_kit import screen_text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input

from tui.app.screens.too_small import TooSmallScreen
from tui.app.widgets.header import SECTION_TITLES, SHORT_TITLES, ConsoleHeader, tab_line
from tui.app.widgets.key_footer import MORE, KeyFooter, key_width
from tui.app.widgets.text_checkbox import TextCheckbox
from tui.sync.progress import Progress


def lines(app) -> list[str]:
    """The screen's cells as they are drawn, a line a row (the SVG text leaves out blank margins)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("section", ["1", "2", "3", "4", "5"])
async def test_the_footer_fits_80_columns_and_always_offers_help(section):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(section)
        await settle(pilot)
        footer = app.query_one(KeyFooter).text()
        bottom = lines(app)[-1]
        assert bottom.rstrip() == footer  # each key whole, nothing drawn over another
        if isinstance(app.focused, Input):  # `?` and `:` type there: help is on f1, which works in a field
            assert "f1 Help" in bottom and "^q Quit" in bottom
        else:
            assert "? Help" in bottom and ": Command" in bottom and "^q Quit" in bottom
        assert "palette" not in bottom and len(bottom.rstrip()) <= 80


async def test_the_footer_refits_when_the_terminal_narrows():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        footer = app.query_one(KeyFooter)
        wide = footer.text()
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: footer.shown_width == 80)
        await pilot.pause()
        bottom = lines(app)[-1].rstrip()
        assert bottom == footer.text() and "? Help" in bottom and len(bottom) <= 80
        assert wide.startswith(bottom.split(" …")[0])  # the same keys, the first ones kept


async def test_keys_that_do_not_fit_are_left_out_whole_with_a_mark():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.query_one(KeyFooter)
        everything = footer.shown()
        full = sum(footer.width_of(active) for active in everything)
        fitted, cut = footer.fitted(full - 1)  # one cell short of everything
        assert cut and len(fitted) == len(everything) - 1
        assert [active.binding.action for active in fitted][-3:] == ["command_bar", "help", "quit"]
        narrow, _ = footer.fitted(20)  # the console's own keys stay whatever the width
        assert [active.binding.action for active in narrow] == ["command_bar", "help", "quit"]
        await pilot.resize_terminal(80, 24)
        assert MORE not in footer.text()
    assert key_width("^q", "Quit") == len("^q Quit ")


async def test_the_header_and_tabs_are_not_cut_at_80_columns():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        top, tabs = lines(app)[:2]
        assert top.startswith(" SANDBOX ") and "alice (admin)" in top and len(top.rstrip()) <= 80
        assert all(f"{index + 1} {title}" in tabs for index, title in enumerate(SECTION_TITLES))
        assert tabs.rstrip().endswith("no send running")
        header = app.query_one(ConsoleHeader)
        header.connection = "connected: Northwind Outfitters (Sandbox) (attentive-console)"  # the demo's, 86 wide
        await pilot.pause()
        assert lines(app)[0].rstrip().endswith("connected: Northwind Outfitters (Sandbox)")  # the app's name went
        header.progress = Progress(run_id=1234, state="cancelling", accepted=5, total_rows_estimate=10)
        await pilot.pause()
        tabs = lines(app)[1]
        assert tabs.rstrip().endswith("run #1234 cancelling 50%")  # the state whole, the tabs shortened
        assert "1 Destinations" in tabs and all(f"{index + 1} {short}" in tabs
                                                for index, short in enumerate(SHORT_TITLES))


def test_tabs_shorten_only_when_the_state_does_not_fit():
    assert tab_line(2, "no send running", 120).plain.startswith(" 1 Destinations  2 Credentials  3 Send ")
    short = tab_line(2, "run #1234 cancelling 50%", 80).plain
    assert short.startswith(" 1 Dest  2 Cred  3 Send  4 Hist  5 Prom ") and len(short) == 80


async def test_below_80x24_a_notice_replaces_the_layout_until_the_terminal_grows():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.resize_terminal(60, 20)
        await wait_until(pilot, lambda: isinstance(app.screen, TooSmallScreen))
        assert "terminal too small: 80x24 needed (now 60x20)" in screen_text(app)
        await pilot.press("2", "question_mark")  # the console's keys wait: nothing opens unseen
        assert isinstance(app.screen, TooSmallScreen)
        await pilot.resize_terminal(79, 24)
        await wait_until(pilot, lambda: "(now 79x24)" in screen_text(app))
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: not isinstance(app.screen, TooSmallScreen))
        assert "? Help" in lines(app)[-1] and len(app.screen_stack) == 1


async def test_a_console_opened_small_says_so_at_once():
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TooSmallScreen)
        assert "terminal too small: 80x24 needed (now 60x20)" in screen_text(app)
        await pilot.resize_terminal(100, 30)
        await wait_until(pilot, lambda: not isinstance(app.screen, TooSmallScreen))


# -- NO_COLOR ---------------------------------------------------------------------------------------

class Boxes(App[None]):
    def compose(self) -> ComposeResult:
        yield TextCheckbox("Ticked", True, id="on")
        yield TextCheckbox("Not ticked", False, id="off")


@pytest.mark.parametrize("no_color", [True, False])
async def test_checkboxes_show_their_state_in_text(monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")  # Textual reads it when the app is built
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = Boxes()
    assert app.no_color is no_color
    async with app.run_test(size=(40, 10)) as pilot:
        text = screen_text(app)
        assert "[x] Ticked" in text and "[ ] Not ticked" in text
        await pilot.click("#off")
        await pilot.pause()
        assert screen_text(app).count("[x]") == 2


async def test_without_colour_focus_shows_in_text_styles(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one("#destinations-table", DataTable)
        assert app.focused is table
        assert "reverse" in str(table.get_component_styles("datatable--cursor").text_style)
        await pilot.press("3")
        await settle(pilot)
        path = next(widget for widget in app.query(Input) if widget.display and widget.id != "command-input"
                    and widget.focusable)
        path.focus()
        await pilot.pause()
        assert "underline" in str(path.styles.text_style)
        app.set_focus(None)
        await pilot.pause()
        assert "underline" not in str(path.styles.text_style)


async def test_with_colour_the_cursor_keeps_textuals_look(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one("#destinations-table", DataTable)
        assert "reverse" not in str(table.get_component_styles("datatable--cursor").text_style)


async def test_the_destination_forms_checkboxes_read_without_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        boxes = list(app.screen.query(TextCheckbox))
        assert boxes
        for box in boxes:
            box.scroll_visible(animate=False, immediate=True)
            await pilot.pause()
            text = screen_text(app)
            assert f"{box.state_text} {box.label}" in text and "▐X▌" not in text
        assert {box.state_text for box in boxes} == {"[x]", "[ ]"}  # the fixed destination has both
