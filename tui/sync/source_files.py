"""What every audience-file reader shares: the error a bad file raises, the stamp a file is checked
against while it is read, the rows a reader yields (one by one or as chunks), and opening a file
without waiting on a FIFO."""
from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK_ROWS = 256  # rows a planner takes at a time: 256 built rows hold the event loop about 9 ms
ChunkRows = Callable[[], int]  # how many rows the next chunk is to hold, asked as each is cut


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


@dataclass(slots=True)
class SourceRow:
    row: int                  # where the record starts (see sources.py for the numbering)
    values: list[Any]         # one per requested column, None when absent
    problem: str | None = None  # set when the record itself is malformed; values are then empty


@dataclass(slots=True)
class SourceChunk:
    """Consecutive rows of one part. A delimited text part hands its plain records over as their bytes,
    parsed only when asked (`row`): a planner that knows a record unchanged by its digest never parses
    it. Parquet and JSON Lines rows come parsed, with no records."""
    numbers: list[int]                   # each row's number
    parsed: list[SourceRow | None]       # the row, or None while its record is not parsed yet
    records: list[bytes] | None = None   # each row's record as the file holds it
    salt: bytes = b""                    # what the records' bytes mean besides themselves (format, header)
    parse: Callable[[int, bytes], SourceRow] | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    def row(self, index: int) -> SourceRow:
        found = self.parsed[index]
        if found is None:
            assert self.parse is not None and self.records is not None
            found = self.parsed[index] = self.parse(self.numbers[index], self.records[index])
        return found

    def rows(self) -> list[SourceRow]:
        return [self.row(index) for index in range(len(self.numbers))]


def parsed_chunks(rows: Iterable[SourceRow], size: ChunkRows, offset: int) -> Iterator[SourceChunk]:
    """Rows read one by one (Parquet, JSON Lines), numbered from `offset` on, in chunks of `size()`."""
    chunk: list[SourceRow | None] = []
    numbers: list[int] = []
    wanted = size()
    for row in rows:
        row.row += offset
        chunk.append(row)
        numbers.append(row.row)
        if len(chunk) >= wanted:
            yield SourceChunk(numbers, chunk)
            chunk, numbers, wanted = [], [], size()
    if chunk:
        yield SourceChunk(numbers, chunk)


def open_regular(path: Path) -> tuple[int, FileStamp]:
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
                      f"first (e.g. cat {name} > audience.csv) and send that, or pipe it into `send DESTINATION -`")


def changed_error(name: str, stamp: FileStamp, now: FileStamp) -> SourceError:
    sizes = f"{stamp.size:,} bytes when checked, {now.size:,} now" if now.size != stamp.size else "same size"
    return SourceError(f"{name}: was written to while being read ({sizes}); wait until whatever writes it "
                       "has finished, then send it again (as a new send: a resume needs the file it started with)")


def missing_column_message(path: Path, header: Sequence[str], column: str, *, within: str = "the header",
                           lists: str = "row 1 has") -> str:
    shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
    message = f"{path}: mapped column {column!r} is not in {within} ({lists}: {shown})"
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


def resolve_columns(path: Path, header: Sequence[str], columns: Sequence[str]) -> list[int]:
    """Each mapped column's index in the header; a missing or repeated one is a SourceError."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name, []).append(index)
    indexes = []
    for column in columns:
        found = positions.get(column)
        if not found:
            raise SourceError(missing_column_message(path, header, column))
        if len(found) > 1:
            numbers = ", ".join(str(i + 1) for i in found)
            raise SourceError(
                f"{path}: column {column!r} appears {len(found)} times in the header (columns {numbers}); "
                "rename the duplicates so the mapping is unambiguous"
            )
        indexes.append(found[0])
    return indexes
