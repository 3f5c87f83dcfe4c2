"""The rejection log to work in: a row cursor, enter opens a rejection (masked for a restricted-PII
operator), identifiers and messages cut only with an ellipsis, the header scrolling with the rows,
rows in numeric row order and sorted by SQLite, y copies, R re-sends exactly the rows shown."""
from __future__ import annotations

from pathlib import Path

import pytest
from console_kit import RUNS, FixedBackend, build_history, make_app, open_run, open_send, settle, wait_until
from core_kit import core_app

from tui.app.messages import ResendRequested, RunRecorded
from tui.app.screens.rejection_detail import RejectionDetailScreen
from tui.app.screens.yes_no import YesNoScreen
from tui.app.widgets.rejection_log import ELLIPSIS, RejectionLogView
from tui.app.widgets.run_detail import RunDetail
from tui.settings.access import mask_identifier
from tui.sync.history import HistoryStore
from tui.sync.rejections import RejectionFilter

MAYA = "maya.murphy2167@example.com"
LONG = "a.very.long.identifier.that.no.column.holds.whole.0123456789@example.com"
LONG_MESSAGE = "Attentive said: " + "the value is not one the attribute accepts; " * 6 + "END"
ROWS = [str(row) for row in range(2, 121)]
TEXT_ORDER = sorted(ROWS)   # 10, 100, 101, ..., 11, ...: the order they are recorded in here


def identifier_of(row: int) -> str:
    return MAYA if row == 2 else LONG if row == 3 else f"user{row:04d}@example.com"


def write_run(data_dir: Path) -> None:
    """Run 3 with rejections at rows 2..120 recorded in text order (so id order is not row order)."""
    build_history(data_dir, 3, [
        (3, int(row), "invalid_email" if int(row) % 3 == 0 else "attentive_rejected", identifier_of(int(row)),
         None if int(row) % 3 == 0 else 400, LONG_MESSAGE if row == "4" else f"message of row {row}")
        for row in TEXT_ORDER])


def backend_with_run(tmp_path: Path) -> FixedBackend:
    backend = FixedBackend()
    backend.run_rows, backend.data_dir = list(RUNS), tmp_path
    write_run(tmp_path)
    return backend


def line(log: RejectionLogView, y: int) -> str:
    return log.render_line(y).text


def first_rows(log: RejectionLogView) -> list[int]:
    return [int(text.split()[0]) for text in log.visible_lines()]


class Clipboard:
    def __init__(self, app, monkeypatch) -> None:
        self.copied: list[str] = []
        monkeypatch.setattr(app, "copy_to_clipboard", self.copied.append)


async def test_rows_come_in_numeric_row_order_and_sort_by_column_and_order(tmp_path):
    app = make_app(backend=backend_with_run(tmp_path))
    async with app.run_test(size=(120, 30)) as pilot:
        log = await open_run(pilot)
        assert first_rows(log)[:5] == [2, 3, 4, 5, 6]
        assert log.header_text().split()[:2] == ["row", "▲"]
        await pilot.press("o")   # flip the order: the last row first
        await settle(pilot)
        assert first_rows(log)[:3] == [120, 119, 118] and "row ▼" in log.header_text()
        await pilot.press("greater_than_sign")   # the next column: identifier, ascending
        await settle(pilot)
        assert log.where.order == "identifier" and not log.where.descending
        assert "identifier ▲" in log.header_text() and "row ▼" not in log.header_text()
        shown = [text.split()[1] for text in log.visible_lines()]
        assert shown[:2] == [LONG[:len(shown[0]) - 1] + ELLIPSIS, MAYA] and shown[2:] == sorted(shown[2:])
        await pilot.press("less_than_sign")   # back to the row column
        await settle(pilot)
        assert log.where.order == "row" and first_rows(log)[:2] == [2, 3]
        # a facet keeps the order shown
        detail = app.query_one(RunDetail)
        await pilot.press("o")
        await settle(pilot)
        detail.facet_picked(RejectionFilter(reason="invalid_email"))
        await settle(pilot)
        assert log.where.descending and first_rows(log)[:2] == [120, 117]


@pytest.mark.parametrize("width", [80, 120])
async def test_identifiers_and_messages_are_cut_only_with_an_ellipsis(tmp_path, width):
    app = make_app(backend=backend_with_run(tmp_path))
    async with app.run_test(size=(width, 30)) as pilot:
        log = await open_run(pilot)
        maya, long, message = line(log, 1), line(log, 2), line(log, 3)
        assert MAYA in maya                                   # a typical email fits whole
        long_shown = long.split()[1]
        assert long_shown.endswith(ELLIPSIS) and LONG.startswith(long_shown[:-1]) and LONG not in long
        assert message.rstrip().endswith(ELLIPSIS) and len(message) == log.scrollable_content_region.width   # goes on past the edge
        assert all(len(line(log, y)) == log.scrollable_content_region.width for y in range(log.rows_height + 1))
        # no 160-character stop: scrolled to the end, the long message ends whole
        log.scroll_to(x=log.max_scroll_x, animate=False)
        await pilot.pause()
        assert line(log, 3).rstrip().endswith("END") and log.virtual_size.width > 160


async def test_the_header_scrolls_sideways_with_the_rows_and_columns_align(tmp_path):
    app = make_app(backend=backend_with_run(tmp_path))
    async with app.run_test(size=(80, 30)) as pilot:
        log = await open_run(pilot)
        header, row2 = line(log, 0), line(log, 1)
        start = header.index("identifier")
        assert row2.index(MAYA) == start and row2.startswith(">    2  ")   # the cursor; right-aligned as "row ▲"
        await pilot.press("G")
        await settle(pilot)
        last = line(log, log.rows_height)
        assert last.startswith(">  120  ") and last.index("user0120") == start
        await pilot.press("right", "right", "right", "right", "right")
        await pilot.pause()
        x = round(log.scroll_offset.x)
        assert x == 5 and line(log, 0).startswith((" " + log.header_text())[x:x + 10])
        assert line(log, 0).index("dentifier") + x == start + 1 == line(log, log.rows_height).index("ser0120") + x


async def test_the_cursor_moves_with_the_list_keys_and_stays_visible(tmp_path):
    app = make_app(backend=backend_with_run(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        log = await open_run(pilot)
        await pilot.press("j", "j", "k", "down")
        assert log.cursor == 2 and log.current is not None and log.current.row == 4
        await pilot.press("G")
        assert log.cursor == 118 and log.scroll_offset.y == log.max_scroll_y
        assert log.cursor - round(log.scroll_offset.y) == log.rows_height - 1   # on the last line shown
        await pilot.press("g")
        assert log.cursor == 0 and log.scroll_offset.y == 0
        await pilot.press("pagedown")
        assert log.cursor == log.rows_height
        assert round(log.scroll_offset.y) <= log.cursor < round(log.scroll_offset.y) + log.rows_height


async def test_y_copies_the_identifier_under_the_cursor_and_i_the_run_id(tmp_path, monkeypatch):
    app = make_app(backend=backend_with_run(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        clipboard = Clipboard(app, monkeypatch)
        await open_run(pilot)
        await pilot.press("y")
        await pilot.press("down", "y")
        await pilot.press("i")
        assert clipboard.copied == [MAYA, LONG, "3"]
        await pilot.press("slash", *"nobody-at-all", "enter")   # an empty log: y copies the run id
        await settle(pilot)
        await pilot.press("y")
        assert clipboard.copied[-1] == "3"


async def test_a_restricted_operator_copies_the_masked_identifier(tmp_path, monkeypatch):
    app = make_app(operator="bob", backend=backend_with_run(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        clipboard = Clipboard(app, monkeypatch)
        log = await open_run(pilot)
        await pilot.press("y")
        assert clipboard.copied == [mask_identifier(MAYA)] and "example.com" not in clipboard.copied[0]
        assert mask_identifier(MAYA) in log.visible_lines()[0]


# -- over the real core and the simulator -------------------------------------------------------------

class Seen:
    """A message hook: what the app handled, by kind."""

    def __init__(self) -> None:
        self.messages: list = []

    def __call__(self, message) -> None:
        if not any(message is known for known in self.messages):  # once, however far it bubbles
            self.messages.append(message)

    def of(self, kind: type) -> list:
        return [message for message in self.messages if isinstance(message, kind)]


async def sent_run(pilot, seen: Seen) -> RejectionLogView:
    """The shipped sample audience sent to loyalty-attributes, then its rejection log."""
    await open_send(pilot)
    await pilot.press("S", "y")   # the whole file, confirmed
    await wait_until(pilot, lambda: bool(seen.of(RunRecorded)))
    await settle(pilot)
    return await open_run(pilot)


async def test_enter_shows_everything_known_masked_for_bob_and_esc_or_q_closes(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url, operator="bob")
    seen = Seen()
    async with app.run_test(size=(120, 40), message_hook=seen) as pilot:
        log = await sent_run(pilot, seen)
        assert log.total > 0
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, RejectionDetailScreen)
        await wait_until(pilot, lambda: screen.detail is not None)
        detail = screen.detail
        assert detail is not None and detail.masked and detail.values is not None
        text = "\n".join(str(static.render()) for static in screen.query("Static"))
        raw = HistoryStore(tmp_path / "data", readonly=True)
        with raw as store:
            [stored] = [row for row in store.connection.execute(
                "SELECT row, identifier, reason FROM rejections WHERE id = ?", (detail.rejection.id,))]
        row, identifier, reason = stored
        assert f"row          {row:,}" in text and reason in text
        if identifier:
            assert identifier not in text and mask_identifier(identifier) in text
        assert "example.net" not in text      # the sample's emails, in the source values too
        assert "email" in dict(detail.values) and "source row" in text
        await pilot.press("q")
        assert not isinstance(app.screen, RejectionDetailScreen)
        await pilot.press("enter")
        assert isinstance(app.screen, RejectionDetailScreen)
        await settle(pilot)
        await pilot.press("escape")
        assert not isinstance(app.screen, RejectionDetailScreen)


async def test_the_detail_says_why_the_source_values_are_not_shown(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    seen = Seen()
    async with app.run_test(size=(120, 40), message_hook=seen) as pilot:
        await sent_run(pilot, seen)
        run = app.view.runs[0]
        with HistoryStore(tmp_path / "data") as store:   # the file is not the one the run read
            store.connection.execute("UPDATE runs SET source_hash = 'other' WHERE id = ?", (run.run_id,))
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, RejectionDetailScreen)
        await wait_until(pilot, lambda: screen.detail is not None)
        assert screen.detail is not None and screen.detail.values is None
        assert "changed since the run read it" in str(screen.query_one("#rejection-values").render())


async def test_r_with_a_facet_re_sends_exactly_the_rows_shown_after_confirming(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    seen = Seen()
    async with app.run_test(size=(120, 40), message_hook=seen) as pilot:
        log = await sent_run(pilot, seen)
        parent = app.view.runs[0].run_id
        with HistoryStore(tmp_path / "data", readonly=True) as store:
            reasons = dict(store.connection.execute(
                "SELECT reason, count(*) FROM rejections WHERE run_id = ? GROUP BY reason", (parent,)).fetchall())
        assert len(reasons) >= 2, reasons   # a facet shows fewer rows than all
        reason = min(reasons, key=lambda name: (name == "duplicate_identifier", reasons[name]))
        app.query_one(RunDetail).apply(RejectionFilter(reason=reason))
        await settle(pilot)
        assert log.total == reasons[reason]
        with HistoryStore(tmp_path / "data", readonly=True) as store:
            expected = {row for (row,) in store.connection.execute(
                "SELECT row FROM rejections WHERE run_id = ? AND reason = ?", (parent, reason))}
        first_recorded = len(seen.of(RunRecorded))

        await pilot.press("R")
        await settle(pilot)
        choice = app.screen
        assert isinstance(choice, YesNoScreen)
        rows = f"{len(expected):,} row" + ("" if len(expected) == 1 else "s")
        assert (f"Re-send {rows} (reason={reason}) to loyalty-attributes in sandbox?" in choice.explanation)
        await pilot.press("escape")          # cancelled: nothing is sent
        await settle(pilot)
        assert not seen.of(ResendRequested) and len(app.view.runs) == 1

        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(seen.of(RunRecorded)) > first_recorded)
        await settle(pilot)
        [order] = seen.of(ResendRequested)
        assert order.where == RejectionFilter(reason=reason) and order.count == len(expected)
        retry = seen.of(RunRecorded)[-1].result.run
        assert retry.parent_run_id == parent and retry.id != parent
        with HistoryStore(tmp_path / "data", readonly=True) as store:
            sent = {row for (row,) in store.connection.execute(
                "SELECT row FROM row_outcomes WHERE run_id = ?", (retry.id,))}
        assert sent == expected
