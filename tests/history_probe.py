"""Reading a history database another process is writing, for the kill tests' wait conditions."""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tui.settings.paths import history_path


def job_states(data_dir: Path) -> dict[str, int]:
    """Bulk jobs per state, as last committed; empty before the tables exist."""
    try:
        with closing(sqlite3.connect(f"file:{history_path(data_dir)}?mode=ro", uri=True)) as db:
            return dict(db.execute("SELECT state, count(*) FROM bulk_jobs GROUP BY state"))
    except sqlite3.OperationalError:
        return {}
