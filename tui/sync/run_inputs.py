"""What a run was given besides its destination, as its record keeps it: its source (one file, or
its parts) and its `--set` constants. A resume, a retry, a read-back and a rejection's detail read
them from here, so each rebuilds the rows as the run built them."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from tui.settings.model import Destination
from tui.sync.history import RunRecord
from tui.sync.sources import SourceSpec


def run_source(run: RunRecord) -> SourceSpec:
    """Its parts when it had several (a list, even of one), else its file."""
    if run.source_parts is None:
        return Path(run.source_path)
    return [Path(p) for p in json.loads(run.source_parts)]


def run_constants(run: RunRecord) -> dict[str, str]:
    return json.loads(run.send_constants) if run.send_constants else {}


def run_destination(destination: Destination, run: RunRecord) -> Destination:
    """The destination as the run sent it: with its `--set` constants on top of the configured ones."""
    constants = run_constants(run)
    if not constants:
        return destination
    return dataclasses.replace(destination, constants={**destination.constants, **constants})
