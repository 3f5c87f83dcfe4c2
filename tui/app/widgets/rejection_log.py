"""A Line-API view of a run's rejections: draws only the visible lines, from cached pages that
thread workers fetch around the viewport (after toolong's log view)."""
from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.error_guard import ErrorGuard
from tui.app.rejections import PAGE_SIZE, PageCache, QueryResult, RejectionSource, describe, run_query
from tui.sync.rejections import Rejection, RejectionFilter
from tui.app.workers import run_blocking

Mask = Callable[[str], str]
LINE_WIDTH = 160   # lines are cut here; scroll right for long messages
HEADER = f"{'row':>8} {'identifier':<25} {'reason':<20} {'http':>4}  message"


def format_row(row: Rejection, mask: Mask | None) -> str:
    identifier = row.identifier or "-"
    if mask is not None and row.identifier:
        identifier = mask(row.identifier)
    status = "-" if not row.status else str(row.status)
    return f"{row.row:>8} {identifier[:25]:<25} {row.reason[:20]:<20} {status:>4}  {row.message or ''}"


class RejectionLog(ErrorGuard, ScrollView, can_focus=True):
    """Scroll with the usual keys; `set_filter` re-queries in a worker and the newest query wins."""

    DEFAULT_CSS = "RejectionLog { height: 1fr; }"

    class Queried(Message):
        """A filter's results are on screen (count and facets for the section to show)."""

        def __init__(self, result: QueryResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, source: RejectionSource, *, mask: Mask | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.mask = mask
        self.where = RejectionFilter()
        self.total = 0
        self.cache = PageCache()
        self.generation = 0            # bumps on every filter change; stale page loads are dropped
        self.loading: set[int] = set()
        self.loaded = False

    def on_mount(self) -> None:
        self.set_filter(RejectionFilter())

    def set_filter(self, where: RejectionFilter) -> None:
        source = self.source
        run_blocking(self, "Filter rejections", lambda: run_query(source, where), self._show_query,
                     group="rejection-query", exclusive=True)

    def _show_query(self, result: QueryResult) -> None:
        self.generation += 1
        self.where = result.where
        self.total = result.total
        self.cache.clear()
        self.loading.clear()
        self.cache.put(0, result.first_page)
        self.loaded = True
        self.virtual_size = Size(LINE_WIDTH, self.total)
        self.scroll_to(0, 0, animate=False)
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
                     arrived, group=f"rejection-page-{page}")

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

