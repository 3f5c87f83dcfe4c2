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
    SourceChunk,
    SourceError,
    SourceRow,
    changed_error,
    open_regular,
    parsed_chunks,
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


def _content(path: Path, compression: Compression, stamp: FileStamp,
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
    content, raw, member_name = _content(path, compression, stamp, None)
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
    content, _, _ = _content(facts.path, facts.compression, facts.stamp, facts.sha256)
    return io.TextIOWrapper(content, encoding="utf-8-sig", newline="", errors="strict")


def _reader(handle: Iterable[str], fmt: TextFormat) -> Any:
    csv.field_size_limit(PARSER_FIELD_CAP)
    if fmt == "tsv":  # TSV has no quoting: a quote character is data
        return csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, strict=True)
    return csv.reader(handle, delimiter=",", strict=True)


def _read_header(facts: TextFacts) -> tuple[str, ...]:
    with _open_text(facts) as handle:
        reader = _reader(handle, facts.format)
        try:
            for record in reader:
                if record:
                    return tuple(name.strip() for name in record)
        except csv.Error as exc:
            raise SourceError(f"{facts.path}: the header row {_csv_problem(str(exc), reader.line_num, 1)}") from None
    raise SourceError(f"{facts.path}: has no header row")


def text_column_indexes(facts: TextFacts, columns: Sequence[str]) -> list[int] | None:
    """Where each mapped column is (SourceError for a missing or repeated one); None for JSON Lines."""
    return None if facts.header is None else resolve_columns(facts.path, facts.header, columns)


def text_chunks(facts: TextFacts, columns: Sequence[str], size: int, offset: int = 0) -> Iterator[SourceChunk]:
    """The part's rows in chunks of `size`, numbered from `offset` on."""
    indexes = text_column_indexes(facts, columns)
    if indexes is not None:
        return _DelimitedChunks(facts, indexes, offset).chunks(size)
    return parsed_chunks(_jsonl_rows(facts, columns), size, offset)


# Raise when what a record's bytes parse to changes (the splitting of plain records, the limits): a record
# digest keyed by an older version then matches nothing, and its rows are built and compared anew.
RECORD_RULES = "1"


class _DelimitedChunks:
    """CSV and TSV records as the csv module reads them, without it for plain records: a line with no
    quote (any line of TSV, which has no quoting) and no carriage return but its CRLF end is split on
    the delimiter when a planner asks for it, which is what csv.reader makes of it. A block of the file
    made of such lines only (the common case) is taken whole, with no bytecode per line. Any other
    record (quoted fields, fields across lines, a lone CR, blank lines) goes through one csv.reader,
    fed the same physical lines a text stream with newline="" gives it, so rows, numbers and problems
    are the csv module's."""

    def __init__(self, facts: TextFacts, indexes: list[int], offset: int):
        self.facts = facts
        self.indexes = indexes
        self.offset = offset
        self.width = len(facts.header or ())
        self.nothing: list[Any] = [None] * len(indexes)
        self.delimiter = "\t" if facts.format == "tsv" else ","
        self.quote = b'"' if facts.format == "csv" else b""
        self.salt = hashlib.blake2b(repr((RECORD_RULES, facts.format, facts.header)).encode(), digest_size=16).digest()
        self._content: IO[bytes] | None = None
        self._carry = b""          # the start of a line the last block cut
        self._lines: list[bytes] = []  # physical lines read and not yet handled, reversed (pop takes the next)
        self._line_number = 0      # of the last physical line handled
        self._taken: list[bytes] = []  # the physical lines the csv reader took for its last record
        self._pushed: bytes | None = None  # the line the csv reader is to read next
        self.numbers: list[int] = []
        self.parsed: list[SourceRow | None] = []
        self.records: list[bytes] = []

    def chunks(self, size: int) -> Iterator[SourceChunk]:
        content, _, _ = _content(self.facts.path, self.facts.compression, self.facts.stamp, self.facts.sha256)
        with content:
            self._content = content
            reader = _reader(self._feed(), self.facts.format)
            header_seen = False
            while True:
                if not self._lines:
                    block = self._block()
                    if block is None:
                        break
                    lines = block.splitlines(keepends=True)
                    if header_seen and self._plain(block, lines):
                        self._take_plain(lines)
                    else:
                        self._lines = lines[::-1]
                else:
                    line = self._lines.pop()
                    if not self._line_number:
                        line = line.removeprefix(codecs.BOM_UTF8)
                    if header_seen and self._plain(line, [line]):
                        self._take_plain([line])
                    else:
                        self._line_number += 1
                        start = self._line_number
                        row = self._through_csv(reader, line, start)
                        if row is not None:
                            if header_seen:
                                self.numbers.append(row.row)
                                self.parsed.append(row)
                                self.records.append(b"".join(self._taken))
                            header_seen = True
                while len(self.numbers) >= size:
                    yield self._cut(size)
            if self.numbers:
                yield self._cut(len(self.numbers))

    def _block(self) -> bytes | None:
        """The next whole lines of the file (up to its end), None at its end."""
        assert self._content is not None
        while True:
            data = self._content.read(SCAN_BLOCK)
            if not data:
                block, self._carry = self._carry, b""
                return block or None
            data = self._carry + data
            cut = data.rfind(b"\n") + 1
            if cut:
                self._carry = data[cut:]
                return data[:cut]
            self._carry = data

    def _plain(self, text: bytes, lines: list[bytes]) -> bool:
        """Whether every line of `text` (its `lines`) is a plain record: no quote (CSV), no CR but in a CRLF
        end, no line of white space only."""
        if self.quote and self.quote in text:
            return False
        if b"\r" in text and text.count(b"\r") != text.count(b"\r\n"):
            return False
        return not any(map(bytes.isspace, lines))

    def _take_plain(self, lines: list[bytes]) -> None:
        first = self._line_number + 1 + self.offset
        self._line_number += len(lines)
        self.numbers.extend(range(first, first + len(lines)))
        self.parsed.extend([None] * len(lines))
        self.records.extend(lines)

    def _cut(self, size: int) -> SourceChunk:
        chunk = SourceChunk(self.numbers[:size], self.parsed[:size], self.records[:size], self.salt, self._parse)
        del self.numbers[:size], self.parsed[:size], self.records[:size]
        return chunk

    def _feed(self) -> Iterator[str]:
        """The csv reader's input: the line handed to it, then as many more as its record needs."""
        while True:
            if self._pushed is not None:
                line, self._pushed = self._pushed, None
            else:
                if not self._lines:
                    block = self._block()
                    if block is None:
                        return
                    self._lines = block.splitlines(keepends=True)[::-1]
                line = self._lines.pop()
                self._line_number += 1
            self._taken.append(line)
            yield line.decode()

    def _through_csv(self, reader: Any, line: bytes, start: int) -> SourceRow | None:
        """The record starting with `line` (line `start`) as csv.reader reads it; None for a blank line."""
        self._pushed, self._taken = line, []
        try:
            record = next(reader, None)
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):  # PARSER_FIELD_CAP: lines after it are not records
                raise SourceError(
                    f"{self.facts.path}: row {start} has a field running past {PARSER_FIELD_CAP:,} characters "
                    "(a quote that is never closed?); the rest of the file cannot be read: fix it and send "
                    "it again") from None
            return SourceRow(start + self.offset, self.nothing, _csv_problem(str(exc), self._line_number, start))
        if not record or len(record) == 1 and len(record) != self.width and not record[0].strip():
            return None  # an empty line, or a line of spaces
        return self._checked(start + self.offset, record)

    def _parse(self, number: int, record: bytes) -> SourceRow:
        return self._checked(number, record.decode().rstrip("\r\n").split(self.delimiter))

    def _checked(self, number: int, record: list[str]) -> SourceRow:
        if len(record) != self.width:
            return SourceRow(number, self.nothing, f"has {len(record)} fields, the header has {self.width}")
        # The join is the cheap test (a long field makes a long record); max only for those.
        if len("".join(record)) > FIELD_LIMIT and max(map(len, record)) > FIELD_LIMIT:
            return SourceRow(number, self.nothing, f"has a field longer than {FIELD_LIMIT:,} characters")
        return SourceRow(number, [record[i] for i in self.indexes])


def _jsonl_rows(facts: TextFacts, columns: Sequence[str]) -> Iterator[SourceRow]:
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


def _csv_problem(error: str, line_now: int, start: int) -> str:
    if "unexpected end of data" in error or "EOF inside string" in error:
        return "has a quoted field that is never closed (it runs to the end of the file)"
    return f"cannot be parsed ({error}; lines {start}-{line_now})"
