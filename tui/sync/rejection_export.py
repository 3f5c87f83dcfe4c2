"""Export a run's rejection log to CSV, masked for operators with restricted PII access.

The file is safe to open in a spreadsheet: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return would be read as a formula there (OWASP's CSV injection advice), so it is written
with a single quote in front (`'+12125550001`, `'=HYPERLINK(...)`); a program reading the CSV sees
that quote. The export never replaces an existing file unless asked (`overwrite`, the CLI's
`--force`), never writes through a symbolic link at the target, and is written to a temporary file
beside the target and moved into place: a failure midway leaves no file, never half of one. It is
created 0600: it holds identifiers.
"""
from __future__ import annotations

import contextlib
import csv
import os
import stat
import tempfile
from pathlib import Path
from typing import TextIO

from tui.settings.access import mask_identifier
from tui.settings.errors import SettingsError
from tui.sync.rejections import Rejection, RejectionFilter, RejectionLog

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("row", "reason", "http_status", "identifier", "message")


class ExportRefused(SettingsError):
    """The export was not written (the target exists, is a link, or writing failed); nothing changed.
    The message names the file, `fix` says what to do."""

    def __init__(self, message: str, fix: str):
        self.fix = fix
        super().__init__(f"{message} ({fix})")


def shown_fields(rejection: Rejection, masked: bool) -> tuple[str, str]:
    """Identifier and message as an operator may see them (masking reaches into the message too)."""
    identifier, message = rejection.identifier or "", rejection.message or ""
    if masked and identifier:
        hidden = mask_identifier(identifier)
        message = message.replace(identifier, hidden)
        identifier = hidden
    return identifier, message


def spreadsheet_safe(cell: str) -> str:
    """The cell with a quote in front when a spreadsheet would take it for a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def export_csv(path: Path, log: RejectionLog, flt: RejectionFilter, *, masked: bool, overwrite: bool = False) -> int:
    """Every matching rejection into `path`; the number written. Raises ExportRefused."""
    target = Path(os.path.abspath(path.expanduser()))  # abspath, not resolve(): a link at the target stays a link
    _check_target(path, target, overwrite)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # created 0600
    except OSError as exc:
        raise ExportRefused(f"cannot write in {target.parent}: {exc.strerror}", "check the folder's permissions") from None
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            count = _write_rows(handle, log, flt, masked)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp, target)  # replaces a link itself, should one appear since the check
        else:
            os.link(temp, target)  # publishes the whole file, or fails if anything is there by now
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        raise ExportRefused(f"cannot write {path}: {exc.strerror}; no file was written",
                            "free some space or choose another folder") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return count


def _check_target(path: Path, target: Path, overwrite: bool) -> None:
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise ExportRefused(f"cannot export to {path}: the folder {target.parent} does not exist",
                                "create it or choose another folder") from None
        return
    if stat.S_ISLNK(mode):
        raise ExportRefused(f"{path} is a symbolic link; the export does not write through links",
                            "choose another file name, or remove the link")
    if not stat.S_ISREG(mode):
        raise ExportRefused(f"{path} exists and is not a regular file", "choose another file name")
    if not overwrite:
        raise _exists(path)


def _exists(path: Path) -> ExportRefused:
    return ExportRefused(f"{path} already exists; it was not replaced",
                         "choose another file name, or pass --force to replace it")


def _write_rows(handle: TextIO, log: RejectionLog, flt: RejectionFilter, masked: bool) -> int:
    writer = csv.writer(handle)
    writer.writerow(HEADER)
    count = 0
    for rejection in log.iter_all(flt):
        identifier, message = shown_fields(rejection, masked)
        writer.writerow([rejection.row, spreadsheet_safe(rejection.reason), rejection.status or "",
                         spreadsheet_safe(identifier), spreadsheet_safe(message)])
        count += 1
    return count
