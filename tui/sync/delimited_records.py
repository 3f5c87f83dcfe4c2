"""A CSV or TSV part's records, chunk by chunk, parsed only when a planner asks (text_source.py reads
the part's facts, its header and its JSON Lines counterpart).

Row numbers, values and problems are the csv module's over a newline="" text stream, as the reader
gave them before it took plain records itself; tests/sync/test_plain_records.py compares the two.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from typing import IO, Any

from tui.sync.source_files import ChunkRows, SourceChunk, SourceError, SourceRow
from tui.sync.text_source import FIELD_LIMIT, PARSER_FIELD_CAP, TextFacts, content_of, csv_problem, csv_reader

READ_BLOCK = 1 << 20


# Raise when what a record's bytes parse to changes (the splitting of plain records, the limits): a record
# digest keyed by an older version then matches nothing, and its rows are built and compared anew.
RECORD_RULES = "1"


class DelimitedChunks:
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

    def chunks(self, size: ChunkRows) -> Iterator[SourceChunk]:
        content, _, _ = content_of(self.facts.path, self.facts.compression, self.facts.stamp, self.facts.sha256)
        with content:
            self._content = content
            reader = csv_reader(self._feed(), self.facts.format)
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
                while len(self.numbers) >= (wanted := size()):
                    yield self._cut(wanted)
            if self.numbers:
                yield self._cut(len(self.numbers))

    def _block(self) -> bytes | None:
        """The next whole lines of the file (up to its end), None at its end."""
        assert self._content is not None
        while True:
            data = self._content.read(READ_BLOCK)
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
            return SourceRow(start + self.offset, self.nothing, csv_problem(str(exc), self._line_number, start))
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


def delimited_chunks(facts: TextFacts, indexes: list[int], size: ChunkRows, offset: int) -> Iterator[SourceChunk]:
    """The part's rows (the mapped columns at `indexes`) in chunks of `size()`, numbered from `offset` on."""
    return DelimitedChunks(facts, indexes, offset).chunks(size)
