"""Parquet audience files, written with pyarrow: the values each type gives, row numbers, the columns
read, and the files refused (not Parquet, truncated, no rows, nested or binary mapped columns, a
damaged row group, a file written to between inspection and reading)."""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tui.sync.parquet_source import check_columns, inspect_parquet, parquet_rows
from tui.sync.source_files import SourceError


def write(path: Path, columns: dict[str, pa.Array], **options) -> Path:
    pq.write_table(pa.table(columns), path, **options)
    return path


def values_of(path: Path, columns, **options) -> list:
    return [(row.row, row.values, row.problem) for row in parquet_rows(path, inspect_parquet(path), columns, **options)]


def test_inspect_records_the_hash_rows_columns_and_row_groups(tmp_path):
    path = write(tmp_path / "a.parquet", {"email": pa.array([f"m{i}@example.com" for i in range(10)]),
                                          "points": pa.array(range(10))}, row_group_size=4)
    facts = inspect_parquet(path)
    assert facts.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (facts.rows, facts.columns, facts.row_groups) == (10, ("email", "points"), 3)
    assert facts.rows_estimate == 10 and facts.stamp.size == path.stat().st_size


def test_each_type_gives_the_value_json_lines_would(tmp_path):
    utc = dt.timezone.utc
    columns = {
        "text": pa.array(["a", None]),
        "large_text": pa.array(["b", "c"], pa.large_string()),
        "category": pa.array(["Gold", "Gold"]).dictionary_encode(),
        "small": pa.array([-3, None], pa.int8()),
        "big": pa.array([2**63 - 1, 0], pa.int64()),
        "unsigned": pa.array([2**64 - 1, 1], pa.uint64()),
        "double": pa.array([1.5, None], pa.float64()),
        "single": pa.array([0.1, 2.0], pa.float32()),
        "flag": pa.array([True, False]),
        "money": pa.array([Decimal("3.00"), Decimal("19.99")], pa.decimal128(10, 2)),
        "precise": pa.array([Decimal("0.12345678901234567890"), None], pa.decimal128(38, 20)),
        "day": pa.array([dt.date(2026, 1, 2), None], pa.date32()),
        "day64": pa.array([dt.date(2026, 1, 2), dt.date(1999, 12, 31)], pa.date64()),
        "at_utc": pa.array([dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc), None], pa.timestamp("us", "UTC")),
        "at_zone": pa.array([dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc)] * 2, pa.timestamp("ms", "America/New_York")),
        "at_naive": pa.array([dt.datetime(2026, 1, 2, 3, 4, 5), dt.datetime(2026, 1, 2, 3, 4, 5, 250000)], pa.timestamp("us")),
        "at_nanos": pa.array([1_767_323_045_123_456_789, 1_767_323_045_000_000_000], pa.timestamp("ns", "UTC")),
        "nothing": pa.nulls(2),
    }
    path = write(tmp_path / "types.parquet", columns)
    rows = values_of(path, list(columns))
    assert rows[0][1] == [
        "a", "b", "Gold", -3, 2**63 - 1, 2**64 - 1, 1.5, 0.1, True, 3, "0.12345678901234567890", "2026-01-02",
        "2026-01-02", "2026-01-02T03:04:05+00:00", "2026-01-01T22:04:05-05:00", "2026-01-02T03:04:05",
        "2026-01-02T03:04:05.123456789+00:00", None,
    ]
    assert rows[1][1] == [
        None, "c", "Gold", None, 0, 1, None, 2.0, False, 19.99, None, None,
        "1999-12-31", None, "2026-01-01T22:04:05-05:00", "2026-01-02T03:04:05.250000",
        "2026-01-02T03:04:05+00:00", None,
    ]
    kinds = [type(v) for v in rows[0][1]]
    assert kinds[3:6] == [int] * 3 and kinds[6:8] == [float] * 2 and kinds[8] is bool and kinds[9] is int
    assert type(rows[1][1][9]) is float


def test_times_of_day_and_a_timestamp_past_year_9999(tmp_path):
    path = write(tmp_path / "times.parquet", {
        "time": pa.array([dt.time(3, 4, 5), dt.time(23, 59, 59, 500)], pa.time64("us")),
        "time_nanos": pa.array([1_000_000_001, 46_800_000_000_000], pa.time64("ns")),
        "far": pa.array([0, 253_402_300_800], pa.timestamp("s")),  # 10000-01-01
    })
    rows = values_of(path, ["time", "time_nanos"])
    assert [r[1] for r in rows] == [["03:04:05", "00:00:01.000000001"], ["23:59:59.000500", "13:00:00"]]
    rows = values_of(path, ["time", "far"])
    assert rows[0] == (1, ["03:04:05", "1970-01-01T00:00:00"], None)
    assert rows[1][:2] == (2, [None, None])
    assert rows[1][2].startswith("has a value in column 'far' that cannot be read as a date or time")


def test_rows_are_numbered_from_1_in_file_order_across_row_groups_and_batches(tmp_path):
    count = 1000
    path = write(tmp_path / "groups.parquet", {"email": pa.array([f"m{i}@example.com" for i in range(count)]),
                                               "n": pa.array(range(count))}, row_group_size=128)
    facts = inspect_parquet(path)
    assert facts.row_groups == 8
    rows = list(parquet_rows(path, facts, ["n", "email"], batch_rows=50))
    assert [r.row for r in rows] == list(range(1, count + 1))
    assert [r.values for r in rows] == [[i, f"m{i}@example.com"] for i in range(count)]
    assert all(r.problem is None for r in rows)


def test_nan_or_infinity_makes_its_row_malformed_and_leaves_the_others(tmp_path):
    path = write(tmp_path / "nan.parquet", {"email": pa.array(["a@x.com", "b@x.com", "c@x.com", "d@x.com"]),
                                            "score": pa.array([1.0, float("nan"), float("inf"), -float("inf")])})
    rows = values_of(path, ["email", "score"])
    assert rows[0] == (1, ["a@x.com", 1.0], None)
    assert rows[1] == (2, [None, None], "has NaN in column 'score', which is not a JSON number")
    assert rows[2][2] == "has infinity in column 'score', which is not a JSON number"
    assert rows[3][2] == "has -infinity in column 'score', which is not a JSON number"


def test_a_mapped_nested_column_is_refused_by_name_an_unmapped_one_is_never_read(tmp_path):
    path = write(tmp_path / "nested.parquet", {
        "email": pa.array(["a@x.com"]), "tags": pa.array([["vip", "new"]]),
        "tags_big": pa.array([["x"]], pa.large_list(pa.string())), "address": pa.array([{"city": "Oslo"}]),
        "prefs": pa.array([[("sms", True)]], pa.map_(pa.string(), pa.bool_())), "photo": pa.array([b"\x89PNG"]),
    })
    facts = inspect_parquet(path)
    assert values_of(path, ["email"]) == [(1, ["a@x.com"], None)]
    with pytest.raises(SourceError) as refused:
        check_columns(path, facts, ["email", "tags"])
    assert str(refused.value) == (f"{path}: column 'tags' is a list; Attentive custom attributes are scalars: "
                                  "flatten it in the export, or leave it unmapped")
    for column, kind in (("tags_big", "is a list"), ("address", "is a struct"), ("prefs", "is a map"),
                         ("photo", "holds binary data")):
        with pytest.raises(SourceError, match=f"column '{column}' {kind}"):
            list(parquet_rows(path, facts, ["email", column]))


def test_a_missing_mapped_column_lists_the_columns_and_suggests_the_close_one(tmp_path):
    path = write(tmp_path / "a.parquet", {"email": pa.array(["a@x.com"]), "loyalty_tier": pa.array(["Gold"])})
    with pytest.raises(SourceError) as missing:
        list(parquet_rows(path, inspect_parquet(path), ["email", "loyalty tier"]))
    message = str(missing.value)
    assert message.startswith(f"{path}: mapped column 'loyalty tier' is not in")
    assert "'email', 'loyalty_tier'" in message and message.endswith("did you mean 'loyalty_tier'?")


def test_only_the_requested_columns_are_read_and_a_damaged_row_group_is_named(tmp_path):
    path = write(tmp_path / "damaged.parquet", {"email": pa.array([f"m{i}@x.com" for i in range(300)]),
                                                "tier": pa.array([f"tier {i}" for i in range(300)])},
                 row_group_size=100, compression="none", use_dictionary=False)
    chunk = pq.ParquetFile(path).metadata.row_group(1).column(1)  # 'tier', rows 101-200
    data = bytearray(path.read_bytes())
    start = chunk.data_page_offset
    data[start:start + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    path.write_bytes(bytes(data))
    facts = inspect_parquet(path)  # the footer is intact
    assert [r.values[0] for r in parquet_rows(path, facts, ["email"])] == [f"m{i}@x.com" for i in range(300)]
    with pytest.raises(SourceError) as damaged:
        list(parquet_rows(path, facts, ["email", "tier"]))
    assert str(damaged.value).startswith(f"{path}: row group 2 of 3 (rows 101-200) cannot be read")
    assert str(damaged.value).endswith("the file is damaged: export it again")


def test_a_file_that_is_not_parquet_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "audience.parquet"
    path.write_text("email,tier\na@x.com,Gold\n")
    with pytest.raises(SourceError) as refused:
        inspect_parquet(path)
    assert str(refused.value) == (f"{path}: is not a Parquet file (it does not start and end with PAR1); "
                                  "export it again as Parquet, or rename it to its real format")


def test_a_truncated_file_an_empty_one_and_a_corrupt_footer_are_refused(tmp_path):
    path = write(tmp_path / "cut.parquet", {"email": pa.array([f"m{i}@x.com" for i in range(1000)])})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SourceError, match=r"cut\.parquet: is truncated .* does not end with PAR1"):
        inspect_parquet(path)
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match=r"empty\.parquet: is empty; export the audience again"):
        inspect_parquet(empty)
    good = write(tmp_path / "footer.parquet", {"email": pa.array(["a@x.com"])}).read_bytes()
    footer_length = int.from_bytes(good[-8:-4], "little")
    broken = tmp_path / "footer.parquet"
    broken.write_bytes(good[:-8 - footer_length] + b"\x00" * footer_length + good[-8:])
    with pytest.raises(SourceError, match=r"footer\.parquet: its Parquet footer is corrupt"):
        inspect_parquet(broken)


def test_a_file_with_no_rows_is_refused(tmp_path):
    path = write(tmp_path / "none.parquet", {"email": pa.array([], pa.string())})
    with pytest.raises(SourceError, match=r"none\.parquet: has no data rows; export the audience again"):
        inspect_parquet(path)


def test_a_file_rewritten_after_inspection_is_refused_before_a_row(tmp_path):
    path = write(tmp_path / "a.parquet", {"email": pa.array(["a@x.com", "b@x.com"])})
    facts = inspect_parquet(path)
    write(path, {"email": pa.array(["c@x.com", "d@x.com", "e@x.com"])})
    with pytest.raises(SourceError, match=r"a\.parquet: was written to while being read"):
        next(parquet_rows(path, facts, ["email"]))


def test_a_file_written_to_while_it_is_read_stops_the_read(tmp_path):
    path = write(tmp_path / "a.parquet", {"email": pa.array([f"m{i}@x.com" for i in range(100)])})
    rows = parquet_rows(path, inspect_parquet(path), ["email"], batch_rows=10)
    seen = [next(rows) for _ in range(10)]  # the first batch
    with open(path, "ab") as handle:
        handle.write(b"more")
    with pytest.raises(SourceError, match=r"a\.parquet: was written to while being read"):
        list(rows)
    assert [r.row for r in seen] == list(range(1, 11))


def test_no_such_file_and_a_folder_are_refused(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        inspect_parquet(tmp_path / "missing.parquet")
    with pytest.raises(SourceError, match="is a directory"):
        inspect_parquet(tmp_path)
