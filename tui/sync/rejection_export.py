"""Export a run's rejection log to CSV, masked for operators with restricted PII access."""
from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from tui.settings.access import mask_identifier
from tui.settings.errors import SettingsError
from tui.sync.rejections import Rejection, RejectionFilter, RejectionLog


def shown_fields(rejection: Rejection, masked: bool) -> tuple[str, str]:
    """Identifier and message as an operator may see them (masking reaches into the message too)."""
    identifier, message = rejection.identifier or "", rejection.message or ""
    if masked and identifier:
        hidden = mask_identifier(identifier)
        message = message.replace(identifier, hidden)
        identifier = hidden
    return identifier, message


def export_csv(path: Path, log: RejectionLog, flt: RejectionFilter, *, masked: bool) -> int:
    """CSV written to a temporary file beside the target and moved into place: never half-written."""
    target = path.expanduser().resolve()
    if not target.parent.is_dir():
        raise SettingsError(f"cannot export to {path}: the folder {target.parent} does not exist")
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "reason", "http_status", "identifier", "message"])
            for rejection in log.iter_all(flt):
                identifier, message = shown_fields(rejection, masked)
                writer.writerow([rejection.row, rejection.reason, rejection.status or "", identifier, message])
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)  # it holds identifiers
        os.replace(temp, target)
    except BaseException:
        os.unlink(temp)
        raise
    return count
