"""The rejection log's data side: what a paging source provides, the two steps of a filter, and
the page cache the view reads.

The source has the shape of the history store's `tui.sync.rejections.RejectionLog` (count, page,
facets, in SQLite); the view never holds more than a few pages, so a million rejections cost what a
screenful does. A filter comes back in two steps so a broad one never holds the screen: its first
page with a count that stops at COUNT_CAP (milliseconds), then the exact count and the facets.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tui.sync.rejections import ROW_ORDER, Facets, Rejection, RejectionFilter
from tui.sync.terminal_text import escape_controls

PAGE_SIZE = 200
CACHED_PAGES = 12
COUNT_CAP = 100_000   # the first step counts up to one more than this, shown as "100,000+"


def describe(where: RejectionFilter) -> str:
    parts = []
    if where.text:
        parts.append(f'"{escape_controls(where.text)}"')  # a pasted filter may hold controls
    if where.reason:
        parts.append(f"reason={where.reason}")
    if where.status is not None:
        parts.append(f"http={where.status}")
    return " ".join(parts) or "all"


class RejectionSource(Protocol):
    def count(self, flt: RejectionFilter, *, limit: int | None = None) -> int: ...

    def page(self, flt: RejectionFilter, *, limit: int, offset: int) -> Sequence[Rejection]: ...

    def facets(self, flt: RejectionFilter) -> Facets: ...


@dataclass(frozen=True)
class FirstPage:
    """A filter's first step: what the view shows at once."""
    where: RejectionFilter
    rows: Sequence[Rejection]
    total: int            # rows the view may scroll over: exact, or COUNT_CAP + 1 when capped
    capped: bool
    widest_row: int = 0   # the largest row number the filter holds (the row column's width)

    @property
    def count_text(self) -> str:
        return f"{COUNT_CAP:,}+" if self.capped else f"{self.total:,}"


@dataclass(frozen=True)
class QueryResult:
    """A filter's second step: the exact count and the facets."""
    where: RejectionFilter
    facets: Facets

    @property
    def total(self) -> int:
        return self.facets.total


def first_page(source: RejectionSource, where: RejectionFilter) -> FirstPage:
    rows = source.page(where, limit=PAGE_SIZE, offset=0)
    widest = widest_row(source)
    if len(rows) < PAGE_SIZE:
        return FirstPage(where, rows, len(rows), capped=False, widest_row=widest)
    total = source.count(where, limit=COUNT_CAP + 1)
    return FirstPage(where, rows, total, capped=total > COUNT_CAP, widest_row=widest)


def widest_row(source: RejectionSource) -> int:
    """The largest row number of the run's rejections (whatever the filter, so the columns stay put):
    one row, read backwards on the row-order index."""
    last = source.page(RejectionFilter(order=ROW_ORDER, descending=True), limit=1, offset=0)
    return last[0].row if last else 0


def counts(source: RejectionSource, where: RejectionFilter) -> QueryResult:
    return QueryResult(where, source.facets(where))


class PageCache:
    """Pages of the current filter, least recently used dropped first."""

    def __init__(self, capacity: int = CACHED_PAGES) -> None:
        self.capacity = capacity
        self.pages: OrderedDict[int, Sequence[Rejection]] = OrderedDict()

    def row(self, index: int) -> Rejection | None:
        page = self.pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        self.pages.move_to_end(index // PAGE_SIZE)
        offset = index % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def has(self, page: int) -> bool:
        return page in self.pages

    def put(self, page: int, rows: Sequence[Rejection]) -> None:
        self.pages[page] = rows
        self.pages.move_to_end(page)
        while len(self.pages) > self.capacity:
            self.pages.popitem(last=False)

    def clear(self) -> None:
        self.pages.clear()
