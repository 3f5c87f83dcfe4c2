"""Event rows: one source row -> one custom event (`EventRecord`) or a rejection (`profiles.Invalid`
with a reason code). Pure: no network, no history; purchases (rows grouped into orders) are in
purchases.py, which shares the per-row parts here (`RowReader`).

- The user is the destination's primary identifier, normalised as for profiles (normalize_email,
  normalize_phone with the destination's region); an event's user has nothing else.
- occurredAt: an RFC 3339 value with its offset (Z, +HH:MM, or +HHMM as the eCommerce spec's example
  writes it) keeps that offset; a time without one ("2026-03-08T09:30:00", or with a space for the
  T, seconds optional, as exports write it) is read in the destination's time_zone and gets that
  zone's offset on that date (-05:00 or -04:00 for New York). A local time the zone skips (02:30 on a
  spring-forward night) is refused; one it repeats (01:30 on the autumn night) is the first of the
  two, zoneinfo's fold=0. Output is always RFC 3339 (`Z` or `+HH:MM`).
- The event key is each event_key column's value as text (trimmed; numbers in their shortest form,
  12.0 -> "12", so a CSV and a JSON Lines export of one event agree): the deterministic event id is
  built from it later. An empty one rejects the row: an event without a stable id could not be sent once.
- Properties: empty values are left out (never sent as ""), text is trimmed; lists and objects go as
  they are, except on a destination marked sms (Attentive supports them in email only). Keys of nested
  objects count towards Attentive's 200 and must avoid the characters property names cannot hold.
- Events over 12 hours old are still sent (Attentive records them) but trigger no journeys:
  `is_stale` tells the dry run and preview which to warn about.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from tui.attentive import events
from tui.settings.model import Destination, EventMapping
from tui.sync import reasons
from tui.sync.profiles import Invalid, normalized_identifier
from tui.sync.source_files import SourceRow

_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\Z")
_EXAMPLE = "write it like 2026-03-30T14:38:29Z or 2026-03-30T09:38:29-05:00"


class RowProblem(Exception):
    """Why a value rejects its row: a reason code and a message naming the column."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass(frozen=True, slots=True)
class EventRecord:
    row: int
    type: str
    properties: dict[str, Any]       # property name -> JSON value, constants included
    occurred_at: str                 # RFC 3339 with Z or +HH:MM
    identifier: str                  # the primary identifier, normalised
    kind: str                        # "email" or "phone": the key of `identifier` in `user`
    key: tuple[str, ...]             # the event_key columns' values, in their order

    def user(self) -> dict[str, str]:
        return {self.kind: self.identifier}


def is_stale(occurred_at: dt.datetime | str, now: dt.datetime) -> bool:
    """Whether an event that happened at `occurred_at` (aware, or RFC 3339 text) is over 12 hours
    old at `now` (aware): Attentive records it but it triggers no journeys. A warning, never a rejection."""
    moment = occurred_at if isinstance(occurred_at, dt.datetime) else events.parse_occurred_at(occurred_at, basic_offset=True)
    return now - moment > events.NO_JOURNEYS_AFTER


def text_value(value: Any, column: str) -> str | None:
    """A scalar as the text an id is made of, trimmed; None when empty. RowProblem for a list or object."""
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        raise RowProblem(reasons.NON_SCALAR_VALUE, f"{column!r} holds a {_kind_of(value)}, not a single value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = (value if isinstance(value, str) else str(value)).strip()
    return text or None


def occurred_at(value: Any, column: str, zone: zoneinfo.ZoneInfo | None) -> dt.datetime:
    """The aware time a source value names (see the module's notes), or RowProblem."""
    if isinstance(value, (list, dict, bool, int, float)):
        raise RowProblem(reasons.TIMESTAMP_INVALID, f"{column!r} holds {_shown(value)}, not a timestamp; {_EXAMPLE}")
    text = text_value(value, column)
    if text is None:
        raise RowProblem(reasons.TIMESTAMP_INVALID, f"{column!r} (occurred_at) is empty; {_EXAMPLE}")
    if len(text) > 10 and text[10] == " ":
        text = f"{text[:10]}T{text[11:]}"   # "2026-03-08 09:30:00", as databases export it
    if _LOCAL.match(text):
        if zone is None:
            raise RowProblem(reasons.TIMESTAMP_NO_OFFSET,
                             f"{column!r} = {text[:40]!r} has no UTC offset and the destination names no time_zone; "
                             "add time_zone = \"America/New_York\" (the zone the times are in) to its [event] table, "
                             "or export the times with their offset")
        return _localised(text, column, zone)
    try:
        return events.parse_occurred_at(text, basic_offset=True)
    except events.TimestampError as err:
        raise RowProblem(reasons.TIMESTAMP_INVALID, f"{column!r}: {err}") from None


def _localised(text: str, column: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    whole, dot, fraction = text.partition(".")
    try:  # fromisoformat reads at most microseconds: a longer fraction is cut, as parse_occurred_at does
        naive = dt.datetime.fromisoformat(whole + (dot + fraction[:6] if dot else ""))
    except ValueError:
        raise RowProblem(reasons.TIMESTAMP_INVALID, f"{column!r} = {text[:40]!r} is not a real date and time") from None
    local = naive.replace(tzinfo=zone)
    if local.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:
        raise RowProblem(reasons.TIMESTAMP_INVALID,
                         f"{column!r} = {text[:40]!r} does not exist in {zone.key}: the clocks skip that hour "
                         "(daylight saving time starts); check the export's time zone")
    return local


def rfc3339(moment: dt.datetime, column: str) -> str:
    try:
        return events.format_occurred_at(moment)
    except events.TimestampError as err:
        raise RowProblem(reasons.TIMESTAMP_INVALID, f"{column!r}: {err}") from None


class ColumnReader:
    """The source columns a kind reads, in the order the rows' values come (`column` adds one), and
    the user: the destination's primary identifier, normalised as for profiles."""

    def __init__(self, destination: Destination):
        self.destination = destination
        self.kind = destination.primary_identifier
        primary = destination.identifiers.get(self.kind)
        if not primary:
            raise ValueError(f"destination {destination.name!r} maps no column to its primary identifier {self.kind!r}")
        self.primary_column = primary
        self._columns: list[str] = []
        self._primary = self.column(primary)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._columns)

    def column(self, name: str) -> int:
        """The index of `name` among the values, added to `columns` when new."""
        if name not in self._columns:
            self._columns.append(name)
        return self._columns.index(name)

    def identifier(self, source: SourceRow) -> str:
        raw = source.values[self._primary]
        if isinstance(raw, (list, dict)):
            raise RowProblem(reasons.NON_SCALAR_VALUE, f"{self.primary_column!r} holds a {_kind_of(raw)}, not an {self.kind}")
        text = text_value(raw, self.primary_column)
        if text is None:
            raise RowProblem(reasons.MISSING_IDENTIFIER, f"{self.primary_column!r} ({self.kind}) is empty")
        value, reason, message = normalized_identifier(self.kind, self.primary_column, text, self.destination.phone_region)
        if reason is not None:
            raise RowProblem(reason, message)
        return value


class RowReader(ColumnReader):
    """The parts every event row has: the user, occurredAt and the event key. Kinds add their
    columns with `column`."""

    def __init__(self, destination: Destination, kind: str):
        if destination.kind != kind or destination.event is None:
            raise ValueError(f"destination {destination.name!r} is not a {kind} destination")
        super().__init__(destination)
        self.event: EventMapping = destination.event
        self.zone = zoneinfo.ZoneInfo(self.event.time_zone) if self.event.time_zone else None
        self._occurred = self.column(self.event.occurred_at)

    def occurred(self, source: SourceRow) -> tuple[dt.datetime, str]:
        column = self.event.occurred_at
        moment = occurred_at(source.values[self._occurred], column, self.zone)
        return moment, rfc3339(moment, column)

    def key(self, source: SourceRow, columns: tuple[str, ...]) -> tuple[str, ...]:
        values = []
        for column in columns:
            text = text_value(source.values[self.column(column)], column)
            if text is None:
                raise RowProblem(reasons.MISSING_EVENT_KEY,
                                 f"{column!r} (event_key) is empty; each event needs its key columns to be sent once")
            values.append(text)
        return tuple(values)


class CustomEventBuilder:
    """Builds the custom events of one destination (kind "custom-event") from its rows."""

    def __init__(self, destination: Destination):
        self.reader = reader = RowReader(destination, "custom-event")
        event = reader.event
        self._type = reader.column(event.type_column) if event.type_column else None
        for column in event.event_key:
            reader.column(column)
        self._properties = [(name, reader.column(column)) for name, column in destination.attributes.items()]
        self.constants: dict[str, Any] = dict(destination.constants)
        self.sms = event.sms

    @property
    def columns(self) -> tuple[str, ...]:
        return self.reader.columns

    def build(self, source: SourceRow) -> EventRecord | Invalid:
        row = source.row
        if source.problem is not None:
            return Invalid(row, reasons.MALFORMED_ROW, f"row {row} {source.problem}")
        identifier: str | None = None
        try:
            identifier = self.reader.identifier(source)
            event_type = self._event_type(source)
            _, stamp = self.reader.occurred(source)
            key = self.reader.key(source, self.reader.event.event_key)
            properties = self._properties_of(source)
        except RowProblem as problem:
            return Invalid(row, problem.reason, problem.message, identifier)
        return EventRecord(row, event_type, properties, stamp, identifier, self.reader.kind, key)

    def _event_type(self, source: SourceRow) -> str:
        event = self.reader.event
        if self._type is None:
            return event.type or ""
        column = event.type_column or ""
        raw = source.values[self._type]
        if isinstance(raw, (list, dict)):
            raise RowProblem(reasons.EVENT_TYPE_INVALID, f"{column!r} (the event type) holds a {_kind_of(raw)}")
        text = text_value(raw, column)
        if text is None:
            raise RowProblem(reasons.EVENT_TYPE_INVALID, f"{column!r} (the event type) is empty")
        bad = events.forbidden_characters(text, events.TYPE_FORBIDDEN)
        if bad:
            raise RowProblem(reasons.EVENT_TYPE_INVALID,
                             f"{column!r} (the event type) = {text[:60]!r} contains {bad}, which Attentive refuses in a type")
        return text

    def _properties_of(self, source: SourceRow) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        count = 0
        for name, index in self._properties:
            value = source.values[index]
            column = self.reader.columns[index]
            if isinstance(value, str):
                value = value.strip()
            if value is None or value == "":
                continue
            if isinstance(value, (list, dict)):
                if self.sms:
                    raise RowProblem(reasons.SMS_NESTED_PROPERTY,
                                     f"{column!r} (property {name!r}) holds a {_kind_of(value)}; this destination is "
                                     "marked sms, and Attentive supports lists and objects in email messages only")
                count += _nested_keys(value, column)
            properties[name] = value
        properties.update(self.constants)
        count += len(properties)
        if count > events.PROPERTIES_USABLE_MAX:
            raise RowProblem(reasons.TOO_MANY_PROPERTIES,
                             f"the event has {count} property keys (nested ones counted); Attentive makes at most "
                             f"{events.PROPERTIES_USABLE_MAX} usable in journeys")
        return properties


def _nested_keys(value: Any, column: str) -> int:
    """The keys of every object inside `value`; RowProblem for one Attentive refuses."""
    if isinstance(value, list):
        return sum(_nested_keys(item, column) for item in value)
    if not isinstance(value, dict):
        return 0
    count = 0
    for key, inner in value.items():
        bad = events.forbidden_characters(str(key), events.PROPERTY_KEY_FORBIDDEN)
        if bad:
            raise RowProblem(reasons.PROPERTY_NAME_INVALID,
                             f"{column!r} holds an object key {str(key)[:60]!r} with {bad}, which Attentive refuses "
                             "in property names")
        count += 1 + _nested_keys(inner, column)
    return count


def _kind_of(value: Any) -> str:
    return "list" if isinstance(value, list) else "nested object"


def _shown(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return f"a {_kind_of(value)}"
    return "true/false" if isinstance(value, bool) else f"the number {value!r}"
