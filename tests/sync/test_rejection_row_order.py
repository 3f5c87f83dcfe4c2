"""A text filter's page in row order is the same whichever way it is found: a short walk of the row
index when the first rows hold a page of matches, the text index and a sort otherwise."""
from __future__ import annotations

import dataclasses
import random

import pytest

from tui.sync import rejections
from tui.sync.history_schema import connect
from tui.sync.rejection_index import write_rejections
from tui.sync.rejections import RejectionFilter, RejectionLog

ROWS = 30_000  # past PROBE_ROWS, so a selective filter's matches lie beyond the walk


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("history")
    connection = connect(data_dir)
    with connection:
        connection.execute(
            "INSERT INTO runs (id, operator, environment, destination, endpoint, config_hash, mode, source_path,"
            " source_hash, source_format, started_at, status, rows_read, rejected)"
            " VALUES (1, 'a', 'sandbox', 'd', 'bulk', 'h', 'send', 'f.csv', 's', 'csv', 0, 'finished', ?, ?)",
            (ROWS, ROWS))
    order = list(range(2, ROWS + 2))
    random.Random(7).shuffle(order)  # recorded out of row order, as bulk job results arrive
    with connection:
        write_rejections(connection, [(1, row, "invalid_email", f"user{row}@example.com", None,
                                       "rare message" if row % 5000 == 0 else f"message of row {row}")
                                      for row in order])
    yield RejectionLog(connection, 1)
    connection.close()


def sorted_by_the_index(log: RejectionLog, flt: RejectionFilter, limit: int, offset: int) -> list:
    """The page as the text index and a sort find it (the walk turned off)."""
    saved = rejections.PROBE_ROWS
    rejections.PROBE_ROWS = 0
    try:
        return log.page(flt, limit=limit, offset=offset)
    finally:
        rejections.PROBE_ROWS = saved


@pytest.mark.parametrize("text", ["example", "row 1", "rare message", "ro"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("offset", [0, 150])
def test_a_text_filters_page_in_row_order_is_the_same_either_way(log, text, descending, offset):
    flt = dataclasses.replace(RejectionFilter(text=text), descending=descending)
    walked = log.page(flt, limit=50, offset=offset)
    assert walked == sorted_by_the_index(log, flt, 50, offset)
    rows = [rejection.row for rejection in walked]
    assert rows == sorted(rows, reverse=descending)
