"""The identifier keys a run has written with its rows, for its in-run duplicates (RunRecorder.first_rows).

A filter of bits picks a key's bit by its bits 32 and up (key_filter.py): the planners' filters pick by
the low bits, and on the same bits every false "seen" of theirs would be one of this filter's too, each
a query on the loop's thread. Only keys whose bit is set are looked up, and only in the spans of rows
the run wrote keys in (row_outcomes_by_span, history_schema.py).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable

from tui.sync.history_schema import ROW_SPAN, ROW_SPAN_SHIFT
from tui.sync.key_filter import key_filter, mark_all, maybe_in
from tui.sync.sql_rows import rows_in

# 4 bits a row (ten million rows: 8 MB; one key in seven falsely "seen" by the file's end): it sees only
# what a planner's filter let through.
WRITTEN_KEY_SHIFT, WRITTEN_BITS_PER_ROW = 32, 4


class WrittenKeys:
    def __init__(self, connection: sqlite3.Connection, run_id: int, expected_rows: int):
        self.connection = connection
        self.run_id = run_id
        self._bits = key_filter(expected_rows, WRITTEN_BITS_PER_ROW)
        self._spans: set[int] = set()
        self._spans_text = ""
        self._note_written_before()

    def add(self, first_rows: dict[int, int]) -> None:
        """Keys handed to the writer, each with its first row of the flush."""
        if first_rows:
            mark_all(self._bits, first_rows.keys(), WRITTEN_KEY_SHIFT)
            self._add_spans({row >> ROW_SPAN_SHIFT for row in first_rows.values()})

    def first_rows(self, keys: Iterable[int]) -> dict[int, int]:
        """key -> its first committed row of the run, for those of `keys` the run wrote."""
        bits = self._bits
        asked = [key for key in keys if maybe_in(bits, key, WRITTEN_KEY_SHIFT)]
        if not asked:
            return {}
        return dict(rows_in(self.connection, f"SELECT key, min(row) FROM row_outcomes WHERE run_id = ? AND {ROW_SPAN} "
                            f"IN ({self._spans_text}) AND key IN ({{marks}}) GROUP BY key", (self.run_id,), asked))

    def _note_written_before(self) -> None:
        """A resumed run's rows written with their keys before it stopped."""
        cursor = self.connection.execute("SELECT key, row FROM row_outcomes WHERE run_id = ? AND key IS NOT NULL",
                                         (self.run_id,))
        while batch := cursor.fetchmany(1 << 16):
            import numpy as np  # a resume only: key_filter.preload

            pairs = np.array(batch, dtype=np.int64)
            mark_all(self._bits, pairs[:, 0], WRITTEN_KEY_SHIFT)
            self._add_spans(set(np.unique(pairs[:, 1] >> ROW_SPAN_SHIFT).tolist()))

    def _add_spans(self, spans: Collection[int]) -> None:
        if not self._spans.issuperset(spans):
            self._spans.update(spans)
            self._spans_text = ",".join(map(str, sorted(self._spans)))
