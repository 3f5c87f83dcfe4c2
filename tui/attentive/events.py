"""Attentive's rules for events that a JSON schema cannot say, shared by the payload builders, the
simulator and (later) the sender's per-row checks, so all three refuse the same things.

From the v1 spec's CustomEventsRequest and PurchaseRequest texts: a custom event's `type` must not
contain " ' ( ) { } [ ] \\ | , and its property keys not " { } [ ] \\ |; occurredAt is RFC 3339 with
a UTC offset (the eCommerce texts say "ISO 8601" and give 2021-03-30T14:38:29+0000 as their example,
so that offset form is read there too); a price's currency is ISO 4217.
"""
from __future__ import annotations

import datetime as dt
import re

TYPE_FORBIDDEN = frozenset("\"'(){}[]\\|,")
PROPERTY_KEY_FORBIDDEN = frozenset('"{}[]\\|')
SALES_CHANNELS = ("WEB", "IOS_APP", "ANDROID_APP", "IN_STORE", "PHONE", "OTHER")
PROPERTIES_USABLE_MAX = 200  # more are saved, but "not all keys will be available for use in Journeys"
NO_JOURNEYS_AFTER = dt.timedelta(hours=12)  # older events are recorded but "will not trigger any relevant Journeys"

_STAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?P<offset>[Zz]|[+-]\d{2}:\d{2}|(?P<basic>[+-]\d{4}))?$"
)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class TimestampError(ValueError):
    """An occurredAt Attentive would not read; the message says what is wrong and how to write it."""


def forbidden_characters(text: str, forbidden: frozenset[str]) -> str:
    """The forbidden characters in `text`, each once, in the order they first appear ("" if none)."""
    return "".join(dict.fromkeys(char for char in text if char in forbidden))


def parse_occurred_at(text: str, *, basic_offset: bool = False) -> dt.datetime:
    """An RFC 3339 timestamp with its offset (`Z` or `+HH:MM`) as an aware datetime. `basic_offset`
    also reads `+HHMM`, the eCommerce spec's own example."""
    example = "like 2021-03-30T14:38:29Z or 2021-03-30T09:38:29-05:00"
    match = _STAMP.match(text)
    if match is None:
        raise TimestampError(f"{text[:40]!r} is not an RFC 3339 timestamp ({example})")
    offset = match.group("offset")
    if offset is None:
        raise TimestampError(f"{text[:40]!r} has no UTC offset; RFC 3339 needs one ({example})")
    if match.group("basic") and not basic_offset:
        raise TimestampError(f"{text[:40]!r}: write the offset with a colon, {offset[:3]}:{offset[3:]} ({example})")
    if match.group("basic"):
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        # fromisoformat reads at most microseconds: longer fractions are cut, not refused (RFC 3339 allows them).
        date, clock = match.group(1), match.group(2)
        whole, dot, fraction = clock.partition(".")
        clock = whole + (dot + fraction[:6] if dot else "")
        parsed = dt.datetime.fromisoformat(f"{date}T{clock}{'+00:00' if offset in 'Zz' else offset}")
    except ValueError:
        raise TimestampError(f"{text[:40]!r} is not a real date and time ({example})") from None
    return parsed


def format_occurred_at(moment: dt.datetime) -> str:
    """An aware datetime as RFC 3339: `Z` for UTC, else `+HH:MM`; milliseconds when it has any."""
    offset = moment.utcoffset()
    if offset is None:
        raise TimestampError(f"{moment.isoformat()} has no time zone; give it one (occurredAt needs a UTC offset)")
    if offset.seconds % 60 or offset.microseconds:
        raise TimestampError(f"{moment.isoformat()}: an offset with seconds cannot be written in RFC 3339")
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z" if offset == dt.timedelta(0) else text


def is_currency(code: str) -> bool:
    """Three upper-case letters, the form of an ISO 4217 code (the list itself is not checked)."""
    return bool(_CURRENCY.match(code))
