"""Declared attribute types ([destinations.NAME.types]): converting values for the payload, and the
warning for untyped columns Attentive would type as Number (it types an attribute by the first
value it sees, so "02134" would become 2134 and lose its zero)."""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_NUMERIC_LOOKING = re.compile(r"[+-]?\d+(?:\.\d+)?\Z")


class NotConvertible(ValueError):
    pass


def convert(value: Any, kind: str) -> Any:
    """`value` as `kind` would send it; NotConvertible when it cannot be."""
    if kind == "string":
        return value if isinstance(value, str) else _text(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        word = _text(value).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise NotConvertible("use true/false, yes/no or 1/0")
    if kind == "number":
        if isinstance(value, bool):
            raise NotConvertible("a true/false value is not a number")
        try:
            number = float(value) if not isinstance(value, int) else value
        except (TypeError, ValueError):
            raise NotConvertible("not a number") from None
        if isinstance(number, float):
            if not math.isfinite(number):
                raise NotConvertible("not a finite number")
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        return number
    if kind == "date":
        return _date(_text(value).strip())
    raise NotConvertible(f"unknown type {kind!r}")


def _date(text: str) -> str:
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise NotConvertible("not an ISO-8601 date (2026-01-31) or date-time with offset") from None
    if moment.tzinfo is None:
        raise NotConvertible("a date-time needs an offset (2026-01-31T09:00:00+00:00)")
    return moment.isoformat()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def number_trap(value: Any) -> bool:
    """A text value Attentive would read as a Number and change: a leading zero or `+`."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not _NUMERIC_LOOKING.match(text):
        return False
    digits = text.lstrip("+-")
    return text.startswith("+") or (len(digits) > 1 and digits[0] == "0" and digits[1] != ".")


def number_trap_warning(destination: str, name: str, example: str) -> str:
    return (f"attribute {name!r} is untyped and holds values such as {example!r}: Attentive types an attribute by "
            "the first value it sees and would make it a Number, dropping the leading zero or '+'; "
            f'declare it text: [destinations.{destination}.types] "{name}" = "string"')


def constant_traps(destination: str, constants: dict[str, str], types: dict[str, str]) -> list[str]:
    """The number-trap warnings of untyped constants (`config validate` reads no data, but these it can see)."""
    return [number_trap_warning(destination, name, value.strip()) for name, value in constants.items()
            if name not in types and number_trap(value)]


def untyped(names: Iterable[str], types: dict[str, str]) -> list[str]:
    return [name for name in names if name not in types]
