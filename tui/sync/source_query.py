"""`send DESTINATION --query SQL`: a DuckDB query over files (CSV, Parquet, JSON), its result the
audience. The result is written once, at the start, to a Parquet file in the data directory
(private, renamed into place only when complete); the run records the query and that file's hash,
so a resume, a read-back and a rejection's detail read the same rows, never the query's answer of a
later moment. DuckDB is an optional extra: `pip install 'attentive-console[query]'`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tui.sync.source_files import SourceError
from tui.sync.source_spool import spool_name

INSTALL = "pip install 'attentive-console[query]'"


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise SourceError(f"--query needs DuckDB, which is not installed: {INSTALL}") from None
    return duckdb


def spool_query(sql: str, data_dir: Path) -> Path:
    """Run the query and write its result to data_dir/spool/query-<time>-<pid>-<n>.parquet."""
    duckdb = _duckdb()
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise SourceError("--query: the query is empty; write a SELECT, e.g. \"SELECT * FROM 'exports/*.parquet'\"")
    final = spool_name(data_dir, "query", ".parquet")
    partial = final.with_name(f".{final.name}.partial")
    try:
        with duckdb.connect(":memory:") as connection:
            relation = connection.sql(text)
            if relation is None:
                raise SourceError("--query: the query returns no rows (it is not a SELECT); write a SELECT over "
                                  "your files")
            relation.write_parquet(str(partial))
            # DuckDB writes a new file with the umask's mode; the spool folder (0700) kept others out meanwhile.
            os.chmod(partial, 0o600)
            rows = connection.execute(f"SELECT count(*) FROM read_parquet('{_quoted(partial)}')").fetchone()[0]
        if not rows:
            raise SourceError("--query: the query selected no rows; check its WHERE clause and the files it reads")
        os.replace(partial, final)
    except duckdb.Error as exc:
        partial.unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"--query: DuckDB refused it: {first}; fix the query") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
