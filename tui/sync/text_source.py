"""One text part of an audience: CSV or TSV with a header row, or JSON Lines; plain, gzip or a
single-member zip, decompressed as it streams.

Row numbers are the line of the (decompressed) text where a record starts: the header is line 1, so
the first CSV data row is row 2, as a spreadsheet or `sed -n 2p` shows it; in JSON Lines row N is
line N. Blank lines are not rows.

Refused before anything is sent (`SourceError`, the CLI exits 2): what `open_regular` refuses, an
empty file, text that is not UTF-8 (UTF-16 is named as such), NUL bytes (binary data), no header or
no data rows, gzip data that ends early or is corrupt, a zip holding several files (or none, or an
encrypted one). These checks need the whole file and run in `inspect_text`, a streaming pre-scan
that also hashes the file as it lies on disk (compressed) and counts its lines for the ETA.

A file written to while it is read is an error too, not a different audience: the readers read
exactly the bytes `inspect_text` hashed, check the file against its stamp (inode, size, mtime) at
every block and against the hash at the end (a zip member against its CRC-32, as zipfile does), and
raise `SourceError` naming the file as soon as it differs.

Per-row rejections (`SourceRow.problem`, reason `malformed_row`): a record with more or fewer
fields than the header, a quoted field never closed, a field over FIELD_LIMIT, a JSON Lines line
that is not valid JSON or not an object. A mapped key missing from a JSON Lines line is an empty value.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from tui.sync.compressed import (
    DECOMPRESSION_ERRORS,
    Compression,
    DecompressionFailed,
    compression_of,
    decompression_problem,
    gunzipped,
    unzipped,
)
from tui.sync.source_files import (
    FileStamp,
    SourceError,
    SourceRow,
    changed_error,
    open_regular,
    resolve_columns,
)

TextFormat = Literal["csv", "tsv", "jsonl"]

SCAN_BLOCK = 1 << 20
FIELD_LIMIT = 131_072  # characters; a longer field makes its record a malformed row
# What the csv parser itself accepts. Far above FIELD_LIMIT, because the parser cannot resume
# inside a quoted field: past its limit it would read the rest of that field as records of their
# own (a 10 MB field over 10,000 lines became thousands of rows). Only a field past this, in
# practice a quote never closed in a huge file, stops the read (SourceError); the parser holds at
# most this many characters in memory meanwhile.
PARSER_FIELD_CAP = 1 << 24
TEXT_EXTENSIONS: dict[str, TextFormat] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class TextFacts:
    path: Path
    format: TextFormat
    compression: Compression
    member: str | None              # the file inside a zip
    sha256: str                     # of the file as it lies on disk
    line_count: int                 # physical lines of the text (multi-line fields make it an upper bound)
    header: tuple[str, ...] | None  # None for JSON Lines
    stamp: FileStamp
    has_data: bool


def detect_format(name: str, head: bytes) -> TextFormat:
    by_extension = TEXT_EXTENSIONS.get(PurePosixPath(name).suffix.lower())
    if by_extension:
        return by_extension
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):
        return "jsonl"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


class _HashedBytes(io.RawIOBase):
    """The first `stamp.size` bytes of the file, the ones inspect_text hashed, or SourceError as
    soon as the file is seen to differ from its stamp (at every read) or its hash (at the end)."""

    def __init__(self, path: Path, stamp: FileStamp, sha256: str | None):
        fd, now = open_regular(path)
        self._file = io.FileIO(fd, "rb")
        self._path, self._stamp, self._sha256 = path, stamp, sha256
        self._left = stamp.size
        self.digest = hashlib.sha256()
        if now != stamp:  # replaced or written to since it was hashed
            self._file.close()
            raise changed_error(str(path), stamp, now)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        now = FileStamp.of(os.fstat(self._file.fileno()))
        if now != self._stamp:
            raise changed_error(str(self._path), self._stamp, now)
        if not self._left:
            return 0
        view = memoryview(buffer).cast("B")[:self._left]
        count = self._file.readinto(view) or 0
        if not count:  # cut short since the stamp was taken: never end early as if that were the whole file
            raise changed_error(str(self._path), self._stamp, FileStamp.of(os.fstat(self._file.fileno())))
        self.digest.update(view[:count])
        self._left -= count
        if not self._left and self._sha256 is not None and self.digest.hexdigest() != self._sha256:
            raise SourceError(f"{self._path}: its content changed while being read (same size, other "
                              "bytes); send it again once nothing writes to it")
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def content_of(path: Path, compression: Compression, stamp: FileStamp,
             sha256: str | None) -> tuple[IO[bytes], _HashedBytes | None, str | None]:
    """The decompressed bytes of the file, the hashing reader under them (none for a zip, hashed
    apart) and the name of the file inside a zip."""
    if compression == "zip":
        content, member = unzipped(path, stamp, SCAN_BLOCK)
        return content, None, member
    raw = _HashedBytes(path, stamp, sha256)
    if compression == "gzip":
        return gunzipped(io.BufferedReader(raw, SCAN_BLOCK), str(path), SCAN_BLOCK), raw, None
    return io.BufferedReader(raw, SCAN_BLOCK), raw, None


def _hash_whole(path: Path, stamp: FileStamp) -> str:
    with _HashedBytes(path, stamp, None) as raw:
        while raw.read(SCAN_BLOCK):
            pass
        return raw.digest.hexdigest()


def inspect_text(path: Path, *, need_data: bool = True) -> TextFacts:
    """Stream the file once: readable, UTF-8, no NUL bytes, has data; hash it and count lines.
    `need_data=False` lets a part of a multi-part export hold a header only (empty partitions)."""
    name = str(path)
    fd, stamp = open_regular(path)
    os.close(fd)
    compression = compression_of(path)
    sha256 = _hash_whole(path, stamp) if compression == "zip" else None
    content, raw, member_name = content_of(path, compression, stamp, None)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines = size = 0
    head = b""
    first_line_end = -1
    has_data = last_byte_is_newline = False
    with content:
        while True:
            try:
                block = content.read(SCAN_BLOCK)
            except DecompressionFailed as exc:
                raise decompression_problem(name, compression, exc.cause, lines) from None
            except DECOMPRESSION_ERRORS as exc:  # the gzip header, read when the stream opens
                raise decompression_problem(name, compression, exc, lines) from None
            except OSError as exc:
                raise SourceError(f"{name}: read failed ({exc.strerror})") from None
            if not block:
                break
            if not head:
                head = block[:4096]
                if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise SourceError(f"{name}: is UTF-16 encoded; save it as UTF-8 (CSV UTF-8 in Excel)")
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines + block.count(b"\n", 0, nul) + 1
                raise SourceError(f"{name}: row {line} holds a NUL byte; this looks like a binary or UTF-16 file, "
                                  "not UTF-8 text")
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                line = lines + block.count(b"\n", 0, exc.start) + 1
                raise SourceError(f"{name}: row {line} is not valid UTF-8 (byte 0x{block[exc.start]:02x}); "
                                  "save the file as UTF-8") from None
            if first_line_end < 0:
                newline = block.find(b"\n")
                if newline >= 0:
                    first_line_end = size + newline
                    has_data = bool(block[newline + 1:].strip())
            elif not has_data:
                has_data = bool(block.strip())
            lines += block.count(b"\n")
            size += len(block)
            last_byte_is_newline = block.endswith(b"\n")
        if raw is not None:
            while raw.read(SCAN_BLOCK):  # bytes after the gzip stream still belong to the hash
                pass
            sha256 = raw.digest.hexdigest()
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise SourceError(f"{name}: ends in the middle of a UTF-8 character; save the file as UTF-8") from None
    if not head.lstrip(codecs.BOM_UTF8).strip():
        raise SourceError(f"{name}: is empty; export the audience again")
    if size and not last_byte_is_newline:
        lines += 1  # a last line without a newline
    assert sha256 is not None
    fmt = detect_format(member_name or (path.stem if compression else path.name), head)
    facts = TextFacts(path, fmt, compression, member_name, sha256, lines, None, stamp, True)
    if fmt == "jsonl":
        return facts
    header = _read_header(facts)
    if need_data and not has_data:
        raise SourceError(f"{name}: has a header row but no data rows; export the audience again")
    return TextFacts(path, fmt, compression, member_name, sha256, lines, header, stamp, has_data)


def _open_text(facts: TextFacts) -> io.TextIOWrapper:
    content, _, _ = content_of(facts.path, facts.compression, facts.stamp, facts.sha256)
    return io.TextIOWrapper(content, encoding="utf-8-sig", newline="", errors="strict")


def csv_reader(handle: Iterable[str], fmt: TextFormat) -> Any:
    csv.field_size_limit(PARSER_FIELD_CAP)
    if fmt == "tsv":  # TSV has no quoting: a quote character is data
        return csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, strict=True)
    return csv.reader(handle, delimiter=",", strict=True)


def _read_header(facts: TextFacts) -> tuple[str, ...]:
    with _open_text(facts) as handle:
        reader = csv_reader(handle, facts.format)
        try:
            for record in reader:
                if record:
                    return tuple(name.strip() for name in record)
        except csv.Error as exc:
            raise SourceError(f"{facts.path}: the header row {csv_problem(str(exc), reader.line_num, 1)}") from None
    raise SourceError(f"{facts.path}: has no header row")


def text_column_indexes(facts: TextFacts, columns: Sequence[str]) -> list[int] | None:
    """Where each mapped column is (SourceError for a missing or repeated one); None for JSON Lines."""
    return None if facts.header is None else resolve_columns(facts.path, facts.header, columns)


def jsonl_rows(facts: TextFacts, columns: Sequence[str]) -> Iterator[SourceRow]:
    nothing = [None] * len(columns)
    with _open_text(facts) as handle:
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


def csv_problem(error: str, line_now: int, start: int) -> str:
    if "unexpected end of data" in error or "EOF inside string" in error:
        return "has a quoted field that is never closed (it runs to the end of the file)"
    return f"cannot be parsed ({error}; lines {start}-{line_now})"
