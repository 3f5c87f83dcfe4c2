"""The history store's rejection log as the console's paging source.

The store's connections are not shared between threads, and the view pages from worker threads, so
each worker thread opens its own read-only connection to the same database. A query whose worker was
cancelled (a newer filter replaced it) is abandoned by SQLite within a few thousand steps instead of
running to the end on a core the new query needs.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from textual.worker import NoActiveWorker, get_current_worker

from tui.core.runs import shown
from tui.sync.history_schema import connect
from tui.sync.rejections import Facets, Rejection, RejectionFilter, RejectionLog

ABANDON_CHECK_STEPS = 10_000   # SQLite virtual-machine steps between checks


def _abandoned() -> int:
    """Non-zero makes SQLite interrupt the running statement (the worker then drops the error)."""
    try:
        return int(get_current_worker().is_cancelled)
    except NoActiveWorker:  # called outside a worker (bench, export): never abandoned
        return 0


class StoreRejections:
    """`masked`: identifiers (and the messages that quote them) as a restricted-PII operator sees them."""

    def __init__(self, data_dir: Path, run_id: int, *, masked: bool = False) -> None:
        self.data_dir = data_dir
        self.run_id = run_id
        self.masked = masked
        self.local = threading.local()

    def log(self) -> RejectionLog:
        log = getattr(self.local, "log", None)
        if log is None:
            connection: sqlite3.Connection = connect(self.data_dir, readonly=True)
            connection.set_progress_handler(_abandoned, ABANDON_CHECK_STEPS)
            log = self.local.log = RejectionLog(connection, self.run_id)
        return log

    def count(self, flt: RejectionFilter, *, limit: int | None = None) -> int:
        return self.log().count(flt, limit=limit)

    def page(self, flt: RejectionFilter, *, limit: int, offset: int) -> Sequence[Rejection]:
        return shown(self.log().page(flt, limit=limit, offset=offset), self.masked)

    def facets(self, flt: RejectionFilter) -> Facets:
        return self.log().facets(flt)
