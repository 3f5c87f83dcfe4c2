"""The history database (0600, WAL), the rejection log's filters and paging, verbose logging off,
and the send lock (refusal names the holder; a killed holder leaves nothing stuck)."""
from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys

import pytest

from tui.settings.paths import history_path
from tui.sync import reasons
from tui.sync.history import HistoryStore, NewRun
from tui.sync.history_schema import ACCEPTED, FAILED, INVALID, PENDING, REJECTED, ROW_SPAN_SHIFT, connect
from tui.sync.history_writer import RunCounts, RunRecorder
from tui.sync.lock import SendLock, SendLocked, holder_run_id
from tui.sync.membership_state import LEAVE_ROW_BASE
from tui.sync.profiles import identifier_key
from tui.sync.rejection_index import text_index_current, write_rejections
from tui.sync.rejections import RejectionFilter, RejectionLog


def new_run(store: HistoryStore, **overrides) -> int:
    fields = dict(operator="tester", environment="sandbox", destination="d", endpoint="bulk", config_hash="c" * 64,
                  mode="send", source_path="/tmp/a.csv", source_hash="h" * 64, source_format="csv", rows_estimate=10)
    fields.update(overrides)
    return store.create_run(NewRun(**fields))


def recorder(store: HistoryStore, run_id: int, verbose: bool = True) -> RunRecorder:
    return RunRecorder(store.connection, run_id, scope=store.diff_scope("d", "sandbox"), verbose=verbose,
                       counts=RunCounts(), data_dir=store.data_dir)


def test_the_database_is_private_and_in_wal_mode(tmp_path):
    with HistoryStore(tmp_path / "data") as store:
        new_run(store)
        assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    for suffix in ("-wal", "-shm"):
        sibling = store.path.with_name(store.path.name + suffix)
        if sibling.exists():
            assert stat.S_IMODE(sibling.stat().st_mode) == 0o600


@pytest.fixture
def log(tmp_path):
    with HistoryStore(tmp_path / "data") as store:
        run_id = new_run(store)
        other = new_run(store)
        rec = recorder(store, run_id)
        for i in range(3000):
            if i % 3 == 0:
                rec.plan(i, None, PENDING)
                rec.reject(i, REJECTED, reasons.ATTENTIVE_REJECTED, identifier=f"user{i}@example.com", status=400,
                           message=f"Points: type change {i}")
            elif i % 3 == 1:
                rec.reject(i, INVALID, reasons.INVALID_PHONE, identifier=f"user{i}@example.com", message="bad phone")
            else:
                rec.plan(i, None, PENDING)
                rec.reject(i, FAILED, reasons.SEND_FAILED, identifier=f"user{i}@example.com", status=503, message="busy")
        rec.close()
        other_rec = recorder(store, other)
        other_rec.reject(1, INVALID, reasons.INVALID_PHONE, identifier="user1@example.com", message="bad phone")
        other_rec.close()
        yield RejectionLog(store.connection, run_id)


def test_filters_by_reason_status_and_text_inside_one_run(log):
    assert log.count() == 3000
    assert log.count(RejectionFilter(reason=reasons.INVALID_PHONE)) == 1000
    assert log.count(RejectionFilter(status=503)) == 1000
    [hit] = log.page(RejectionFilter(text="USER1234@"))  # substring, any case, identifier or message
    assert (hit.row, hit.identifier) == (1234, "user1234@example.com")
    assert log.count(RejectionFilter(text="type change 12")) == sum(1 for i in range(0, 3000, 3) if str(i).startswith("12"))
    assert log.count(RejectionFilter(text="99")) == sum(1 for i in range(3000) if "99" in str(i))  # LIKE: under 3 characters
    facets = log.facets(RejectionFilter(status=400))
    assert facets.total == 1000 and facets.statuses == {400: 1000, None: 1000, 503: 1000}
    assert facets.reasons == {reasons.ATTENTIVE_REJECTED: 1000}


def test_facets_of_a_text_filter_count_each_facet_without_its_own_filter(log):
    facets = log.facets(RejectionFilter(text="user1", status=503))
    matching = [i for i in range(3000) if "user1" in f"user{i}@example.com"]
    assert facets.total == sum(1 for i in matching if i % 3 == 2)
    assert facets.reasons == {reasons.SEND_FAILED: facets.total}
    assert facets.statuses == {400: sum(1 for i in matching if i % 3 == 0), None: sum(1 for i in matching if i % 3 == 1),
                               503: facets.total}


def test_a_capped_count_stops_at_its_limit(log):
    assert log.count(RejectionFilter(text="example"), limit=1001) == 1001
    assert log.count(RejectionFilter(text="user1234@"), limit=1001) == 1
    assert log.count(limit=5000) == 3000


def index_matches_rows(connection) -> bool:
    """FTS5's own check of the text index against the rejections table (raises when they differ)."""
    connection.execute("INSERT INTO rejection_text (rejection_text, rank) VALUES ('integrity-check', 1)")
    return True


def test_text_search_confirms_the_substring_the_trigrams_suggest(tmp_path):
    with HistoryStore(tmp_path / "data") as store:
        run_id = new_run(store)
        with store.connection:
            store.connection.execute("BEGIN IMMEDIATE")
            # every trigram of "abcabd" is in the first identifier, but not the text itself
            write_rejections(store.connection, [(run_id, 2, reasons.INVALID_EMAIL, "abcab-abd", None, None),
                                                (run_id, 3, reasons.INVALID_EMAIL, "xABCABDx", None, None)])
        log = RejectionLog(store.connection, run_id)
        assert [hit.row for hit in log.page(RejectionFilter(text="abcabd"))] == [3]


def test_rows_written_around_the_writer_are_found_and_indexed_on_the_next_open(tmp_path):
    data = tmp_path / "data"
    with HistoryStore(data) as store:
        run_id = new_run(store)
    outside = connect(data)
    with outside:
        outside.execute("BEGIN IMMEDIATE")
        outside.executemany("INSERT INTO rejections (run_id, row, reason, identifier) VALUES (?, ?, ?, ?)",
                            [(run_id, row, reasons.INVALID_EMAIL, f"late{row}@example.com") for row in range(2, 40)])
    assert not text_index_current(outside)
    assert RejectionLog(outside, run_id).count(RejectionFilter(text="late17@")) == 1  # found without the index
    outside.close()
    with HistoryStore(data) as store:  # a writable open catches the index up
        assert text_index_current(store.connection) and index_matches_rows(store.connection)
        assert RejectionLog(store.connection, run_id).count(RejectionFilter(text="late17@")) == 1


def test_deleting_rejections_takes_them_out_of_the_index(log):
    with log.connection:
        log.connection.execute("BEGIN IMMEDIATE")
        log.connection.execute("DELETE FROM rejections WHERE run_id = ? AND row < 1500", (log.run_id,))
    assert index_matches_rows(log.connection)
    assert log.count(RejectionFilter(text="user1234@")) == 0 and log.count(RejectionFilter(text="user2345@")) == 1


def test_a_version_1_database_gets_the_new_text_index(tmp_path):
    data = tmp_path / "data"
    with HistoryStore(data) as store:
        run_id = new_run(store)
        store.connection.executescript("""
            DROP TABLE rejection_text;
            CREATE VIRTUAL TABLE rejections_fts USING fts5(identifier, message, content='rejections',
                                                           content_rowid='id', tokenize='trigram');
            CREATE TRIGGER rejections_fts_insert AFTER INSERT ON rejections BEGIN
                INSERT INTO rejections_fts (rowid, identifier, message) VALUES (new.id, new.identifier, new.message);
            END;
            PRAGMA user_version = 1;
        """)
        store.connection.execute("INSERT INTO rejections (run_id, row, reason, identifier) VALUES (?, 2, 'x', 'old@a.com')",
                                 (run_id,))
    with HistoryStore(data) as store:
        names = {name for (name,) in store.connection.execute("SELECT name FROM sqlite_master")}
        assert "rejections_fts" not in names and "rejections_fts_insert" not in names
        assert text_index_current(store.connection)
        assert RejectionLog(store.connection, run_id).count(RejectionFilter(text="old@")) == 1


WRITER = """
import sys
from pathlib import Path
from tui.sync.history_schema import connect
from tui.sync.rejection_index import write_rejections
connection = connect(Path(sys.argv[1]))
run_id, batch = int(sys.argv[2]), 0
while True:
    connection.execute("BEGIN IMMEDIATE")
    write_rejections(connection, [(run_id, batch * 1000 + i, "invalid_email", f"b{batch}r{i}@example.com", None, None)
                                  for i in range(1000)])
    if batch == 3:
        print("uncommitted", flush=True)
        sys.stdin.read()   # killed here, inside an open write transaction
    connection.execute("COMMIT")
    batch += 1
"""


def test_a_writer_killed_mid_batch_leaves_every_committed_rejection_indexed(tmp_path):
    data = tmp_path / "data"
    with HistoryStore(data) as store:
        run_id = new_run(store)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(data), str(run_id)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "uncommitted"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    with HistoryStore(data, readonly=True) as store:
        assert text_index_current(store.connection)
        log = RejectionLog(store.connection, run_id)
        assert log.count() == 3000
        assert log.count(RejectionFilter(text="b2r999@")) == 1 and log.count(RejectionFilter(text="b3r0@")) == 0
        assert log.count(RejectionFilter(text="@example")) == 3000
    with HistoryStore(data) as store:
        assert index_matches_rows(store.connection)


def test_pages_by_keyset_and_by_offset_agree(log):
    first = log.page(limit=100)
    after = log.page(limit=100, after_id=first[-1].id)
    assert [r.row for r in log.page(limit=100, offset=100)] == [r.row for r in after]
    assert [r.row for r in first] == list(range(100))
    assert len(list(log.iter_all(batch=700))) == 3000


def test_without_verbose_logging_only_reason_and_row_are_kept(tmp_path):
    with HistoryStore(tmp_path / "data") as store:
        run_id = new_run(store, verbose_logging=False)
        rec = recorder(store, run_id, verbose=False)
        rec.reject(5, INVALID, reasons.INVALID_EMAIL, identifier="secret@example.com", message="'secret@example.com' bad")
        rec.close()
        [row] = store.connection.execute("SELECT row, reason, identifier, status, message FROM rejections").fetchall()
    assert row == (5, reasons.INVALID_EMAIL, None, None, None)


def test_outcomes_and_diff_state_land_in_one_flush(tmp_path):
    with HistoryStore(tmp_path / "data") as store:
        run_id = new_run(store)
        rec = recorder(store, run_id)
        rec.plan(2, 11, PENDING)
        rec.sync()
        rec.accept(2, "a@example.com", b"d" * 16)
        assert store.outcomes_between(run_id, 2, 2) == {2: PENDING}  # not yet flushed
        rec.close()
        assert store.outcomes_between(run_id, 2, 2) == {2: ACCEPTED}
        assert store.accepted_digests(rec.scope, ["a@example.com"]) == {"a@example.com": b"d" * 16}
        assert store.get_run(run_id).accepted == 1


HOLDER = """
import sys, time
from pathlib import Path
from tui.sync.lock import SendLock
lock = SendLock(Path(sys.argv[1]), "d", "sandbox")
lock.acquire()
lock.record_run(77)
print("held", flush=True)
sys.stdin.read()
"""


def test_the_lock_names_its_holder_and_a_killed_holder_leaves_it_free(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(SendLocked) as refused:
        SendLock(tmp_path, "d", "sandbox").acquire()
    assert refused.value.run_id == 77 and "run 77" in str(refused.value)
    assert holder_run_id(tmp_path, "d", "sandbox") == 77
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert holder_run_id(tmp_path, "d", "sandbox") is None
    with SendLock(tmp_path, "d", "sandbox"):
        assert holder_run_id(tmp_path, "d", "production") is None


def test_first_rows_finds_written_keys_after_their_batch_is_committed_and_a_resumed_recorder_too(tmp_path):
    """first_rows asks SQLite only for keys the recorder wrote (its filter of written keys), in the spans of
    rows they were written in: a key written in an earlier, committed batch is still found, in any span (a
    leave's row is 10**12 on); one never written is not; a recorder for a resumed run reads back the keys
    and spans written before."""
    far, leave = 5 << ROW_SPAN_SHIFT, LEAVE_ROW_BASE + 3
    with HistoryStore(tmp_path / "data") as store:
        run_id = new_run(store)
        first = recorder(store, run_id)
        first.plan(2, 1001)
        first.plan_all([(3, -7), (4, 1 << 40)], PENDING)
        first.sync()  # committed and reaped: no longer held in memory
        first.plan_all([(far, 77), (leave, 88)], PENDING)
        first.sync()
        assert first.first_rows([1001, -7, 1 << 40, 5555, 77, 88]) == {1001: 2, -7: 3, 1 << 40: 4, 77: far, 88: leave}
        first.plan(9, 5555)
        assert first.first_rows([5555]) == {5555: 9}  # planned, not written yet
        first.close()
        resumed = recorder(store, run_id)
        assert resumed.first_rows([1001, 5555, 42, 77, 88]) == {1001: 2, 5555: 9, 77: far, 88: leave}
        resumed.close()


def test_first_rows_looks_keys_up_in_the_index_by_span(tmp_path):
    """The look-up names the index's expression exactly as the index does: otherwise SQLite reads every row
    of the run for each key."""
    with HistoryStore(tmp_path / "data") as store:
        run_id = new_run(store)
        written = recorder(store, run_id)
        written.plan_all([(2, 1001), (3 << ROW_SPAN_SHIFT, 1002)], PENDING)
        written.sync()
        queries: list[str] = []
        store.connection.set_trace_callback(queries.append)
        assert written.first_rows([1001, 1002]) == {1001: 2, 1002: 3 << ROW_SPAN_SHIFT}
        store.connection.set_trace_callback(None)
        [query] = [query for query in queries if "row_outcomes" in query]
        plan = " ".join(row[-1] for row in store.connection.execute("EXPLAIN QUERY PLAN " + query))
        assert "USING COVERING INDEX row_outcomes_by_span" in plan, plan
        written.close()


def test_a_version_8_history_indexes_its_keys_by_span_and_resumes_with_them(tmp_path):
    """Version 8 indexed row outcomes by key alone: the upgrade replaces that index, and a run written
    before it still finds its keys."""
    data = tmp_path / "data"
    with HistoryStore(data) as store:
        run_id = new_run(store)
        written = recorder(store, run_id)
        written.plan_all([(2, 1001), (3, 1002)], PENDING)
        written.close()
    with sqlite3.connect(history_path(data)) as db:  # as version 8 left it
        db.executescript("DROP INDEX row_outcomes_by_span; "
                         "CREATE INDEX row_outcomes_by_key ON row_outcomes (run_id, key) WHERE key IS NOT NULL; "
                         "PRAGMA user_version = 8;")
    with HistoryStore(data) as store:
        indexes = {name for (name,) in store.connection.execute(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'row_outcomes' AND type = 'index'")}
        assert "row_outcomes_by_span" in indexes and "row_outcomes_by_key" not in indexes
        resumed = recorder(store, run_id)
        assert resumed.first_rows([1001, 1002, 1003]) == {1001: 2, 1002: 3}
        resumed.close()


def test_first_rows_does_not_ask_sqlite_for_a_key_that_shares_only_the_planners_bits_with_a_written_one(tmp_path):
    """The planner's filter picks a key's bit by its low bits, so its false "seen" are keys whose low bits
    match a planned one. The recorder's filter picks by higher bits: such a key, if never written, is
    answered without a query. With both filters on the same bits every false "seen" was a query (a
    3,000,000-row first send: 65,711 of 65,984 suspects asked, 15 s of its 148)."""
    with HistoryStore(tmp_path / "data") as store:
        run_id = new_run(store)
        written = recorder(store, run_id)
        keys = [identifier_key(f"member{row}@example.com") for row in range(2, 2002)]
        written.plan_all(list(zip(range(2, 2002), keys)), PENDING)
        written.sync()
        queries: list[str] = []
        store.connection.set_trace_callback(queries.append)
        # The same low 32 bits as a written key each, never written; asked one a chunk, as the planner does.
        twins = [key ^ (identifier_key(f"twin{n}") & ~0xFFFF_FFFF) for n, key in enumerate(keys)]
        assert all(written.first_rows([twin]) == {} for twin in twins)
        asked = [query for query in queries if "row_outcomes" in query]
        assert len(asked) < 20, f"{len(asked)} of 2,000 keys never written were asked from SQLite"
        assert written.first_rows([keys[3]]) == {keys[3]: 5}  # a written key is still found
        store.connection.set_trace_callback(None)
        written.close()
