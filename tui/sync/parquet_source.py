"""Parquet audience files: the footer checked up front, then only the mapped columns, batch by batch.

Row numbers are 1..N in file order: row N is the N-th record of the file (row groups in order, records
in order within each), as `pyarrow.parquet.read_table(path).slice(N - 1, 1)` shows it. There is no
header row to count.

What is refused before anything is sent (`SourceError`): a file that cannot be read or is not a
regular file, is empty, does not start and end with the Parquet magic `PAR1`, has a footer that
cannot be parsed, or has no rows (`inspect_parquet`); a mapped column that is missing, appears twice,
is nested (list, struct, map, union) or holds binary data or durations (`check_columns`, which
`parquet_rows` calls first). Unmapped columns are never read, so any type is fine there.

Values come out as the JSON Lines reader gives them: str, int, float, bool, None. Decimals become int
when integral, else float when that float is the same number, else str; dates "YYYY-MM-DD";
timestamps ISO 8601, with the offset when the column has a time zone. A float that is NaN or infinite
makes its row a malformed row (`SourceRow.problem`), as JSON refuses it.

A file written to while it is read is an error, as for CSV: the stamp (inode, size, mtime) taken
before hashing is checked after hashing, before every batch and at the end. The bytes are not hashed
again while reading (only the mapped columns are read), so a same-size write that keeps the
modification time would go unseen; no ordinary writer does that.
"""
from __future__ import annotations

import hashlib
import importlib
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tui.sync.source_files import FileStamp, SourceError, SourceRow, changed_error, missing_column_message, open_regular

MAGIC = b"PAR1"
SCAN_BLOCK = 1 << 20
# pyarrow, its compute and parquet modules: imported at first use (`_load`), as they cost a process
# about 50 MB and 0.1 s, which a CSV send need not pay.
pa: Any = None
pc: Any = None
pq: Any = None
_NESTED = "; Attentive custom attributes are scalars: flatten it in the export, or leave it unmapped"

# (values, [(index in the batch, row problem)]) for one column of one batch
Converted = tuple[list[Any], list[tuple[int, str]]]


@dataclass(frozen=True)
class ParquetFacts:
    sha256: str          # of the file's bytes
    stamp: FileStamp     # taken before hashing, checked after it
    rows: int            # from the footer: exact, for the ETA
    columns: tuple[str, ...]
    row_groups: int
    types: tuple[str, ...] = ()                # each column's Arrow type, as text
    refusals: tuple[str | None, ...] = ()      # per column: why it cannot be mapped, or None

    @property
    def rows_estimate(self) -> int:  # the name SourceInfo gives it
        return self.rows


def inspect_parquet(path: Path, *, need_data: bool = True) -> ParquetFacts:
    """Hash the file, check its magic and footer, and record its schema. `need_data=False` lets a
    part of a multi-part export hold no rows (an empty partition)."""
    _load()
    name = str(path)
    fd, stamp = open_regular(path)
    with open(fd, "rb", buffering=0) as handle:
        digest = hashlib.sha256()
        head, tail, size = b"", b"", 0
        while True:
            try:
                block = handle.read(SCAN_BLOCK)
            except OSError as exc:
                raise SourceError(f"{name}: read failed ({exc.strerror})") from None
            if not block:
                break
            if not size:
                head = block[:4]
            digest.update(block)
            tail = block[-4:] if len(block) >= 4 else (tail + block)[-4:]
            size += len(block)
        _check_stamp(handle, name, stamp, size)
        if not size:
            raise SourceError(f"{name}: is empty; export the audience again")
        if head != MAGIC:
            raise SourceError(f"{name}: is not a Parquet file (it does not start and end with PAR1); "
                              "export it again as Parquet, or rename it to its real format")
        if tail != MAGIC or size < 12:
            raise SourceError(f"{name}: is truncated (it starts as a Parquet file but does not end with PAR1, "
                              "so its footer is missing); copy or export it again")
        parquet = _open_parquet(handle, name)
        metadata, schema = parquet.metadata, parquet.schema_arrow
        _check_stamp(handle, name, stamp, size)
    if need_data and metadata.num_rows == 0:
        raise SourceError(f"{name}: has no data rows; export the audience again")
    return ParquetFacts(
        digest.hexdigest(), stamp, metadata.num_rows, tuple(schema.names), metadata.num_row_groups,
        tuple(str(field.type) for field in schema), tuple(_refusal(field.type) for field in schema),
    )


def check_columns(path: Path, facts: ParquetFacts, columns: Sequence[str]) -> None:
    """SourceError for the first mapped column that cannot be read: missing, twice in the file, nested
    or binary. Cheap (the schema is in `facts`): call it before anything is sent."""
    for column in columns:
        count = facts.columns.count(column)
        if not count:
            raise SourceError(missing_column_message(path, facts.columns, column, within="the file",
                                                     lists="its columns are"))
        if count > 1:
            raise SourceError(f"{path}: column {column!r} appears {count} times in the file; rename the duplicates "
                              "in the export so the mapping is unambiguous")
        refusal = facts.refusals[facts.columns.index(column)] if facts.refusals else None
        if refusal:
            raise SourceError(f"{path}: column {column!r} {refusal}")


def parquet_rows(path: Path, facts: ParquetFacts, columns: Sequence[str], *,
                 batch_rows: int = 65_536) -> Iterator[SourceRow]:
    """The requested columns of every record, in file order; values one per column as asked."""
    wanted = tuple(columns)
    check_columns(path, facts, wanted)
    _load()
    name = str(path)
    fd, stamp = open_regular(path)
    with open(fd, "rb", buffering=0) as handle:
        if stamp != facts.stamp:  # replaced or written to since it was inspected
            raise changed_error(name, facts.stamp, stamp)
        parquet = _open_parquet(handle, name)
        schema = parquet.schema_arrow
        converters = [_converter(schema.field(column).type, column) for column in wanted]
        read = list(dict.fromkeys(wanted))
        row = 1
        for group in range(parquet.num_row_groups):
            covers = parquet.metadata.row_group(group).num_rows
            # Threads off: the send's other work shares the machine's cores.
            batches = parquet.iter_batches(batch_size=batch_rows, row_groups=[group], columns=read, use_threads=False)
            first = row
            while True:
                _check_stamp(handle, name, facts.stamp)
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                except (pa.ArrowException, OSError) as exc:
                    raise SourceError(
                        f"{name}: row group {group + 1} of {parquet.num_row_groups} (rows {first:,}-"
                        f"{first + covers - 1:,}) cannot be read ({exc}); the file is damaged: export it again"
                    ) from None
                yield from _batch_rows(batch, wanted, converters, row)
                row += batch.num_rows
        _check_stamp(handle, name, facts.stamp)
        if row - 1 != facts.rows:  # the stamp held, so only a rewrite that kept size and mtime gets here
            raise changed_error(name, facts.stamp, facts.stamp)


def _load() -> None:
    global pa, pc, pq
    if pq is None:
        pa, pc = importlib.import_module("pyarrow"), importlib.import_module("pyarrow.compute")
        pq = importlib.import_module("pyarrow.parquet")


def _check_stamp(handle: IO[bytes], name: str, stamp: FileStamp, size: int | None = None) -> None:
    now = FileStamp.of(os.fstat(handle.fileno()))
    if now != stamp or (size is not None and size != stamp.size):
        raise changed_error(name, stamp, now)


def _open_parquet(handle: IO[bytes], name: str) -> Any:
    # Read through our own descriptor, the one whose stamp is checked: a path could name another file by now.
    handle.seek(0)
    try:
        parquet = pq.ParquetFile(handle)
        _ = parquet.schema_arrow  # a schema pyarrow cannot map fails here, not mid-send
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SourceError(f"{name}: its Parquet footer is corrupt ({exc}); export it again") from None
    return parquet


def _refusal(kind: Any) -> str | None:
    types = pa.types
    if types.is_dictionary(kind):
        return _refusal(kind.value_type)
    if isinstance(kind, pa.UuidType) or types.is_decimal(kind):
        return None  # before the binary test: both are fixed-size binary underneath
    for test, word in ((types.is_list, "list"), (types.is_large_list, "list"), (types.is_fixed_size_list, "list"),
                       (types.is_list_view, "list"), (types.is_large_list_view, "list"), (types.is_map, "map"),
                       (types.is_struct, "struct"), (types.is_union, "union")):
        if test(kind):
            return f"is a {word}{_NESTED}"
    if (types.is_binary(kind) or types.is_large_binary(kind) or types.is_fixed_size_binary(kind)
            or types.is_binary_view(kind)):
        return ("holds binary data (bytes, not text); Attentive custom attributes are text, numbers or "
                "true/false: export it as text, or leave it unmapped")
    if types.is_duration(kind) or types.is_interval(kind):
        return f"is a {kind} duration; export it as a number (e.g. of seconds) or as text, or leave it unmapped"
    if (types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind) or types.is_integer(kind)
            or types.is_floating(kind) or types.is_boolean(kind) or types.is_null(kind) or types.is_temporal(kind)):
        return None
    return f"is of type {kind}, which is not read; export it as text or a number, or leave it unmapped"


def _converter(kind: Any, column: str) -> Callable[[Any], Converted]:
    types = pa.types
    if types.is_dictionary(kind):
        inner = _converter(kind.value_type, column)
        return lambda array: inner(array.dictionary_decode())
    if types.is_floating(kind):
        return lambda array: _floats(array, column)
    if types.is_decimal(kind):
        return lambda array: ([None if v is None else _decimal(v) for v in array.to_pylist()], [])
    if types.is_date(kind):
        return lambda array: (pc.cast(array, pa.string()).to_pylist(), [])  # also past year 9999
    if types.is_timestamp(kind) or types.is_time(kind):
        return lambda array: _guarded(array, column, _temporal)
    if isinstance(kind, pa.UuidType):
        return lambda array: ([None if v is None else str(v) for v in array.to_pylist()], [])
    return lambda array: (array.to_pylist(), [])


def _floats(array: Any, column: str) -> Converted:
    if array.type != pa.float64():  # the shortest text of a float32 is the number the export meant (0.1)
        array = pc.cast(pc.cast(array, pa.string()), pa.float64())
    values = array.to_pylist()
    if pc.all(pc.is_finite(array)).as_py() is not False:
        return values, []
    problems = [(i, f"has {_non_finite(v)} in column {column!r}, which is not a JSON number")
                for i, v in enumerate(values) if v is not None and not math.isfinite(v)]
    return values, problems


def _non_finite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("infinity" if value > 0 else "-infinity")


def _decimal(value: Decimal) -> int | float | str:
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    return number if Decimal(repr(number)) == value else str(value)


def _temporal(array: Any) -> list[Any]:
    if array.type.unit == "ns":
        try:  # whole microseconds, the usual case, convert as they are
            array = pc.cast(array, pa.timestamp("us", array.type.tz) if pa.types.is_timestamp(array.type)
                            else pa.time64("us"))
        except pa.ArrowInvalid:
            return _nanoseconds(array)
    return [None if v is None else v.isoformat() for v in array.to_pylist()]


def _nanoseconds(array: Any) -> list[Any]:
    """Python's datetime stops at microseconds: the rest of the fraction is added to its text."""
    kind = array.type
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    zone = _zone(kind.tz) if pa.types.is_timestamp(kind) else None
    out: list[Any] = []
    for value in pc.cast(array, pa.int64()).to_pylist():
        if value is None:
            out.append(None)
            continue
        seconds, nanos = divmod(value, 1_000_000_000)
        fraction = f".{nanos:09d}" if nanos else ""  # as isoformat leaves out a zero fraction
        if pa.types.is_time(kind):
            out.append(f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{fraction}")
            continue
        moment = epoch + timedelta(seconds=seconds)
        moment = moment.astimezone(zone) if zone is not None else moment.replace(tzinfo=None)
        text = moment.isoformat(timespec="seconds")
        out.append(f"{text[:19]}{fraction}{text[19:]}")  # YYYY-MM-DDTHH:MM:SS, the fraction, the offset
    return out


def _zone(name: str | None) -> Any:
    if name is None:
        return None
    # pyarrow resolves the zone name the way it converts aware timestamps: borrow a converted value's tzinfo.
    sample = pa.array([0], pa.timestamp("s", name)).to_pylist()[0]
    return sample.tzinfo


def _guarded(array: Any, column: str, convert: Callable[[Any], list[Any]]) -> Converted:
    """A value Python cannot hold (a year past 9999) makes its row malformed, not the whole file."""
    try:
        return convert(array), []
    except (ValueError, OverflowError, pa.ArrowException):
        pass
    values: list[Any] = []
    problems: list[tuple[int, str]] = []
    for index in range(len(array)):
        try:
            values.append(convert(array.slice(index, 1))[0])
        except (ValueError, OverflowError, pa.ArrowException) as exc:
            values.append(None)
            problems.append((index, f"has a value in column {column!r} that cannot be read as a date or time ({exc})"))
    return values, problems


def _batch_rows(batch: Any, wanted: tuple[str, ...], converters: list[Callable[[Any], Converted]],
                start: int) -> Iterator[SourceRow]:
    if not wanted:
        for offset in range(batch.num_rows):
            yield SourceRow(start + offset, [])
        return
    lists: list[list[Any]] = []
    problems: dict[int, str] = {}
    for column, convert in zip(wanted, converters):
        values, bad = convert(batch.column(column))
        lists.append(values)
        for index, problem in bad:
            problems.setdefault(index, problem)  # the first column's problem is the row's
    nothing = [None] * len(wanted)
    for offset, record in enumerate(zip(*lists)):
        if problems and offset in problems:
            yield SourceRow(start + offset, nothing, problems[offset])
        else:
            yield SourceRow(start + offset, list(record))
