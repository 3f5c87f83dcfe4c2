"""Tolerant parser of a bulk job's .jsonl results file.

Attentive does not document the line format, so this reads what it can and keeps what it cannot.
Our simulator writes `{"request": <user item>, "response": {"status": 200, "message": "..."}}`; the
parser also accepts `statusCode` for `status`, identifiers under `request.identifiers` (v2) or
`request.user` (v1 style), and numbers sent as strings. A line without a readable status is kept raw
in `unparsed`, so no outcome is invented.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tui.attentive.outcomes import Outcome

IDENTIFIER_KINDS = ("email", "phone")


@dataclass(frozen=True)
class BulkRecord:
    """One profile's outcome in a bulk job."""

    identifier_kind: str | None   # "email" | "phone"; None when the line names neither
    identifier: str | None
    ok: bool
    status: int
    message: str
    raw: str                      # the line as read, for the rejection log


@dataclass(frozen=True)
class BulkResults:
    records: list[BulkRecord] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    # Set by the client when the file could not be downloaded (the download's own outcome).
    failure: Outcome | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def parse_lines(lines: Iterable[str]) -> BulkResults:
    records: list[BulkRecord] = []
    unparsed: list[str] = []
    for line in lines:
        text = line.rstrip("\r\n").lstrip("\ufeff")  # raw as written, for the rejection log
        if not text.strip():
            continue
        record = parse_line(text)
        if record is None:
            unparsed.append(text)
        else:
            records.append(record)
    return BulkResults(records=records, unparsed=unparsed)


def parse_text(text: str) -> BulkResults:
    return parse_lines(text.splitlines())


def parse_line(text: str) -> BulkRecord | None:
    """One record, or None when the line has no status we can read."""
    try:
        line = json.loads(text)
    except ValueError:
        return None
    if not isinstance(line, Mapping):
        return None
    response = line.get("response")
    response = response if isinstance(response, Mapping) else {}
    status = _status(response)
    if status is None:
        status = _status(line)
    if status is None:
        return None
    kind, value = _identifier(line.get("request"))
    if kind is None:
        kind, value = _identifier(line)
    return BulkRecord(
        identifier_kind=kind,
        identifier=value,
        ok=200 <= status < 300,
        status=status,
        message=_message(response) or _message(line) or _text_response(line),
        raw=text,
    )


def _status(container: Mapping[str, Any]) -> int | None:
    for key in ("status", "statusCode", "status_code"):
        value = container.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return None


def _identifier(request: Any) -> tuple[str | None, str | None]:
    if not isinstance(request, Mapping):
        return None, None
    for container in (request.get("identifiers"), request.get("user"), request):
        if not isinstance(container, Mapping):
            continue
        for kind in IDENTIFIER_KINDS:
            value = container.get(kind)
            if isinstance(value, str) and value:
                return kind, value
    return None, None


def _message(container: Mapping[str, Any]) -> str:
    for key in ("message", "error", "errorMessage", "detail"):
        value = container.get(key)
        if isinstance(value, str) and value:
            return value
        if value not in (None, "", [], {}):
            return json.dumps(value, ensure_ascii=False)
    return ""


def _text_response(line: Mapping[str, Any]) -> str:
    response = line.get("response")
    return response if isinstance(response, str) else ""
