"""The rejection log's text index (FTS5 trigram) and the writes that keep it current."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from tui.sync.sql_rows import insert_rows

# The text index: FTS5 trigram (substring search, any case, on identifiers and messages) with
# detail=none. Positions are not stored, so a search is an AND of the text's trigrams and the LIKE
# check in rejections.py confirms the substring; that halves the index and the time to build it.
# There is no per-row insert trigger: the writer indexes each batch with one INSERT ... SELECT in the
# transaction that adds the rows (index_new_rejections), so rows and index entries commit together.
# The `meta` watermark records the highest indexed id; readers fall back to LIKE while it lags (after
# an upgrade, or rows inserted without the writer) and the next writable open catches up. Nothing
# deletes rejections today; the delete trigger keeps the index right if a prune comes (one that must
# spare the newest rejections: SQLite would give their ids, under the watermark, to the next rows).
TEXT_INDEX = "rejection_text"
_INDEXED_UPTO = "rejection_text_upto"
TEXT_INDEX_DDL = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {TEXT_INDEX} USING fts5(
    identifier, message, content='rejections', content_rowid='id', tokenize='trigram', detail='none'
);
CREATE TRIGGER IF NOT EXISTS {TEXT_INDEX}_delete AFTER DELETE ON rejections
WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{_INDEXED_UPTO}') BEGIN
    INSERT INTO {TEXT_INDEX} ({TEXT_INDEX}, rowid, identifier, message)
    VALUES ('delete', old.id, old.identifier, old.message);
END;
"""


def has_text_index(connection: sqlite3.Connection) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (TEXT_INDEX,)).fetchone()
    return row is not None


def _indexed_upto(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (_INDEXED_UPTO,)).fetchone()
    return int(row[0]) if row else 0


def _newest_rejection(connection: sqlite3.Connection) -> int:
    return connection.execute("SELECT max(id) FROM rejections").fetchone()[0] or 0


def text_index_current(connection: sqlite3.Connection) -> bool:
    """Whether every rejection is in the text index (so a text search may rely on it)."""
    return has_text_index(connection) and _indexed_upto(connection) >= _newest_rejection(connection)


def index_new_rejections(connection: sqlite3.Connection) -> None:
    """Index the rejections added since the watermark. Call inside the write transaction that added
    them: the rows, their index entries and the watermark then commit (or vanish) together."""
    if not has_text_index(connection):
        return
    upto, newest = _indexed_upto(connection), _newest_rejection(connection)
    if newest <= upto:
        return
    connection.execute(f"INSERT INTO {TEXT_INDEX} (rowid, identifier, message) "
                       "SELECT id, identifier, message FROM rejections WHERE id > ?", (upto,))
    connection.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (_INDEXED_UPTO, str(newest)))


def write_rejections(connection: sqlite3.Connection, rejections: Iterable[tuple]) -> None:
    """Add rejections, each (run_id, row, reason, identifier, status, message), and index their text,
    inside the caller's write transaction (one INSERT ... SELECT per batch: a per-row trigger made a
    million rejections cost several times more)."""
    insert_rows(connection, "INSERT INTO rejections (run_id, row, reason, identifier, status, message)", list(rejections))
    index_new_rejections(connection)


def catch_up_text_index(connection: sqlite3.Connection) -> None:
    if text_index_current(connection):  # the usual case: a read, no write lock taken
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        index_new_rejections(connection)  # re-reads the watermark under the lock
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
