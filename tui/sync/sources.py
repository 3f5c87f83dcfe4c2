"""Audience files: CSV and TSV with a header row, and JSON Lines, streamed in chunks.

Row numbers are the line of the file where a record starts (the header is line 1, so the first CSV
data row is row 2, as a spreadsheet or `sed -n 2p` shows it; in JSON Lines row N is line N). Blank
lines are not rows.

What is refused before anything is sent (`SourceError`, the CLI exits 2): a file that cannot be
read, is not a regular file (a FIFO or a device: it is refused at once, never waited on), is empty,
is not UTF-8 (UTF-16 is named as such), holds NUL bytes (binary data), has no header or no data
rows, or lacks a mapped column, or maps a column that appears twice in the header. The checks that
need the whole file (encoding, NUL bytes) run in `inspect_source`, a streaming pre-scan that also
hashes the file and counts its lines for the ETA.

A file written to while it is read is an error too, not a different audience: the readers read
exactly the bytes `inspect_source` hashed, check the file against its stamp (inode, size, mtime) at
every block and against the hash at the end, and raise `SourceError` naming the file as soon as it
differs. A send then stops (its run fails) rather than send rows the hash never covered, so a resume,
which checks the hash, never meets rows of another file.

What becomes a per-row rejection (`SourceRow.problem`, reason `malformed_row`): a record with more
or fewer fields than the header, a quoted field that is never closed, a field over FIELD_LIMIT,
a JSON Lines line that is not valid JSON or not an object. JSON Lines has no header: a mapped key
missing from a line is an empty value there (so a misspelt key shows up as per-row rejections).
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import hashlib
import io
import json
import os
import stat
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SourceFormat = Literal["csv", "tsv", "jsonl"]

SCAN_BLOCK = 1 << 20
FIELD_LIMIT = 131_072  # characters; a longer field makes its record a malformed row
# What the csv parser itself accepts. Far above FIELD_LIMIT, because the parser cannot resume
# inside a quoted field: past its limit it would read the rest of that field as records of their
# own (a 10 MB field over 10,000 lines became thousands of rows). Only a field past this, in
# practice a quote never closed in a huge file, stops the read (SourceError); the parser holds at
# most this many characters in memory meanwhile.
PARSER_FIELD_CAP = 1 << 24
_EXTENSIONS: dict[str, SourceFormat] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
}


class SourceError(Exception):
    """The file cannot be used at all. The message names the file and the row or column, and
    says what to do."""


@dataclass(frozen=True)
class FileStamp:
    """The file as it was hashed; any write since changes the size or the modification time."""
    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileStamp:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


@dataclass(frozen=True)
class SourceInfo:
    path: Path
    format: SourceFormat
    sha256: str
    line_count: int                 # physical lines (for the ETA; multi-line fields make it an upper bound)
    header: tuple[str, ...] | None  # None for JSON Lines
    stamp: FileStamp

    @property
    def rows_estimate(self) -> int:
        return max(0, self.line_count - (1 if self.header is not None else 0))


@dataclass(slots=True)
class SourceRow:
    row: int                  # line where the record starts
    values: list[Any]         # one per requested column, None when absent
    problem: str | None = None  # set when the record itself is malformed; values are then empty


def detect_format(path: Path, head: bytes) -> SourceFormat:
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):
        return "jsonl"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def _open_regular(path: Path) -> tuple[int, FileStamp]:
    """A descriptor on the file and its stamp. Opened without blocking (a FIFO would wait for a
    writer, for ever and deaf to SIGTERM) and checked on the descriptor: only a regular file passes."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SourceError(f"{name}: no such file; check the path") from None
    except OSError as exc:
        raise SourceError(f"{name}: cannot be read ({exc.strerror}); check its permissions") from None
    status = os.fstat(fd)
    if stat.S_ISREG(status.st_mode):
        return fd, FileStamp.of(status)
    os.close(fd)
    if stat.S_ISDIR(status.st_mode):
        raise SourceError(f"{name}: is a directory, not an audience file")
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(status.st_mode) else "not a regular file (a device or socket)"
    raise SourceError(f"{name}: is {kind}; a send reads its file more than once, so copy it to a file "
                      f"first (e.g. cat {name} > audience.csv) and send that")


def _changed(name: str, stamp: FileStamp, now: FileStamp) -> SourceError:
    sizes = f"{stamp.size:,} bytes when checked, {now.size:,} now" if now.size != stamp.size else "same size"
    return SourceError(f"{name}: was written to while being read ({sizes}); wait until whatever writes it "
                       "has finished, then send it again (as a new send: a resume needs the file it started with)")


def inspect_source(path: Path) -> SourceInfo:
    """Stream the file once: readable, UTF-8, no NUL bytes, has data; hash and count lines."""
    name = str(path)
    fd, stamp = _open_regular(path)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines = 0
    size = 0
    head = b""
    first_line_end = -1
    has_data_after_header = False
    with open(fd, "rb") as handle:
        while True:
            try:
                block = handle.read(SCAN_BLOCK)
            except OSError as exc:
                raise SourceError(f"{name}: read failed ({exc.strerror})") from None
            if not block:
                break
            if not head:
                head = block[:4096]
                if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise SourceError(f"{name}: is UTF-16 encoded; save it as UTF-8 (CSV UTF-8 in Excel)")
            digest.update(block)
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines + block.count(b"\n", 0, nul) + 1
                raise SourceError(
                    f"{name}: row {line} holds a NUL byte; this looks like a binary or UTF-16 file, "
                    "not UTF-8 text"
                )
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                line = lines + block.count(b"\n", 0, exc.start) + 1
                raise SourceError(
                    f"{name}: row {line} is not valid UTF-8 (byte 0x{block[exc.start]:02x}); "
                    "save the file as UTF-8"
                ) from None
            if first_line_end < 0:
                newline = block.find(b"\n")
                if newline >= 0:
                    first_line_end = size + newline
                    has_data_after_header = bool(block[newline + 1:].strip())
            elif not has_data_after_header:
                has_data_after_header = bool(block.strip())
            lines += block.count(b"\n")
            size += len(block)
        now = FileStamp.of(os.fstat(fd))
        if now != stamp or size != stamp.size:
            raise _changed(name, stamp, now)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise SourceError(f"{name}: ends in the middle of a UTF-8 character; save the file as UTF-8") from None
    if not head.lstrip(codecs.BOM_UTF8).strip():
        raise SourceError(f"{name}: is empty; export the audience again")
    if not head.endswith(b"\n") and size:
        lines += 1  # last line without a newline
    fmt = detect_format(path, head)
    info = SourceInfo(path, fmt, digest.hexdigest(), lines, None, stamp)
    if fmt == "jsonl":
        return info
    header = _read_header(info)
    if not has_data_after_header:
        raise SourceError(f"{name}: has a header row but no data rows; export the audience again")
    return dataclasses.replace(info, header=header)


class _HashedBytes(io.RawIOBase):
    """The first `stamp.size` bytes of the file, the ones inspect_source hashed, or SourceError as
    soon as the file is seen to differ from its stamp (at every read) or its hash (at the end)."""

    def __init__(self, info: SourceInfo):
        fd, stamp = _open_regular(info.path)
        self._file = io.FileIO(fd, "rb")
        self._info = info
        self._left = info.stamp.size
        self._digest = hashlib.sha256()
        if stamp != info.stamp:  # replaced or written to since it was hashed
            self._file.close()
            raise _changed(str(info.path), info.stamp, stamp)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        now = FileStamp.of(os.fstat(self._file.fileno()))
        if now != self._info.stamp:
            raise _changed(str(self._info.path), self._info.stamp, now)
        if not self._left:
            return 0
        view = memoryview(buffer).cast("B")[:self._left]
        count = self._file.readinto(view) or 0
        if not count:  # cut short since the stamp was taken: never end early as if that were the whole file
            raise _changed(str(self._info.path), self._info.stamp, FileStamp.of(os.fstat(self._file.fileno())))
        self._digest.update(view[:count])
        self._left -= count
        if not self._left and self._digest.hexdigest() != self._info.sha256:
            raise SourceError(f"{self._info.path}: its content changed while being read (same size, other "
                              "bytes); send it again once nothing writes to it")
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def _open_text(info: SourceInfo) -> io.TextIOWrapper:
    raw = io.BufferedReader(_HashedBytes(info), buffer_size=SCAN_BLOCK)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="strict")


def _reader(handle: io.TextIOWrapper, fmt: SourceFormat):
    csv.field_size_limit(PARSER_FIELD_CAP)
    if fmt == "tsv":  # TSV has no quoting: a quote character is data
        return csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, strict=True)
    return csv.reader(handle, delimiter=",", strict=True)


def _read_header(info: SourceInfo) -> tuple[str, ...]:
    with _open_text(info) as handle:
        reader = _reader(handle, info.format)
        try:
            for record in reader:
                if record:
                    return tuple(name.strip() for name in record)
        except csv.Error as exc:
            raise SourceError(f"{info.path}: the header row {_csv_problem(str(exc), reader.line_num, 1)}") from None
    raise SourceError(f"{info.path}: has no header row")


class SourceReader:
    """Streams the requested columns of a file, chunk by chunk."""

    def __init__(self, info: SourceInfo, columns: Sequence[str]):
        self.info = info
        self.columns = tuple(columns)
        self._indexes = self._resolve(info, self.columns) if info.header is not None else None

    @staticmethod
    def _resolve(info: SourceInfo, columns: Sequence[str]) -> list[int]:
        header = info.header or ()
        positions: dict[str, list[int]] = {}
        for index, name in enumerate(header):
            positions.setdefault(name, []).append(index)
        indexes = []
        for column in columns:
            found = positions.get(column)
            if not found:
                raise SourceError(_missing_column_message(info, column))
            if len(found) > 1:
                numbers = ", ".join(str(i + 1) for i in found)
                raise SourceError(
                    f"{info.path}: column {column!r} appears {len(found)} times in the header (columns {numbers}); "
                    "rename the duplicates so the mapping is unambiguous"
                )
            indexes.append(found[0])
        return indexes

    def chunks(self, size: int = 1000) -> Generator[list[SourceRow], None, None]:
        rows = self._jsonl_rows() if self._indexes is None else self._delimited_rows()
        chunk: list[SourceRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _delimited_rows(self) -> Iterator[SourceRow]:
        indexes = self._indexes or []
        width = len(self.info.header or ())
        nothing = [None] * len(indexes)
        with _open_text(self.info) as handle:
            reader = _reader(handle, self.info.format)
            header_seen = False
            while True:
                start = reader.line_num + 1
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "field larger than field limit" in str(exc):  # PARSER_FIELD_CAP: lines after it are not records
                        raise SourceError(
                            f"{self.info.path}: row {start} has a field running past {PARSER_FIELD_CAP:,} characters "
                            "(a quote that is never closed?); the rest of the file cannot be read: fix it and send "
                            "it again") from None
                    yield SourceRow(start, nothing, _csv_problem(str(exc), reader.line_num, start))
                    continue
                if not record:
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                if len(record) != width:
                    if len(record) == 1 and not record[0].strip():
                        continue  # a line of spaces
                    yield SourceRow(start, nothing, f"has {len(record)} fields, the header has {width}")
                    continue
                # The join is the cheap test (a long field makes a long record); max only for those.
                if len("".join(record)) > FIELD_LIMIT and max(map(len, record)) > FIELD_LIMIT:
                    yield SourceRow(start, nothing, f"has a field longer than {FIELD_LIMIT:,} characters")
                    continue
                yield SourceRow(start, [record[i] for i in indexes])

    def _jsonl_rows(self) -> Iterator[SourceRow]:
        columns = self.columns
        nothing = [None] * len(columns)
        with _open_text(self.info) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if len(line) > FIELD_LIMIT * 8:
                    yield SourceRow(number, nothing, f"line is longer than {FIELD_LIMIT * 8} characters")
                    continue
                try:
                    record = json.loads(line, parse_constant=_refuse_constant)
                except ValueError as exc:
                    yield SourceRow(number, nothing, f"is not valid JSON ({exc})")
                    continue
                if not isinstance(record, dict):
                    yield SourceRow(number, nothing, f"is a JSON {type(record).__name__}, not an object")
                    continue
                yield SourceRow(number, [record.get(c) for c in columns])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _csv_problem(error: str, line_now: int, start: int) -> str:
    if "unexpected end of data" in error or "EOF inside string" in error:
        return "has a quoted field that is never closed (it runs to the end of the file)"
    return f"cannot be parsed ({error}; lines {start}-{line_now})"


def _missing_column_message(info: SourceInfo, column: str) -> str:
    header = info.header or ()
    shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
    message = f"{info.path}: mapped column {column!r} is not in the header (row 1 has: {shown})"
    close = difflib.get_close_matches(column, header, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    elif len(header) == 1:
        for sep, label in ((";", "semicolon"), ("|", "pipe"), ("\t", "tab"), (",", "comma")):
            if sep in header[0]:
                message += f"; the file looks {label}-delimited: save it as comma-separated CSV or as TSV"
                break
    else:
        message += "; fix the destination's mapping or the file's header"
    return message
