"""The bench's audience written as Parquet: the rows `send.write_audience` writes as CSV, typed
(points as integers), in a few row groups as an export would hold them."""
from __future__ import annotations

import importlib
from pathlib import Path

TIERS = ("Bronze", "Silver", "Gold", "Platinum")


def write_parquet_audience(path: Path, rows: int, *, row_groups: int = 4) -> int:
    """Write the file one row group at a time (memory stays at one group); returns the row groups written."""
    # Imported here: the send child imports the bench modules, and a CSV send does not load pyarrow.
    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    schema = pa.schema([("email", pa.string()), ("phone", pa.string()), ("first_name", pa.string()),
                        ("tier", pa.string()), ("points", pa.int64())])
    group = max(1, -(-rows // row_groups))
    written = 0
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, group):
            span = range(start, min(rows, start + group))
            writer.write_table(pa.table({
                "email": [f"member{i}@example.com" for i in span], "phone": [f"+1212{i:07d}" for i in span],
                "first_name": [f"Name{i % 97}" for i in span], "tier": [TIERS[i % 4] for i in span],
                "points": [i % 20_000 for i in span],
            }, schema=schema), row_group_size=group)
            written += 1
    return written
