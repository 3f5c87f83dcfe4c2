"""The rejection log of one run: filtered, counted and paged inside SQLite, never loaded whole.

Text search looks in the identifier and the message. It uses the FTS5 trigram index (substring
match, case-insensitive) for three characters or more, and a LIKE scan of the run's rejections for
shorter text or when SQLite lacks the trigram tokenizer.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from tui.sync.history_schema import has_trigram


@dataclass(frozen=True)
class RejectionFilter:
    reason: str | None = None
    status: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class Rejection:
    id: int
    row: int
    reason: str
    identifier: str | None
    status: int | None
    message: str | None


@dataclass(frozen=True)
class Facets:
    total: int
    reasons: dict[str, int] = field(default_factory=dict)
    statuses: dict[int | None, int] = field(default_factory=dict)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class RejectionLog:
    def __init__(self, connection: sqlite3.Connection, run_id: int):
        self.connection = connection
        self.run_id = run_id
        self._fts = has_trigram(connection)

    def _query(self, select: str, flt: RejectionFilter, *, after_id: int | None = None) -> tuple[str, list]:
        where = ["r.run_id = ?"]
        params: list = [self.run_id]
        source = "rejections r"
        text = (flt.text or "").strip()
        if text and self._fts and len(text) >= 3:
            # CROSS JOIN keeps the full-text match as the outer loop (SQLite never reorders it):
            # otherwise the planner may walk the run's rejections and probe the index once per row.
            source = "rejections_fts f CROSS JOIN rejections r ON r.id = f.rowid"
            where.append("rejections_fts MATCH ?")
            params.append(_fts_phrase(text))
        elif text:
            where.append("(r.identifier LIKE ? ESCAPE '\\' OR r.message LIKE ? ESCAPE '\\')")
            pattern = _like_pattern(text)
            params.extend([pattern, pattern])
        if flt.reason:
            where.append("r.reason = ?")
            params.append(flt.reason)
        if flt.status is not None:
            where.append("r.status = ?")
            params.append(flt.status)
        if after_id is not None:
            where.append("r.id > ?")
            params.append(after_id)
        return f"SELECT {select} FROM {source} WHERE {' AND '.join(where)}", params

    def page(self, flt: RejectionFilter = RejectionFilter(), *, limit: int = 50, offset: int = 0,
             after_id: int | None = None) -> list[Rejection]:
        """One page in row order. Keyset paging (after_id = the last id seen) stays fast at any
        depth; offset is there for jumping."""
        sql, params = self._query("r.id, r.row, r.reason, r.identifier, r.status, r.message", flt, after_id=after_id)
        rows = self.connection.execute(f"{sql} ORDER BY r.id LIMIT ? OFFSET ?", (*params, limit, offset))
        return [Rejection(*row) for row in rows]

    def count(self, flt: RejectionFilter = RejectionFilter()) -> int:
        sql, params = self._query("count(*)", flt)
        return self.connection.execute(sql, params).fetchone()[0]

    def facets(self, flt: RejectionFilter = RejectionFilter()) -> Facets:
        """Counts by reason and by HTTP status under the filter (each facet ignores its own filter
        so the operator sees the alternatives)."""
        reason_sql, reason_params = self._query("r.reason, count(*)", RejectionFilter(None, flt.status, flt.text))
        status_sql, status_params = self._query("r.status, count(*)", RejectionFilter(flt.reason, None, flt.text))
        by_reason = dict(self.connection.execute(f"{reason_sql} GROUP BY r.reason", reason_params).fetchall())
        by_status = dict(self.connection.execute(f"{status_sql} GROUP BY r.status", status_params).fetchall())
        return Facets(total=self.count(flt), reasons=by_reason, statuses=by_status)

    def iter_all(self, flt: RejectionFilter = RejectionFilter(), *, batch: int = 5000) -> Iterator[Rejection]:
        """Every matching rejection, page by page (for export)."""
        after: int | None = None
        while True:
            page = self.page(flt, limit=batch, after_id=after)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].id
