"""`send DESTINATION -`: standard input copied to a file in the data directory before the send
reads it, because a send reads its source more than once (hash, rows, and later a resume, a
read-back or a rejection's detail). The copy is written under a temporary name and renamed when
complete (a killed copy never passes for an audience), private (0600: it holds identifiers), and
named for its kind (gzip, zip, Parquet by their magic bytes; text is recognised by its content)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import BinaryIO

from tui.settings.atomic import create_private_file
from tui.sync.source_files import SourceError

BLOCK = 1 << 20
_MAGIC = ((b"\x1f\x8b", ".gz"), (b"PK\x03\x04", ".zip"), (b"PAR1", ".parquet"))


def spool_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "spool"


def spool_name(data_dir: Path, kind: str, extension: str) -> Path:
    """A new name in data_dir/spool/: <kind>-<time>-<pid>-<n><extension> (the pid keeps other
    processes off it; n, this process's earlier spools of the same second)."""
    folder = spool_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    return next(path for n in range(1, 100_000) if not (path := folder / f"{stem}-{n}{extension}").exists())


def spool(stream: BinaryIO, data_dir: Path, *, is_terminal: bool = False) -> Path:
    """Copy `stream` to data_dir/spool/stdin-<time>-<pid>-<n><ext> and return that file."""
    if is_terminal:
        raise SourceError("-: standard input is a terminal; pipe the audience in (e.g. zcat a.csv.gz | "
                          "attentive-console send DESTINATION -)")
    head = stream.read(BLOCK)
    if not head:
        raise SourceError("-: standard input is empty; pipe the audience in")
    extension = next((ext for magic, ext in _MAGIC if head.startswith(magic)), "")
    final = spool_name(data_dir, "stdin", extension)
    folder = final.parent
    partial = folder / f".{final.name}.partial"
    create_private_file(partial)
    try:
        with open(partial, "wb") as out:
            block = head
            while block:
                out.write(block)
                block = stream.read(BLOCK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SourceError(f"-: cannot copy standard input to {folder} ({exc.strerror}); free some space or "
                          "send a file instead") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final
