"""The history store's rejection log as the console's paging source.

The store's connections are not shared between threads, and the view pages from worker threads, so
each worker thread opens its own read-only connection to the same database.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from tui.sync.history_schema import connect
from tui.sync.rejections import Facets, Rejection, RejectionFilter, RejectionLog


class StoreRejections:
    def __init__(self, data_dir: Path, run_id: int) -> None:
        self.data_dir = data_dir
        self.run_id = run_id
        self.local = threading.local()

    def log(self) -> RejectionLog:
        log = getattr(self.local, "log", None)
        if log is None:
            connection: sqlite3.Connection = connect(self.data_dir, readonly=True)
            log = self.local.log = RejectionLog(connection, self.run_id)
        return log

    def count(self, flt: RejectionFilter) -> int:
        return self.log().count(flt)

    def page(self, flt: RejectionFilter, *, limit: int, offset: int) -> Sequence[Rejection]:
        return self.log().page(flt, limit=limit, offset=offset)

    def facets(self, flt: RejectionFilter) -> Facets:
        return self.log().facets(flt)
