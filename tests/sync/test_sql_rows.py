"""Many rows in few statements: the same table as executemany would leave, in a real SQLite file."""
from __future__ import annotations

import sqlite3

from tui.sync import sql_rows


def _table(tmp_path):
    connection = sqlite3.connect(tmp_path / "rows.db")
    connection.execute("CREATE TABLE t (a INTEGER, b INTEGER, v TEXT, d BLOB, PRIMARY KEY (a, b))")
    return connection


def test_inserts_past_one_statements_parameters_land_in_order(tmp_path):
    connection = _table(tmp_path)
    rows = [(i % 7, i, f"v{i}", bytes([i % 256])) for i in range(sql_rows.MAX_PARAMETERS // 4 * 2 + 5)]  # three statements
    sql_rows.insert_rows(connection, "INSERT INTO t (a, b, v, d)", rows)
    assert connection.execute("SELECT a, b, v, d FROM t ORDER BY b").fetchall() == rows


def test_a_later_row_for_the_same_key_wins_in_an_upsert_and_an_update(tmp_path):
    connection = _table(tmp_path)
    sql_rows.insert_rows(connection, "INSERT INTO t (a, b, v, d)", [(1, 1, "first", b"x"), (1, 1, "second", b"y")],
                         "ON CONFLICT (a, b) DO UPDATE SET v = excluded.v, d = excluded.d")
    assert connection.execute("SELECT v, d FROM t").fetchall() == [("second", b"y")]
    sql_rows.insert_rows(connection, "INSERT INTO t (a, b, v, d)", [(1, 2, "other", None)])
    sql_rows.update_rows(connection, "t", ["v"], ["a", "b"], [("third", 1, 1), ("fourth", 1, 1), ("gone", 9, 9)])
    assert connection.execute("SELECT b, v FROM t ORDER BY b").fetchall() == [(1, "fourth"), (2, "other")]


def test_updates_match_blob_keys(tmp_path):
    connection = _table(tmp_path)
    sql_rows.insert_rows(connection, "INSERT INTO t (a, b, v, d)", [(1, 1, "old", b"\x00\xff"), (1, 2, "old", b"\x01")])
    sql_rows.update_rows(connection, "t", ["v"], ["a", "d"], [("new", 1, b"\x00\xff")])
    assert connection.execute("SELECT b, v FROM t ORDER BY b").fetchall() == [(1, "new"), (2, "old")]


def test_no_rows_write_nothing(tmp_path):
    connection = _table(tmp_path)
    sql_rows.insert_rows(connection, "INSERT INTO t (a, b, v, d)", [])
    sql_rows.update_rows(connection, "t", ["v"], ["a", "b"], [])
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_look_up_of_thousands_of_values_finds_each_once(tmp_path):
    connection = _table(tmp_path)
    sql_rows.insert_rows(connection, "INSERT INTO t (a, b, v, d)", [(1, i, f"v{i}", None) for i in range(2500)])
    found = list(sql_rows.rows_in(connection, "SELECT b, v FROM t WHERE a = ? AND b IN ({marks})", (1,),
                                  range(-5, 2600, 2)))
    assert sorted(found) == [(b, f"v{b}") for b in range(1, 2500, 2)]


def test_writes_of_every_size_share_a_few_statements(tmp_path):
    """sqlite3 caches 128 prepared statements a connection, and one of thousands of rows holds
    megabytes: a statement per write size made a long send's memory grow by tens of megabytes."""
    connection = _table(tmp_path)
    statements: set[str] = set()

    class Recording:  # the SQL text of every statement the writes prepare
        def execute(self, sql, parameters=()):
            statements.add(sql)
            return connection.execute(sql, parameters)

    for size in range(1, 3000, 7):
        rows = [(1, i, "v", None) for i in range(size)]
        sql_rows.insert_rows(Recording(), "INSERT OR REPLACE INTO t (a, b, v, d)", rows)  # type: ignore[arg-type]
        sql_rows.update_rows(Recording(), "t", ["v"], ["a", "b"], [("w", 1, i) for i in range(size)])  # type: ignore[arg-type]
    assert connection.execute("SELECT count(*), min(v), max(v) FROM t").fetchone() == (max(range(1, 3000, 7)), "w", "w")
    assert len(statements) <= 2 * 13  # 1, 2, 4 ... 4096 rows: thirteen shapes each
