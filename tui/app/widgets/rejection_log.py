"""A Line-API view of a run's rejections: draws only the visible lines, from cached pages that
thread workers fetch around the viewport (after toolong's log view). A filter shows its first page
as soon as it is read; the exact count and the facets follow from a second worker."""
from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.error_guard import ErrorGuard
from tui.app.rejections import (PAGE_SIZE, FirstPage, PageCache, QueryResult, RejectionSource, counts, describe,
                                first_page)
from tui.app.workers import run_blocking
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


class RejectionLog(ErrorGuard, ScrollView, can_focus=True):
    """Scroll with the usual keys; `set_filter` re-queries in a worker and the newest query wins."""

    DEFAULT_CSS = "RejectionLog { height: 1fr; }"

    class Shown(Message):
        """A filter's first page is on screen; its count may be capped, its facets are coming."""

        def __init__(self, page: FirstPage) -> None:
            super().__init__()
            self.page = page

    class Queried(Message):
        """A filter's exact count and facets are known (for the section to show)."""

        def __init__(self, result: QueryResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, source: RejectionSource, *, mask: Mask | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.mask = mask
        self.where = RejectionFilter()
        self.total = 0
        self.counting = False          # the exact count and facets of the filter shown are on their way
        self.cache = PageCache()
        self.generation = 0            # bumps on every filter shown; stale loads are dropped
        self.loading: set[int] = set()
        self.loaded = False

    def on_mount(self) -> None:
        self.set_filter(RejectionFilter())

    def set_filter(self, where: RejectionFilter) -> None:
        """Query in a worker; the newest filter wins (older queries are cancelled and abandoned)."""
        source = self.source
        run_blocking(self, "Filter rejections", lambda: first_page(source, where), self._show_page,
                     group="rejection-query", exclusive=True)

    def _show_page(self, page: FirstPage) -> None:
        self.workers.cancel_group(self, "rejection-pages")  # loads for the filter replaced
        self.generation += 1
        self.where = page.where
        self.total = page.total
        self.counting = True
        self.cache.clear()
        self.loading.clear()
        self.cache.put(0, page.rows)
        self.loaded = True
        self.virtual_size = Size(LINE_WIDTH, self.total)
        self.scroll_to(0, 0, animate=False)
        self.refresh()
        self.post_message(self.Shown(page))
        source, where, generation = self.source, page.where, self.generation
        run_blocking(self, "Count rejections", lambda: counts(source, where),
                     lambda result: self._show_counts(generation, result), group="rejection-counts", exclusive=True)

    def _show_counts(self, generation: int, result: QueryResult) -> None:
        if generation != self.generation:
            return
        self.total = result.total
        self.counting = False
        self.virtual_size = Size(LINE_WIDTH, self.total)
        self.refresh()
        self.post_message(self.Queried(result))

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
        if page in self.loading or self.cache.has(page):
            return
        self.loading.add(page)
        source, where, generation = self.source, self.where, self.generation

        def arrived(rows) -> None:
            if generation != self.generation:
                return
            self.loading.discard(page)
            self.cache.put(page, rows)
            self.refresh()

        run_blocking(self, "Load rejections", lambda: source.page(where, limit=PAGE_SIZE, offset=page * PAGE_SIZE),
                     arrived, group="rejection-pages")

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

