"""Attentive's subscriber segment upload files, written from an audience source.

The format (ATTENTIVE.md, issue 14): a headerless CSV of ONE identifier kind (phones or emails, never
both), one identifier a line, at most 500,000 rows a file, named
`{client_domain}_subscriber_segment_{YYYYMMDD}_{n}.csv` with n from 1. The identifiers are the
destination's primary identifier column, normalised as profiles are (emails as email-validator does,
phones to E.164 in the destination's phone region); invalid ones are skipped and counted by row,
repeats (case-folded, as a send's duplicate_identifier) are dropped.

The segment name: the sources say only "a CSV ... plus a segment name". Until Attentive confirms how
the name travels, each CSV gets a companion `{same stem}.segment` text file holding the name (one
line, UTF-8); both are uploaded. ASSUMPTION, to confirm with Attentive (see the README).

Nothing half-written is ever left under a final name: every file is written to a hidden temporary
name in the folder, fsynced, and renamed only once ALL files of the set are complete; a failure
removes the temporaries. Files are 0600 (they hold identifiers). The day's set of names is refused
when any of it exists, unless `overwrite` (which also removes that day's higher-numbered files left
by a larger earlier set, so a stale file is never uploaded beside the new ones).
"""
from __future__ import annotations

import contextlib
import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tui.settings.access import mask_identifier
from tui.settings.model import Destination, SegmentFileMapping
from tui.sync import reasons
from tui.sync.profiles import identifier_key, normalized_identifier
from tui.sync.source_files import SourceRow
from tui.sync.sources import SourceReader, SourceSpec, inspect_source

ROWS_PER_FILE = 500_000     # Attentive's limit per file
INVALID_SHOWN = 20          # invalid rows kept with their reasons; the rest are counted
SEGMENT_SUFFIX = ".segment"


class SegmentFileError(Exception):
    """The files cannot be written; nothing was left under a final name. The message says what to do."""


@dataclass(frozen=True)
class InvalidRow:
    row: int
    reason: str             # a reasons.* code
    message: str            # the value masked


@dataclass(frozen=True)
class SegmentFile:
    path: Path              # the CSV
    rows: int
    segment_path: Path      # its companion holding the segment name


@dataclass(frozen=True)
class SegmentFiles:
    folder: Path
    segment: str
    identifier: str                     # "email" or "phone": the one kind in every file
    files: tuple[SegmentFile, ...]
    rows_read: int
    invalid: int
    invalid_rows: tuple[InvalidRow, ...]  # the first INVALID_SHOWN
    duplicates: int

    @property
    def rows(self) -> int:
        return sum(file.rows for file in self.files)


def segment_settings(destination: Destination) -> SegmentFileMapping:
    if destination.kind != "segment-file" or destination.segment_file is None:
        raise SegmentFileError(f"{destination.name} is not a segment-file destination (kind = {destination.kind!r}); "
                               'give it kind = "segment-file" and a [segment_file] table')
    return destination.segment_file


def file_stem(client_domain: str, today: datetime.date, n: int) -> str:
    return f"{client_domain}_subscriber_segment_{today:%Y%m%d}_{n}"


def day_pattern(client_domain: str, today: datetime.date) -> re.Pattern[str]:
    return re.compile(re.escape(f"{client_domain}_subscriber_segment_{today:%Y%m%d}_") + r"([1-9][0-9]*)\.csv\Z")


class _Identifiers:
    """One source row -> its normalised identifier, or why not."""

    def __init__(self, destination: Destination):
        self.kind = destination.primary_identifier
        self.region = destination.phone_region
        column = destination.identifiers.get(self.kind)
        if not column:
            raise SegmentFileError(f"{destination.name} maps no column to its primary identifier {self.kind}; "
                                   f'add {self.kind} = "<column>" under [destinations.{destination.name}.identifiers]')
        self.column = column

    def of(self, source: SourceRow) -> str | InvalidRow:
        row = source.row
        if source.problem is not None:
            return InvalidRow(row, reasons.MALFORMED_ROW, f"row {row} {source.problem}")
        raw = source.values[0]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return InvalidRow(row, reasons.MISSING_IDENTIFIER, f"{self.column!r} ({self.kind}) is empty")
        if isinstance(raw, (list, dict)):
            return InvalidRow(row, reasons.NON_SCALAR_VALUE, f"{self.column!r} holds a list or object, not an {self.kind}")
        text = (raw if isinstance(raw, str) else str(raw)).strip()
        value, reason, message = normalized_identifier(self.kind, self.column, text, self.region, shown=mask_identifier)
        return InvalidRow(row, reason, message) if reason is not None else value


class _Temporaries:
    """The set's files under hidden names until `publish` renames them all; `discard` removes them."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.paths: list[Path] = []

    def create(self, label: str) -> IO[str]:
        path = self.folder / f".{label}.{os.getpid()}.{len(self.paths)}.partial"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self.paths.append(path)
        os.fchmod(fd, 0o600)   # whatever the umask
        return os.fdopen(fd, "w", encoding="utf-8", newline="")

    @staticmethod
    def close(handle: IO[str]) -> None:
        with handle:
            handle.flush()
            os.fsync(handle.fileno())

    def discard(self) -> None:
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def write_segment_files(destination: Destination, source: SourceSpec, folder: Path, *, today: datetime.date,
                        rows_per_file: int = ROWS_PER_FILE, overwrite: bool = False) -> SegmentFiles:
    """Writes the day's segment files of `destination` from `source` into `folder`. Raises SourceError
    (the source cannot be read) or SegmentFileError; either way no file is left under a final name."""
    settings = segment_settings(destination)
    if not 1 <= rows_per_file <= ROWS_PER_FILE:
        raise SegmentFileError(f"rows per file must be from 1 to {ROWS_PER_FILE:,} (Attentive's limit), not {rows_per_file}")
    identifiers = _Identifiers(destination)
    reader = SourceReader(inspect_source(source), [identifiers.column])
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        raise SegmentFileError(f"cannot create the folder {folder}: {err.strerror}; choose another with --out") from None
    pattern = day_pattern(settings.client_domain, today)
    existing = sorted(p for p in folder.iterdir() if pattern.match(p.name))
    if existing and not overwrite:
        raise SegmentFileError(f"{folder} already holds today's segment files ({', '.join(p.name for p in existing[:3])}"
                               f"{', ...' if len(existing) > 3 else ''}); pass --overwrite to replace them, or --out "
                               "another folder")
    temporaries = _Temporaries(folder)
    try:
        counts, rows_read, invalid, shown, duplicates = _write_rows(reader, identifiers, temporaries, rows_per_file)
        if not counts:
            raise SegmentFileError(f"no valid {identifiers.kind} in the source ({rows_read:,} rows read, {invalid:,} "
                                   "invalid): nothing written; an empty file would empty the segment in Attentive")
        files = _publish(temporaries, folder, settings, today, counts, overwrite)
    except OSError as err:
        temporaries.discard()
        raise SegmentFileError(f"cannot write the segment files in {folder}: {err.strerror or err}; nothing was "
                               "written: free space or fix the folder's permissions, then run again") from None
    except BaseException:
        temporaries.discard()
        raise
    if overwrite:   # that day's files beyond this set are stale: never upload them beside it
        for path in existing:
            match = pattern.match(path.name)
            if match is not None and int(match.group(1)) > len(files):
                for stale in (path, path.with_suffix(SEGMENT_SUFFIX)):
                    with contextlib.suppress(FileNotFoundError):
                        stale.unlink()
    return SegmentFiles(folder, settings.segment, identifiers.kind, tuple(files), rows_read, invalid, tuple(shown),
                        duplicates)


def _write_rows(reader: SourceReader, identifiers: _Identifiers, temporaries: _Temporaries,
                rows_per_file: int) -> tuple[list[int], int, int, list[InvalidRow], int]:
    counts: list[int] = []
    seen: set[int] = set()
    rows_read = invalid = duplicates = 0
    shown: list[InvalidRow] = []
    handle: IO[str] | None = None
    try:
        for chunk in reader.chunks():
            for source in chunk:
                rows_read += 1
                value = identifiers.of(source)
                if isinstance(value, InvalidRow):
                    invalid += 1
                    if len(shown) < INVALID_SHOWN:
                        shown.append(value)
                    continue
                key = identifier_key(value)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                if handle is None or counts[-1] >= rows_per_file:
                    if handle is not None:
                        temporaries.close(handle)
                    handle = temporaries.create(f"part{len(counts) + 1}")
                    counts.append(0)
                handle.write(value + "\n")   # identifiers hold no comma, quote or line break: plain CSV
                counts[-1] += 1
        if handle is not None:
            temporaries.close(handle)
            handle = None
    finally:
        if handle is not None:
            handle.close()
    return counts, rows_read, invalid, shown, duplicates


def _publish(temporaries: _Temporaries, folder: Path, settings: SegmentFileMapping, today: datetime.date,
             counts: list[int], overwrite: bool) -> list[SegmentFile]:
    """Companions written, then every file renamed to its final name: the CSVs last, so a CSV never
    stands without its segment name."""
    names = [file_stem(settings.client_domain, today, n) for n in range(1, len(counts) + 1)]
    csvs = list(temporaries.paths)
    companions = []
    for n in range(len(counts)):
        handle = temporaries.create(f"segment{n + 1}")
        handle.write(settings.segment + "\n")
        temporaries.close(handle)
        companions.append(temporaries.paths[-1])
    moves = [(temp, folder / f"{name}{SEGMENT_SUFFIX}") for temp, name in zip(companions, names)]
    moves += [(temp, folder / f"{name}.csv") for temp, name in zip(csvs, names)]
    published: list[Path] = []
    try:
        for temp, final in moves:
            if overwrite:
                os.replace(temp, final)
            else:   # a link fails when the name exists (another process since the check): never replaced
                try:
                    os.link(temp, final)
                except FileExistsError:
                    raise SegmentFileError(f"{final} appeared while writing; pass --overwrite to replace it") from None
                os.unlink(temp)
            published.append(final)
    except BaseException:   # a part of the set is worse than none: it would replace the segment with part of it
        for final in published:
            with contextlib.suppress(FileNotFoundError):
                final.unlink()
        raise
    _fsync_dir(folder)
    return [SegmentFile(folder / f"{name}.csv", rows, folder / f"{name}{SEGMENT_SUFFIX}")
            for name, rows in zip(names, counts)]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
