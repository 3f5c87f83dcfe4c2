"""Audience sources: one file, or the parts of one export read as one audience.

A source is named by a file, a folder (its audience files in natural order: part-2 before part-10;
hidden files and `_`-prefixed ones such as Spark's `_SUCCESS` are skipped, subfolders are not read),
a glob (`exports/part-*.csv.gz`), or a list of these, in the order given. Text parts (CSV, TSV, JSON
Lines; plain, gzip or a one-file zip) are read by text_source.py, Parquet by parquet_source.py; `-`
(standard input) is spooled to a file first (source_spool.py), so a resume reads it again.

Rows are numbered once across the parts: a part's rows follow the last line of the part before it
(`row_offset`), so with two CSV parts of 100 lines each, the first data row of the second is row
102 (its line 2). Within a text part a row is the line where its record starts; within Parquet, the
record's position (1 = first). `SourceInfo.locate` turns a row back into its part and place.

The parts of one export share their format and their header (column names in order); a part of a
several-part source may hold a header and no rows (an empty partition), the whole may not. A
single file's hash is the file's sha256, as before; several parts hash to the sha256 of their
hashes in order, so a resume or a read-back refuses a source whose parts changed.
"""
from __future__ import annotations

import glob
import hashlib
import os
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.sync.compressed import compression_of
from tui.sync.delimited_records import delimited_chunks
from tui.sync.parquet_source import ParquetFacts, check_columns, inspect_parquet, parquet_rows
from tui.sync.source_files import ChunkRows, FileStamp, SourceChunk, SourceError, SourceRow, parsed_chunks
from tui.sync.text_source import TEXT_EXTENSIONS, TextFacts, inspect_text, jsonl_rows, text_column_indexes

__all__ = ["FileStamp", "SourceError", "SourceChunk", "SourceInfo", "SourcePart", "SourceReader", "SourceRow", "SourceSpec",
           "inspect_source"]

SourceSpec = Path | Sequence[Path]
PARQUET = ".parquet"
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class SourcePart:
    path: Path
    format: str                     # csv | tsv | jsonl | parquet
    compression: str                # "" | gzip | zip
    sha256: str
    line_count: int                 # rows the part spans in the numbering: text lines or Parquet records
    header: tuple[str, ...] | None  # None for JSON Lines
    row_offset: int
    text: TextFacts | None = None
    parquet: ParquetFacts | None = None

    @property
    def rows_estimate(self) -> int:
        return self.parquet.rows if self.parquet else max(0, self.line_count - (self.header is not None))

    @property
    def kind(self) -> str:
        """As runs record it: csv, csv.gz, jsonl.zip, parquet."""
        return self.format + {"gzip": ".gz", "zip": ".zip"}.get(self.compression, "")


@dataclass(frozen=True)
class SourceInfo:
    name: str                       # as the operator named it: a file, a folder, a glob, or the first of a list
    parts: tuple[SourcePart, ...]
    several: bool                   # named as parts (a folder, a glob, a list), even if one matched

    @property
    def path(self) -> Path:
        return self.parts[0].path if not self.several else Path(self.name)

    @property
    def format(self) -> str:
        return self.parts[0].kind

    @property
    def header(self) -> tuple[str, ...] | None:
        return self.parts[0].header

    @property
    def sha256(self) -> str:
        if not self.several:
            return self.parts[0].sha256
        return hashlib.sha256("\n".join(part.sha256 for part in self.parts).encode()).hexdigest()

    @property
    def line_count(self) -> int:
        return sum(part.line_count for part in self.parts)

    @property
    def rows_estimate(self) -> int:
        return sum(part.rows_estimate for part in self.parts)

    @property
    def part_paths(self) -> list[str]:
        return [str(part.path.resolve()) for part in self.parts]

    def locate(self, row: int) -> tuple[SourcePart, int]:
        """The part a row of the numbering lies in, and its row within that part."""
        for part in reversed(self.parts):
            if row > part.row_offset:
                return part, row - part.row_offset
        return self.parts[0], row

    def describe_row(self, row: int) -> str:
        if not self.several:
            return f"row {row:,}"
        part, local = self.locate(row)
        where = "line" if part.text is not None else "record"
        return f"row {row:,} ({part.path.name} {where} {local:,})"


def _natural(path: Path) -> list[int | str]:
    return [int(bit) if bit.isdigit() else bit.lower() for bit in re.split(r"(\d+)", path.name)]


def _is_audience_file(path: Path) -> bool:
    if path.name.startswith((".", "_")) or not path.is_file():
        return False
    inner = path.with_suffix("") if compression_of(path) else path
    return path.suffix.lower() == PARQUET or inner.suffix.lower() in TEXT_EXTENSIONS


def _expand(item: Path) -> tuple[list[Path], bool]:
    text = str(item)
    if _GLOB.search(text) and not item.exists():
        matches = sorted((Path(m) for m in glob.glob(text, recursive=True)), key=_natural)
        files = [m for m in matches if m.is_file()]
        if not files:
            raise SourceError(f"{text}: matches no files; check the pattern (quote it so the shell leaves it to us)")
        return files, True
    if item.is_dir():
        files = sorted((p for p in item.iterdir() if _is_audience_file(p)), key=_natural)
        if not files:
            raise SourceError(f"{text}: the folder holds no audience files (.csv, .tsv, .jsonl, .ndjson, .parquet, "
                              "optionally .gz or .zip; subfolders are not read)")
        return files, True
    return [item], False


def _inspect_part(path: Path, offset: int, need_data: bool) -> SourcePart:
    if path.suffix.lower() == PARQUET:
        facts = inspect_parquet(path, need_data=need_data)
        return SourcePart(path, "parquet", "", facts.sha256, facts.rows, facts.columns, offset, parquet=facts)
    text = inspect_text(path, need_data=need_data)
    return SourcePart(path, text.format, text.compression, text.sha256, text.line_count, text.header, offset, text=text)


def inspect_source(source: SourceSpec) -> SourceInfo:
    """Every part streamed once (see text_source.inspect_text and parquet_source.inspect_parquet),
    then checked against the first: same format, same header."""
    items = [source] if isinstance(source, Path) else list(source)
    if not items:
        raise SourceError("no audience file given")
    paths: list[Path] = []
    several = not isinstance(source, Path)  # a list names parts, even a list of one (a run's record)
    for item in items:
        found, expanded = _expand(item)
        paths += found
        several = several or expanded
    seen: dict[str, Path] = {}
    for path in paths:
        if (key := os.path.realpath(path)) in seen:
            raise SourceError(f"{path}: is named twice (also as {seen[key]}); name each part once")
        seen[key] = path
    parts: list[SourcePart] = []
    offset = 0
    for path in paths:
        part = _inspect_part(path, offset, need_data=not several)
        if parts:
            _same_shape(parts[0], part)
        parts.append(part)
        offset += part.line_count
    info = SourceInfo(str(items[0]), tuple(parts), several)
    if several and not info.rows_estimate:
        raise SourceError(f"{info.name}: none of its {len(parts)} parts holds a data row; export the audience again")
    return info


def _same_shape(first: SourcePart, part: SourcePart) -> None:
    if part.kind != first.kind:
        raise SourceError(f"{part.path}: is {part.kind}, but {first.path.name} is {first.kind}; the parts of one "
                          "export share one format: convert them, or send them as separate sends")
    if part.header != first.header:
        theirs, ours = first.header or (), part.header or ()
        at = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), min(len(theirs), len(ours)))
        raise SourceError(f"{part.path}: its header differs from {first.path.name}'s at column {at + 1} "
                          f"({_column(ours, at)} there, {_column(theirs, at)} in {first.path.name}); the parts of "
                          "one export share one header: export them again together")


def _fixed(size: int) -> ChunkRows:
    return lambda: size


def _column(header: tuple[str, ...], at: int) -> str:
    return repr(header[at]) if at < len(header) else "nothing"


class SourceReader:
    """Streams the requested columns of every part, chunk by chunk, in one row numbering."""

    def __init__(self, info: SourceInfo, columns: Sequence[str]):
        self.info = info
        self.columns = tuple(columns)
        for part in info.parts:  # a missing or ambiguous mapped column stops here, before anything is sent
            if part.parquet is not None:
                check_columns(part.path, part.parquet, self.columns)
            elif part.text is not None:
                text_column_indexes(part.text, self.columns)

    def source_chunks(self, size: int | ChunkRows = 1000) -> Iterator[SourceChunk]:
        """Every part's rows in chunks of at most `size` rows, or of what `size()` asks for as each chunk is
        cut (a chunk holds rows of one part)."""
        rows = size if callable(size) else _fixed(size)
        for part in self.info.parts:
            if part.text is not None:
                indexes = text_column_indexes(part.text, self.columns)
                yield from (parsed_chunks(jsonl_rows(part.text, self.columns), rows, part.row_offset) if indexes is None
                            else delimited_chunks(part.text, indexes, rows, part.row_offset))
                continue
            assert part.parquet is not None
            yield from parsed_chunks(parquet_rows(part.path, part.parquet, self.columns), rows, part.row_offset)

    def chunks(self, size: int = 1000) -> Generator[list[SourceRow], None, None]:
        """Every row, parsed, in lists of `size` (a list may span parts)."""
        rows: list[SourceRow] = []
        for chunk in self.source_chunks(size):
            rows += chunk.rows()
            if len(rows) >= size:
                yield rows[:size]
                rows = rows[size:]
        if rows:
            yield rows
