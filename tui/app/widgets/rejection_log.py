"""A Line-API view of a run's rejections: draws only the visible lines, from cached pages that
thread workers fetch around the viewport (after toolong's log view). A filter shows its first page
as soon as it is read; the exact count and the facets follow from a second worker.

The first line is the column header, drawn by the same view so it scrolls sideways with the rows.
A row cursor (up/down, j/k, g/G, page keys) stays visible; enter opens the rejection under it, y
copies its identifier. Columns take their widths from the terminal: row numbers right-aligned to the
widest of the filter, identifiers and messages cut only with an ellipsis. `<`/`>` pick the sort
column and `o` flips the order; SQLite sorts (tui.sync.rejections.ORDER_COLUMNS).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.error_guard import ErrorGuard
from tui.app.workers import post_result, reported
from tui.core.rejection_pages import PAGE_SIZE, FirstPage, PageCache, QueryResult, RejectionSource, counts, describe, first_page
from tui.sync import reasons
from tui.sync.rejections import ROW_ORDER, Rejection, RejectionFilter
from tui.sync.terminal_text import escape_controls

Mask = Callable[[str], str]
ELLIPSIS = "…"
CURSOR_MARK = ">"    # the cursor's line also in text: without colour a reverse shade may be all there is
GAP = "  "
REASON_WIDTH = max(len(code) for code in reasons.ALL)
STATUS_WIDTH = 4
IDENTIFIER_MIN, IDENTIFIER_MAX = 16, 40   # 27 is a typical email: it fits from 100 columns up
MESSAGE_MIN = 12
MESSAGE_MAX = 1000                        # a longer message is cut (with …) here; enter shows all of it
# The sortable columns, left to right, as (the order's name in RejectionFilter, header title).
COLUMNS = (("row", "row"), ("identifier", "identifier"), ("reason", "reason"), ("status", "http"),
           ("message", "message"))


def fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis (never cut silently)."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + ELLIPSIS
    return " " * (width - length) + text if right else text + " " * (width - length)


def cut(text: str, width: int) -> str:
    """At most `width` cells, with an ellipsis when it was longer."""
    return text if cell_len(text) <= width else set_cell_size(text, width - 1) + ELLIPSIS


def shown_identifier(row: Rejection, mask: Mask | None) -> str:
    """The identifier as the log shows (and y copies) it: masked when the operator's access says so."""
    if not row.identifier:
        return ""
    return mask(row.identifier) if mask is not None else row.identifier


@dataclass(frozen=True)
class Layout:
    """Column widths for a terminal width and the widest row number of the filter."""
    row: int
    identifier: int

    @classmethod
    def of(cls, width: int, widest_row: int = 0) -> Layout:
        row = max(len("row ▲"), len(str(widest_row)))
        fixed = row + REASON_WIDTH + STATUS_WIDTH + 4 * len(GAP)
        identifier = max(IDENTIFIER_MIN, min(IDENTIFIER_MAX, width - fixed - MESSAGE_MIN))
        return cls(row, identifier)

    @property
    def message_start(self) -> int:
        return self.row + self.identifier + REASON_WIDTH + STATUS_WIDTH + 4 * len(GAP)

    def header(self, where: RejectionFilter) -> str:
        def title(order: str, text: str) -> str:
            return text + ((" ▼" if where.descending else " ▲") if where.order == order else "")
        titles = dict((order, title(order, text)) for order, text in COLUMNS)
        return GAP.join((fit(titles["row"], self.row, right=True), fit(titles["identifier"], self.identifier),
                         fit(titles["reason"], REASON_WIDTH), fit(titles["status"], STATUS_WIDTH, right=True),
                         titles["message"]))

    def line(self, row: Rejection, mask: Mask | None) -> str:
        """Identifiers and messages are data: an ESC in one would be a command to the terminal, so
        controls are drawn escaped (after masking and before cutting, so the columns hold what is shown)."""
        identifier = escape_controls(shown_identifier(row, mask)) or "-"
        reason, message = escape_controls(row.reason), escape_controls(row.message or "")
        status = "-" if not row.status else str(row.status)
        return GAP.join((fit(str(row.row), self.row, right=True), fit(identifier, self.identifier),
                         fit(reason, REASON_WIDTH), fit(status, STATUS_WIDTH, right=True), cut(message, MESSAGE_MAX)))


def format_row(row: Rejection, mask: Mask | None, width: int = 80) -> str:
    """One line of the log as the run panel's tail shows it."""
    return Layout.of(width, row.row).line(row, mask).rstrip()


class RejectionLogView(ErrorGuard, ScrollView, can_focus=True):
    """Move the cursor with the usual keys; `set_filter` re-queries in a worker and the newest query wins."""

    DEFAULT_CSS = """
    RejectionLogView { height: 1fr; }
    RejectionLogView > .rejection-log--header { text-style: bold underline; }
    RejectionLogView > .rejection-log--cursor { text-style: reverse; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"rejection-log--header", "rejection-log--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        # The list keys carry the lists' ids (widgets/data_list.py), so one remap moves them everywhere;
        # the arrows and paging keys are the log's own.
        Binding("up", "cursor(-1)", "Up", id="rejections.up", show=False),
        Binding("down", "cursor(1)", "Down", id="rejections.down", show=False),
        Binding("k", "cursor(-1)", "Up", id="list.up", show=False),
        Binding("j", "cursor(1)", "Down", id="list.down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="rejections.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="rejections.page_down", show=False),
        Binding("home", "top", "Top", id="rejections.top", show=False),
        Binding("end", "bottom", "Bottom", id="rejections.bottom", show=False),
        Binding("g", "top", "Top", id="list.top", show=False),
        Binding("G", "bottom", "Bottom", id="list.bottom", show=False),
        Binding("enter", "open", "Open", id="rejections.open"),
        Binding("y", "copy", "Copy id", id="list.copy"),
        Binding("less_than_sign", "sort(-1)", "Sort column left", id="list.sort_left", show=False),
        Binding("greater_than_sign", "sort(1)", "Sort column right", id="list.sort_right", show=False),
        Binding("o", "order", "Flip sort order", id="list.order", show=False),
    ]

    @dataclass
    class Shown(Message):
        """A filter's first page is read: the log shows it, then the section (its count may be capped,
        its facets are coming)."""
        page: FirstPage

    @dataclass
    class Queried(Message):
        """A filter's exact count and facets are known: the log takes the count, the section shows them."""
        result: QueryResult
        generation: int

    @dataclass
    class PageLoaded(Message, bubble=False):
        """A page around the viewport is read (the log's own cache)."""
        page: int
        rows: Sequence[Rejection]
        generation: int

    @dataclass
    class Opened(Message):
        """enter on a rejection: its parent opens it (RejectionDetailScreen)."""
        rejection: Rejection

    @dataclass
    class CopyEmpty(Message):
        """y with no identifier under the cursor (an empty log, a row recorded without one): the parent
        copies what it holds instead (the run id)."""

    def __init__(self, source: RejectionSource, *, mask: Mask | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.mask = mask
        self.where = RejectionFilter()
        self.total = 0
        self.cursor = 0                # index of the row under the cursor, in the filter's order
        self.widest_row = 0
        self.widest_message = 0        # of the rows loaded: how far the view scrolls sideways
        self.cache = PageCache()
        self.generation = 0            # bumps on every filter shown; stale loads are dropped
        self.pages_loading: set[int] = set()
        self.loaded = False

    def on_mount(self) -> None:
        self.set_filter(RejectionFilter())

    def set_filter(self, where: RejectionFilter) -> None:
        """Query in a worker; the newest filter wins (older queries are cancelled and abandoned)."""
        self.read_first_page(where)

    @work(thread=True, name="Filter rejections", group="rejection-query", exclusive=True, exit_on_error=False)
    def read_first_page(self, where: RejectionFilter) -> None:
        with reported(self, "Filter rejections"):
            post_result(self, self.Shown(first_page(self.source, where)))

    @on(Shown)
    def show_page(self, message: RejectionLogView.Shown) -> None:
        page = message.page
        self.workers.cancel_group(self, "rejection-pages")  # loads for the filter replaced
        self.generation += 1
        self.where = page.where
        self.total = page.total
        self.widest_row = page.widest_row
        self.widest_message = 0
        self.cache.clear()
        self.pages_loading.clear()
        self.cache.put(0, page.rows)
        self._measure(page.rows)
        self.loaded = True
        self.cursor = 0
        self._resize()
        self.scroll_to(0, 0, animate=False)
        self.refresh()
        self.count_matches(page.where, self.generation)

    @work(thread=True, name="Count rejections", group="rejection-counts", exclusive=True, exit_on_error=False)
    def count_matches(self, where: RejectionFilter, generation: int) -> None:
        with reported(self, "Count rejections"):
            post_result(self, self.Queried(counts(self.source, where), generation))

    @on(Queried)
    def show_counts(self, message: RejectionLogView.Queried) -> None:
        if message.generation != self.generation:
            message.stop()  # a newer filter is shown: its own counts are coming
            return
        self.total = message.result.total
        self.cursor = min(self.cursor, max(0, self.total - 1))
        self._resize()
        self.refresh()

    # -- geometry -----------------------------------------------------------------------------------

    @property
    def layout_now(self) -> Layout:
        return Layout.of(self.scrollable_content_region.width, self.widest_row)

    @property
    def rows_height(self) -> int:
        """Lines for rows: the view's height (less a horizontal scrollbar) less the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _measure(self, rows: Sequence[Rejection]) -> None:
        for row in rows:
            self.widest_message = max(self.widest_message, min(MESSAGE_MAX, cell_len(row.message or "")))

    def _resize(self) -> None:
        lines = 1 + self.layout_now.message_start + max(len("message"), self.widest_message)   # 1: the cursor mark
        width = max(self.scrollable_content_region.width, lines)
        self.virtual_size = Size(width, self.total + 1)   # + the header line

    def on_resize(self, event: events.Resize) -> None:
        self._resize()

    # -- the cursor ---------------------------------------------------------------------------------

    def move_cursor(self, index: int) -> None:
        if self.total == 0:
            return
        self.cursor = max(0, min(self.total - 1, index))
        first = round(self.scroll_offset.y)
        if self.cursor < first:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= first + self.rows_height:
            self.scroll_to(y=self.cursor - self.rows_height + 1, animate=False)
        self.refresh()

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(self.cursor + step * self.rows_height)

    def action_top(self) -> None:
        self.move_cursor(0)

    def action_bottom(self) -> None:
        self.move_cursor(self.total - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(round(self.scroll_offset.y) + event.y - 1)

    @property
    def current(self) -> Rejection | None:
        """The rejection under the cursor, when its page is loaded."""
        return self.cache.row(self.cursor) if self.total else None

    def action_open(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Opened(row))

    def action_copy(self) -> None:
        row = self.current
        if row is None and self.total:
            self.notify("That row is still loading; try again in a moment.", severity="warning")
            return
        identifier = shown_identifier(row, self.mask) if row is not None else ""
        if not identifier:
            self.post_message(self.CopyEmpty())
            return
        self.app.copy_to_clipboard(identifier)
        self.notify(f"copied {escape_controls(identifier)}", markup=False)

    # -- sorting (by SQLite: the filter carries the order) ------------------------------------------

    def action_sort(self, step: int) -> None:
        orders = [order for order, _ in COLUMNS]
        index = orders.index(self.where.order) if self.where.order in orders else 0
        self.set_filter(dataclasses.replace(self.where, order=orders[(index + step) % len(orders)], descending=False))

    def action_order(self) -> None:
        order = self.where.order if self.where.order in dict(COLUMNS) else ROW_ORDER
        self.set_filter(dataclasses.replace(self.where, order=order, descending=not self.where.descending))

    # -- drawing ------------------------------------------------------------------------------------

    def visible_lines(self) -> list[str]:
        """The text of the rows on screen now, without the header (for tests and the export summary)."""
        first = round(self.scroll_offset.y)
        return [self._line_text(index) for index in range(first, min(self.total, first + self.rows_height))]

    def header_text(self) -> str:
        return self.layout_now.header(self.where)

    def _line_text(self, index: int) -> str:
        row = self.cache.row(index)
        if row is None:
            self._request_page(index // PAGE_SIZE)
            return fit(ELLIPSIS, self.layout_now.row, right=True)
        return self.layout_now.line(row, self.mask)

    def _request_page(self, page: int) -> None:
        if page in self.pages_loading or self.cache.has(page):
            return
        self.pages_loading.add(page)
        self.load_page(self.where, page, self.generation)

    @work(thread=True, name="Load rejections", group="rejection-pages", exit_on_error=False)
    def load_page(self, where: RejectionFilter, page: int, generation: int) -> None:
        with reported(self, "Load rejections"):
            rows = self.source.page(where, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
            post_result(self, self.PageLoaded(page, rows, generation))

    @on(PageLoaded)
    def page_loaded(self, message: RejectionLogView.PageLoaded) -> None:
        if message.generation != self.generation:
            return
        self.pages_loading.discard(message.page)
        self.cache.put(message.page, message.rows)
        widest = self.widest_message
        self._measure(message.rows)
        if self.widest_message != widest:
            self._resize()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x = round(self.scroll_offset.x)
        style = self.rich_style
        if y == 0:
            text = " " + self.header_text() if self.loaded else ""
            style = style + self.get_component_rich_style("rejection-log--header", partial=True)
            return self._strip(text, scroll_x, width, style)
        index = round(self.scroll_offset.y) + y - 1
        if not self.loaded:
            text = "loading…" if y == 1 else ""
        elif self.total == 0:
            text = f"no rejections match {describe(self.where)}" if y == 1 else ""
        elif index >= self.total:
            text = ""
        else:
            text = (CURSOR_MARK if index == self.cursor else " ") + self._line_text(index)
            if index == self.cursor:
                style = style + self.get_component_rich_style("rejection-log--cursor", partial=True)
            if y == self.rows_height:
                # prefetch the next page while the operator reads this one
                self._request_page((index + PAGE_SIZE // 2) // PAGE_SIZE)
        return self._strip(text, scroll_x, width, style)

    def _strip(self, text: str, scroll_x: int, width: int, style: Style) -> Strip:
        """The part of the line in view; a line going on past the right edge ends in an ellipsis."""
        if not text:
            return Strip.blank(width, style)
        strip = Strip([Segment(text, style)]).crop_extend(scroll_x, scroll_x + width, style)
        if cell_len(text.rstrip()) > scroll_x + width and width > 1:
            strip = Strip.join([strip.crop(0, width - 1), Strip([Segment(ELLIPSIS, style)])])
        return strip
