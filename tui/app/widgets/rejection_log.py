"""A Line-API view of a run's rejections: draws only the visible lines, from cached pages that
thread workers fetch around the viewport (after toolong's log view). A filter shows its first page
as soon as it is read; the exact count and the facets follow from a second worker."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from textual import on, work
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.error_guard import ErrorGuard
from tui.app.workers import post_result, reported
from tui.core.rejection_pages import PAGE_SIZE, FirstPage, PageCache, QueryResult, RejectionSource, counts, describe, first_page
from tui.sync.rejections import Rejection, RejectionFilter
from tui.sync.terminal_text import escape_controls

Mask = Callable[[str], str]
LINE_WIDTH = 160   # lines are cut here; scroll right for long messages
HEADER = f"{'row':>8} {'identifier':<25} {'reason':<20} {'http':>4}  message"


def format_row(row: Rejection, mask: Mask | None) -> str:
    """One line of the log (and of the run panel's tail). Identifiers and messages are data: an ESC in
    one would be a command to the terminal, so controls are drawn escaped (after masking and before
    cutting, so the columns hold what is shown)."""
    identifier = row.identifier or "-"
    if mask is not None and row.identifier:
        identifier = mask(row.identifier)
    identifier, reason, message = (escape_controls(text) for text in (identifier, row.reason, row.message or ""))
    status = "-" if not row.status else str(row.status)
    return f"{row.row:>8} {identifier[:25]:<25} {reason[:20]:<20} {status:>4}  {message}"


class RejectionLogView(ErrorGuard, ScrollView, can_focus=True):
    """Scroll with the usual keys; `set_filter` re-queries in a worker and the newest query wins."""

    DEFAULT_CSS = "RejectionLogView { height: 1fr; }"

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

    def __init__(self, source: RejectionSource, *, mask: Mask | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.mask = mask
        self.where = RejectionFilter()
        self.total = 0
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
        self.cache.clear()
        self.pages_loading.clear()
        self.cache.put(0, page.rows)
        self.loaded = True
        self.virtual_size = Size(LINE_WIDTH, self.total)
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
        self.virtual_size = Size(LINE_WIDTH, self.total)
        self.refresh()

    def visible_lines(self) -> list[str]:
        """The text of the lines on screen now (for tests and the export summary)."""
        first = round(self.scroll_offset.y)
        return [self._line_text(index) for index in range(first, min(self.total, first + self.size.height))]

    def _line_text(self, index: int) -> str:
        row = self.cache.row(index)
        if row is None:
            self._request_page(index // PAGE_SIZE)
            return f"{'…':>8}"
        return format_row(row, self.mask)

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
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_offset.y) + y
        width = self.size.width
        if not self.loaded:
            text = "loading…" if y == 0 else ""
        elif self.total == 0:
            text = f"no rejections match {describe(self.where)}" if y == 0 else ""
        elif index >= self.total:
            text = ""
        else:
            text = self._line_text(index)
            if y == self.size.height - 1:
                # prefetch the next page while the operator reads this one
                self._request_page((index + PAGE_SIZE // 2) // PAGE_SIZE)
        strip = Strip([Segment(text, self.rich_style)]) if text else Strip.blank(width, self.rich_style)
        return strip.crop_extend(round(self.scroll_offset.x), round(self.scroll_offset.x) + width,
                                 self.rich_style)

