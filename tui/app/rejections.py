"""The rejection log's data side: what a paging source provides, and the page cache the view reads.

The source has the shape of the history store's `tui.sync.rejections.RejectionLog` (count, page,
facets, in SQLite); the view never holds more than a few pages, so a million rejections cost what a
screenful does.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tui.sync.rejections import Facets, Rejection, RejectionFilter

PAGE_SIZE = 200
CACHED_PAGES = 12


def describe(where: RejectionFilter) -> str:
    parts = []
    if where.text:
        parts.append(f'"{where.text}"')
    if where.reason:
        parts.append(f"reason={where.reason}")
    if where.status is not None:
        parts.append(f"http={where.status}")
    return " ".join(parts) or "all"


class RejectionSource(Protocol):
    def count(self, flt: RejectionFilter) -> int: ...

    def page(self, flt: RejectionFilter, *, limit: int, offset: int) -> Sequence[Rejection]: ...

    def facets(self, flt: RejectionFilter) -> Facets: ...


@dataclass(frozen=True)
class QueryResult:
    """What a filter change brings back in one worker: the view swaps to it at once."""
    where: RejectionFilter
    first_page: Sequence[Rejection]
    facets: Facets

    @property
    def total(self) -> int:
        return self.facets.total


def run_query(source: RejectionSource, where: RejectionFilter) -> QueryResult:
    return QueryResult(where, source.page(where, limit=PAGE_SIZE, offset=0), source.facets(where))


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
