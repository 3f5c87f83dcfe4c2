"""Compressed audience files: gzip streams and single-member zips, their failures named.

A gzip file is decompressed as it streams from the hashing reader, so its bytes on disk are what the
run's hash covers. A zip needs a seekable file: it is hashed in a pass of its own, and read through
a file checked against its stamp at every read, with the member's CRC-32 checked at its end.
"""
from __future__ import annotations

import gzip
import io
import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from tui.sync.source_files import FileStamp, SourceError, changed_error, open_regular

Compression = Literal["", "gzip", "zip"]
COMPRESSIONS: dict[str, Compression] = {".gz": "gzip", ".gzip": "gzip", ".zip": "zip"}
DECOMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile)


def compression_of(path: Path | PurePosixPath) -> Compression:
    return COMPRESSIONS.get(path.suffix.lower(), "")


def decompression_problem(name: str, compression: str, exc: BaseException, lines: int | None) -> SourceError:
    where = "while being read" if lines is None else f"after {lines:,} lines of text" if lines else "at its start"
    if isinstance(exc, EOFError):
        return SourceError(f"{name}: the {compression} data ends early ({where}): the file is truncated; "
                           "copy or export it again")
    if isinstance(exc, zipfile.BadZipFile) and "CRC" in str(exc):
        return SourceError(f"{name}: the zipped file fails its CRC check ({where}): it is damaged; export it again")
    return SourceError(f"{name}: is not valid {compression} data ({where}: {exc}); export it again")


class DecompressionFailed(SourceError):
    """Raised by Decompressed reads; inspect_text says how far the text got instead."""

    def __init__(self, name: str, compression: str, cause: BaseException):
        super().__init__(str(decompression_problem(name, compression, cause, None)))
        self.cause = cause


class Decompressed(io.RawIOBase):
    """Reads of a decompressing stream, its failures as SourceError naming the file."""

    def __init__(self, stream: IO[bytes] | io.BufferedIOBase, name: str, compression: Compression):
        self._stream, self._name, self._compression = stream, name, compression

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._stream.read(len(buffer))
        except DECOMPRESSION_ERRORS as exc:
            raise DecompressionFailed(self._name, self._compression, exc) from None
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def gunzipped(raw: IO[bytes], name: str, block: int) -> io.BufferedReader:
    return io.BufferedReader(Decompressed(gzip.GzipFile(fileobj=raw, mode="rb"), name, "gzip"), block)


class _StampedFile(io.FileIO):
    """A seekable file (zipfile needs one) checked against its stamp at every read."""

    def __init__(self, path: Path, stamp: FileStamp):
        fd, now = open_regular(path)
        super().__init__(fd, "rb")
        self._path, self._stamp = path, stamp
        if now != stamp:
            self.close()
            raise changed_error(str(path), stamp, now)

    def read(self, size: int | None = -1) -> bytes:
        now = FileStamp.of(os.fstat(self.fileno()))
        if now != self._stamp:
            raise changed_error(str(self._path), self._stamp, now)
        return super().read(size)


def _only_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")
               and not PurePosixPath(m.filename).name.startswith("._")]  # macOS adds these beside the file
    if not members:
        raise SourceError(f"{name}: the zip holds no file; export the audience again")
    if len(members) > 1:
        listed = ", ".join(m.filename for m in members[:5]) + (", ..." if len(members) > 5 else "")
        raise SourceError(f"{name}: the zip holds {len(members)} files ({listed}); a zip is read as one file: unzip "
                          "it and send the files as the parts of one export (send DESTINATION FOLDER)")
    member = members[0]
    if member.flag_bits & 0x1:
        raise SourceError(f"{name}: the zipped file {member.filename} is encrypted; unzip it and send the plain file")
    inner = PurePosixPath(member.filename)
    if compression_of(inner) or inner.suffix.lower() == ".parquet":
        raise SourceError(f"{name}: holds {member.filename}, which this tool reads only unzipped; unzip it first")
    return member


def unzipped(path: Path, stamp: FileStamp, block: int) -> tuple[io.BufferedReader, str]:
    """The one file inside the zip, decompressing as it is read, and its name."""
    handle = _StampedFile(path, stamp)
    try:
        archive = zipfile.ZipFile(handle)
        member = _only_member(archive, str(path))
        stream = archive.open(member)
    except zipfile.BadZipFile as exc:
        handle.close()
        raise SourceError(f"{path}: is not a valid zip file ({exc}); export it again, or rename it to its real "
                          "format") from None
    except BaseException:
        handle.close()
        raise
    return io.BufferedReader(Decompressed(stream, str(path), "zip"), block), member.filename
