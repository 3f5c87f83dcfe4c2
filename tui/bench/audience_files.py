"""The bench's audience: as CSV, and as Parquet (points typed as integers, in a few row groups as an
export would hold them). Phones are E.164, or with `national` US numbers written four ways a
warehouse holds them ("(212) 200-0000", "212-200-0000", "212.200.0000", "2122000000"), each one
parsed by libphonenumber to be sent."""
from __future__ import annotations

import importlib
from pathlib import Path

TIERS = ("Bronze", "Silver", "Gold", "Platinum")
AREA_CODES = ("212", "646", "718", "917", "347", "929", "332", "516")  # 8,000,000 numbers each
_NATIONAL = ("({area}) {exchange}-{line}", "{area}-{exchange}-{line}", "{area}.{exchange}.{line}", "{area}{exchange}{line}")


def phone_of(i: int, national: bool) -> str:
    if not national:
        return f"+1212{i:07d}"
    area = AREA_CODES[i // 8_000_000 % len(AREA_CODES)]
    return _NATIONAL[i % 4].format(area=area, exchange=200 + i // 10_000 % 800, line=f"{i % 10_000:04d}")


def write_csv_audience(path: Path, rows: int, *, national: bool = False) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("email,phone,first_name,tier,points\n")
        for start in range(0, rows, 10_000):
            handle.write("".join(
                f"member{i}@example.com,{phone_of(i, national)},Name{i % 97},{TIERS[i % 4]},{i % 20_000}\n"
                for i in range(start, min(rows, start + 10_000))
            ))


def write_parquet_audience(path: Path, rows: int, *, row_groups: int = 4, national: bool = False) -> int:
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
                "email": [f"member{i}@example.com" for i in span], "phone": [phone_of(i, national) for i in span],
                "first_name": [f"Name{i % 97}" for i in span], "tier": [TIERS[i % 4] for i in span],
                "points": [i % 20_000 for i in span],
            }, schema=schema), row_group_size=group)
            written += 1
    return written
