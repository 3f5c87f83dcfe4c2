"""The rejection log of one run: filtered, counted and paged inside SQLite, never loaded whole.

Text search looks in the identifier and the message (substring, any ASCII case). For three
characters or more the FTS5 trigram index finds the rejections holding every trigram of the text and a
LIKE on those few confirms the substring (the index keeps no positions, see history_schema.py);
shorter text, or an index that lacks rows or the trigram tokenizer, takes a LIKE scan of the run.
"""
from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from tui.sync import reasons
from tui.sync.membership_state import is_leave_row
from tui.sync.rejection_index import TEXT_INDEX, text_index_current

# What the log may be sorted by (the console's columns) -> the column it orders on. Row order, the
# default, reads the (run_id, row) index; reason and status their own covering indexes; identifier
# and message have no index: SQLite scans the run's rejections and keeps the page's top rows (a
# bounded sort, about a second on a million rejections, deeper pages cost more).
ORDER_COLUMNS = {"row": "r.row", "identifier": "r.identifier", "reason": "r.reason", "status": "r.status",
                 "message": "r.message"}
ROW_ORDER = "row"
RECORDED_ORDER = "id"   # the order they were recorded in (keyset paging, export)
PAGE_COLUMNS = "r.id, r.row, r.reason, r.identifier, r.status, r.message"
PROBE_ROWS = 20_000     # rows walked in row order for a text filter's first page before the index sorts


@dataclass(frozen=True)
class RejectionFilter:
    """Which rejections (reason, status, text) and in what order (order, descending): the order
    changes only how pages come, never what is counted, faceted, exported or re-sent."""
    reason: str | None = None
    status: int | None = None
    text: str | None = None
    order: str = ROW_ORDER
    descending: bool = False

    @property
    def matching(self) -> RejectionFilter:
        """The same rejections in row order (what counts, facets and retries compare)."""
        return RejectionFilter(self.reason, self.status, self.text)


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


def _trigram_query(text: str) -> str:
    """An FTS5 query for rows holding every trigram of the text (quoted: the text is not syntax)."""
    trigrams = dict.fromkeys(text[start:start + 3] for start in range(len(text) - 2))
    return " AND ".join('"' + trigram.replace('"', '""') + '"' for trigram in trigrams)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class RejectionLog:
    def __init__(self, connection: sqlite3.Connection, run_id: int):
        self.connection = connection
        self.run_id = run_id

    def _query(self, select: str, flt: RejectionFilter, *, after_id: int | None = None,
               text_index: bool = True) -> tuple[str, list, str]:
        """The SELECT, its parameters, and the column that orders matches by id without a sort. The
        text index only narrows: the LIKE below decides, so text_index=False matches the same rows."""
        where = ["r.run_id = ?"]
        params: list = [self.run_id]
        source, id_column = "rejections r", "r.id"
        text = (flt.text or "").strip()
        if text_index and len(text) >= 3 and text_index_current(self.connection):
            # CROSS JOIN keeps the full-text match as the outer loop (SQLite never reorders it):
            # otherwise the planner may walk the run's rejections and probe the index once per row.
            # Its matches come in rowid order, so ordering by f.rowid needs no sort.
            source, id_column = f"{TEXT_INDEX} f CROSS JOIN rejections r ON r.id = f.rowid", "f.rowid"
            where.append(f"{TEXT_INDEX} MATCH ?")
            params.append(_trigram_query(text))
        if text:
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
            where.append(f"{id_column} > ?")
            params.append(after_id)
        return f"SELECT {select} FROM {source} WHERE {' AND '.join(where)}", params, id_column

    def page(self, flt: RejectionFilter = RejectionFilter(), *, limit: int = 50, offset: int = 0,
             after_id: int | None = None) -> list[Rejection]:
        """One page in the filter's order (row order unless it says otherwise). Keyset paging (after_id
        = the last id seen) walks the recording order and stays fast at any depth; offset is there
        for jumping."""
        if after_id is not None:
            flt = dataclasses.replace(flt, order=RECORDED_ORDER, descending=False)
        elif (flt.text or "").strip() and flt.order == ROW_ORDER:
            found = self._first_rows_in_row_order(flt, limit + offset)
            if found is not None:
                return found[offset:]
        sql, params, id_column = self._query(PAGE_COLUMNS, flt, after_id=after_id)
        rows = self.connection.execute(f"{sql} ORDER BY {self._order(flt, id_column)} LIMIT ? OFFSET ?",
                                       (*params, limit, offset))
        return [Rejection(*row) for row in rows]

    def _first_rows_in_row_order(self, flt: RejectionFilter, wanted: int) -> list[Rejection] | None:
        """A text filter's first matches in row order, looked for among the first PROBE_ROWS rows (the
        (run_id, row) index, no sort), or None when fewer match there. A broad filter then costs a
        short walk instead of sorting every match; a selective one falls back to the text index."""
        if wanted * 10 > PROBE_ROWS:
            return None
        direction = " DESC" if flt.descending else ""
        order = f"r.row{direction}, r.id{direction}"
        sql, params, _ = self._query(PAGE_COLUMNS, flt, text_index=False)
        first = (f"(SELECT * FROM rejections WHERE run_id = ? ORDER BY row{direction}, id{direction} "
                 f"LIMIT {PROBE_ROWS}) r")
        sql = sql.replace("FROM rejections r", f"FROM {first}", 1)
        rows = self.connection.execute(f"{sql} ORDER BY {order} LIMIT ?", (self.run_id, *params, wanted)).fetchall()
        return [Rejection(*row) for row in rows] if len(rows) == wanted else None

    @staticmethod
    def _order(flt: RejectionFilter, id_column: str) -> str:
        """ORDER BY: the sort column, then the id (recording order) for equal values. Keyset paging
        (after_id) is by id alone."""
        direction = " DESC" if flt.descending else ""
        if flt.order == RECORDED_ORDER:
            return f"{id_column}{direction}"
        column = ORDER_COLUMNS.get(flt.order, ORDER_COLUMNS[ROW_ORDER])
        return f"{column}{direction}, {id_column}{direction}"

    def rows(self, flt: RejectionFilter = RejectionFilter(), *, exclude_reasons: Collection[str] = ()) -> set[int]:
        """The source row numbers of the matching rejections (a filtered retry sends these)."""
        sql, params, _ = self._query("r.row", flt)
        if exclude_reasons:
            sql = f"{sql} AND r.reason NOT IN ({','.join('?' * len(exclude_reasons))})"
            params = [*params, *exclude_reasons]
        return {row for (row,) in self.connection.execute(sql, params)}

    def get(self, rejection_id: int) -> Rejection | None:
        row = self.connection.execute("SELECT id, row, reason, identifier, status, message FROM rejections "
                                      "WHERE id = ? AND run_id = ?", (rejection_id, self.run_id)).fetchone()
        return Rejection(*row) if row else None

    def count(self, flt: RejectionFilter = RejectionFilter(), *, limit: int | None = None) -> int:
        """How many match; with a limit, counting stops there (a broad filter over a million rows
        then costs what counting `limit` of them does)."""
        if limit is None:
            sql, params, _ = self._query("count(*)", flt)
            return self.connection.execute(sql, params).fetchone()[0]
        sql, params, _ = self._query("1", flt)
        return self.connection.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", (*params, limit)).fetchone()[0]

    def facets(self, flt: RejectionFilter = RejectionFilter()) -> Facets:
        """Counts by reason and by HTTP status under the filter; each facet ignores its own filter so
        the operator sees the alternatives."""
        if not (flt.text or "").strip():
            # Each of these is a scan of one covering index.
            reasons = self._grouped("r.reason", RejectionFilter(status=flt.status))
            statuses = self._grouped("r.status", RejectionFilter(reason=flt.reason))
            return Facets(total=self.count(flt), reasons=reasons, statuses=statuses)
        # A text filter: one pass over its matches grouped by (reason, status) holds all three answers
        # (three passes cost three full-text searches).
        sql, params, _ = self._query("r.reason, r.status, count(*)", RejectionFilter(text=flt.text))
        by_reason: dict[str, int] = {}
        by_status: dict[int | None, int] = {}
        total = 0
        for reason, status, count in self.connection.execute(f"{sql} GROUP BY r.reason, r.status", params):
            reason_ok = not flt.reason or reason == flt.reason
            status_ok = flt.status is None or status == flt.status
            if status_ok:
                by_reason[reason] = by_reason.get(reason, 0) + count
            if reason_ok:
                by_status[status] = by_status.get(status, 0) + count
            if reason_ok and status_ok:
                total += count
        return Facets(total=total, reasons=by_reason, statuses=by_status)

    def _grouped(self, column: str, flt: RejectionFilter) -> dict:
        sql, params, _ = self._query(f"{column}, count(*)", flt)
        return dict(self.connection.execute(f"{sql} GROUP BY {column}", params).fetchall())

    def iter_all(self, flt: RejectionFilter = RejectionFilter(), *, batch: int = 5000) -> Iterator[Rejection]:
        """Every matching rejection, page by page (for export)."""
        after: int | None = None
        flt = dataclasses.replace(flt, order=RECORDED_ORDER, descending=False)  # keyset paging walks the ids
        while True:
            page = self.page(flt, limit=batch, after_id=after)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].id


# -- a retry of the rows a filter shows ------------------------------------------------------------

def retry_rows(connection: sqlite3.Connection, run_id: int, flt: RejectionFilter | None = None, *,
               include_unknown: bool = False) -> set[int]:
    """The rows of a run a retry sends again: its rejected and failed rows (those the filter shows),
    except later duplicates (their first row is what counts; re-sending one would be refused again),
    events whose fate is unknown (they may have arrived: only `include_unknown`, the operator's word,
    sends them) and audience leaves: a failed leave leaves its member a member, so the next
    membership send, which knows who is absent then, sends the false again."""
    excluded = (reasons.DUPLICATE_IDENTIFIER, reasons.DUPLICATE_EVENT, *(() if include_unknown else (reasons.EVENT_UNKNOWN,)))
    rows = RejectionLog(connection, run_id).rows((flt or RejectionFilter()).matching, exclude_reasons=excluded)
    return {row for row in rows if not is_leave_row(row)}


def save_retry_filter(connection: sqlite3.Connection, run_id: int, flt: RejectionFilter) -> None:
    """What a filtered retry run re-sends, so that resuming it sends the same rows."""
    connection.execute("INSERT OR REPLACE INTO retry_filters (run_id, reason, status, text) VALUES (?, ?, ?, ?)",
                       (run_id, flt.reason, flt.status, flt.text))


def retry_filter_of(connection: sqlite3.Connection, run_id: int) -> RejectionFilter | None:
    row = connection.execute("SELECT reason, status, text FROM retry_filters WHERE run_id = ?", (run_id,)).fetchone()
    return RejectionFilter(*row) if row else None


def is_everything(flt: RejectionFilter | None) -> bool:
    return flt is None or flt.matching == RejectionFilter()
