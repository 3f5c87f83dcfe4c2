"""`rejections --json` names a missing HTTP status "none" (as the console's facet line does), and
`retry` takes the console's filter: it re-sends exactly the rows `rejections` with the same flags
lists, and the run keeps the filter so that a resume of it sends the same rows."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest
from sync_kit import valid_row, write_csv

from tui.settings.paths import history_path
from tui.sync.rejections import RejectionFilter, retry_filter_of, retry_rows


@pytest.fixture
def cli(sim_process, cli_for):
    return cli_for(sim_process.url)


def audience(tmp_path):
    """20 good rows, 4 bad emails and 2 bad phones: rejected locally, with no HTTP status."""
    rows = ([valid_row(i) for i in range(20)] + [{**valid_row(100 + i), "email": f"broken{i}"} for i in range(4)]
            + [{**valid_row(200 + i), "phone": "12"} for i in range(2)])
    return write_csv(tmp_path / "audience.csv", rows)


def rows_of(cli, run_id: int) -> set[int]:
    with closing(sqlite3.connect(history_path(cli.data))) as db:
        return {row for (row,) in db.execute("SELECT row FROM row_outcomes WHERE run_id = ?", (run_id,))}


def test_json_statuses_say_none_for_no_answer_and_null_in_the_rows(cli, tmp_path):
    cli("send", "loyalty-attributes", str(audience(tmp_path)), "--json")
    code, out, _ = cli("rejections", "1", "--json")
    log = json.loads(out)
    assert code == 0 and log["statuses"] == {"none": 6} and "None" not in out
    assert {item["status"] for item in log["rejections"]} == {None}


def test_retry_with_a_reason_re_sends_exactly_the_rows_that_reason_lists(cli, tmp_path):
    cli("send", "loyalty-attributes", str(audience(tmp_path)), "--json")
    code, out, _ = cli("rejections", "1", "--reason", "invalid_email", "--json")
    listed = {item["row"] for item in json.loads(out)["rejections"]}
    assert len(listed) == 4
    code, out, _ = cli("retry", "1", "--reason", "invalid_email", "--json")
    summary = json.loads(out)
    assert summary["rows_read"] == 4 and rows_of(cli, summary["run_id"]) == listed
    with closing(sqlite3.connect(history_path(cli.data))) as db:   # what a resume of the retry reads
        assert retry_filter_of(db, summary["run_id"]) == RejectionFilter(reason="invalid_email")
        assert retry_rows(db, 1, retry_filter_of(db, summary["run_id"])) == listed
        assert retry_filter_of(db, 1) is None
    code, _, err = cli("retry", "1", "--reason", "no_such_reason")
    assert code == 2 and "unknown reason" in err
    code, _, err = cli("retry", "1", "--search", "nothing-matches-this")
    assert code == 2 and "match the filter" in err
