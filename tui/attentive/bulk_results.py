"""Tolerant parser of a bulk job's .jsonl results file.

Attentive does not document the line format, so this reads what it can and keeps what it cannot.
Our simulator writes `{"request": <user item>, "response": {"status": 200, "message": "..."}}`; the
parser also accepts `statusCode` for `status`, identifiers under `request.identifiers` (v2) or
`request.user` (v1 style), and numbers sent as strings. A line that cannot be read (not JSON, not an
object, no readable status) is kept raw in `unparsed`, so no outcome is invented. A readable line that
names no identifier is still a record, with identifier None: the caller keeps it raw as unmatched.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
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
    line_no: int                  # 1-based line in the results file


@dataclass(frozen=True)
class UnreadLine:
    """A results line kept as written because no outcome could be read from it."""

    line_no: int                  # 1-based line in the results file
    text: str


@dataclass(frozen=True)
class BulkResults:
    records: list[BulkRecord] = field(default_factory=list)
    unparsed: list[UnreadLine] = field(default_factory=list)
    # Set by the client when the file could not be downloaded (the download's own outcome).
    failure: Outcome | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def parse_bytes(data: bytes) -> BulkResults:
    # An undecodable byte costs one character of one line, not the whole file.
    return parse_text(data.decode("utf-8", errors="replace"))


def parse_text(text: str) -> BulkResults:
    """Read a results file. Lines end at "\n" only: str.splitlines() also breaks on U+2028, U+0085,
    \x0c and others that JSON allows raw inside strings, which would cut a profile's line in two."""
    records: list[BulkRecord] = []
    unparsed: list[UnreadLine] = []
    for line_no, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")  # raw as written, for the rejection log
        if line_no == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        record = parse_line(line, line_no)
        if record is None:
            unparsed.append(UnreadLine(line_no, line))
        else:
            records.append(record)
    return BulkResults(records=records, unparsed=unparsed)


def parse_line(text: str, line_no: int) -> BulkRecord | None:
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
        line_no=line_no,
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
