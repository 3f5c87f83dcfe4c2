"""Many rows written, or looked up, in few statements.

The history is written on a thread beside the event loop. sqlite3's executemany gives the GIL back
around each row's step and then waits for it again, and while the loop's thread is busy building
profiles that wait lasts up to the interpreter's switch interval: measured on a 100,000-row send, the
writer spent 5.0 s of wall time on 1.6 s of work, and the reader waited for it. One statement of
hundreds of rows gives the GIL back once for all of them. Rows are applied in order, as executemany
applies them: a later row for the same key wins.
"""
from __future__ import annotations

import functools
import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

MAX_PARAMETERS = 30_000  # SQLite's SQLITE_MAX_VARIABLE_NUMBER is 32,766 since 3.32


def rows_in(connection: sqlite3.Connection, query: str, fixed: Sequence[object], values: Iterable[object],
            ) -> Iterator[tuple]:
    """The rows of `query` for every value: its "{marks}" holds up to 512 of them a statement (in powers of
    two, as `_parts` cuts), after `fixed`."""
    for part in _parts(list(values), 512):
        yield from connection.execute(query.format(marks=",".join("?" * len(part))), (*fixed, *part))


def insert_rows(connection: sqlite3.Connection, head: str, rows: Sequence[Sequence[object]], tail: str = "") -> None:
    """`head` VALUES (...), (...) `tail` for every row: head is "INSERT ... INTO table (columns)", tail
    an optional ON CONFLICT clause."""
    if not rows:
        return
    width = len(rows[0])
    for part in _parts(rows, MAX_PARAMETERS // width):
        connection.execute(_insert(head, tail, width, len(part)), list(itertools.chain.from_iterable(part)))


def update_rows(connection: sqlite3.Connection, table: str, assigned: Sequence[str], keys: Sequence[str],
                rows: Sequence[Sequence[object]]) -> None:
    """UPDATE table SET assigned... WHERE keys... for each row (the assigned values, then the keys'). A
    row's key appearing twice: the later row's values are the ones kept."""
    if not rows:
        return
    width = len(assigned) + len(keys)
    last = {tuple(row[len(assigned):]): row for row in rows}  # UPDATE ... FROM picks any match of a repeated key
    for part in _parts(list(last.values()), MAX_PARAMETERS // width):
        connection.execute(_update(table, tuple(assigned), tuple(keys), len(part)), list(itertools.chain.from_iterable(part)))


def _parts(rows: Sequence[Any], most: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of `rows`, in order, of at most `most` rows each and a power of two rows long.
    sqlite3 keeps up to 128 prepared statements a connection, and one of thousands of rows takes
    megabytes: with a statement per flush size, a long send's cache grew by 75 MB. Powers of two leave
    about fifteen shapes a table."""
    most = 1 << (max(1, most).bit_length() - 1)
    start = 0
    while start < len(rows):
        size = min(most, 1 << ((len(rows) - start).bit_length() - 1))
        yield rows[start:start + size]
        start += size


@functools.lru_cache(maxsize=64)
def _insert(head: str, tail: str, width: int, count: int) -> str:
    one = "(" + ",".join("?" * width) + ")"
    return f"{head} VALUES {','.join([one] * count)} {tail}"


@functools.lru_cache(maxsize=64)
def _update(table: str, assigned: tuple[str, ...], keys: tuple[str, ...], count: int) -> str:
    one = "(" + ",".join("?" * (len(assigned) + len(keys))) + ")"
    sets = ", ".join(f"{name} = v.column{i + 1}" for i, name in enumerate(assigned))
    where = " AND ".join(f"{table}.{name} = v.column{len(assigned) + i + 1}" for i, name in enumerate(keys))
    return f"UPDATE {table} SET {sets} FROM (VALUES {','.join([one] * count)}) AS v WHERE {where}"
