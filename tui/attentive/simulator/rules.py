"""Attentive's rules beyond the JSON schema: identifiers, attribute names, values and their types.

Type inference (Attentive: "the key will be assigned a type corresponding to the type seen of the
first value; '24' makes a Number"). A value's type is:
  - Boolean: JSON true/false, or a string "true"/"false" in any case ("TRUE" in Attentive's example);
  - Number:  a JSON number, or a string that is entirely a decimal number ("24", "-3.5", "1e3",
             and also "02134": a leading zero does not make it text, so zip codes become Numbers);
  - Date:    a string in ISO-8601 form, YYYY-MM-DD with an optional time and offset;
  - String:  anything else.
The first accepted value of a name fixes that name's type for the company. A later value is
accepted when it reads as that type: a String attribute takes any scalar (as its text), a Number
only numbers, a Boolean only booleans, a Date only dates. Enumerated attributes take only their
listed values (exact, case-sensitive). null, arrays and objects are refused.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from tui.attentive.endpoints import ATTRIBUTE_NAME_MAX, IDENTIFIER_MAX
from tui.attentive.identifiers import is_e164

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_IDENTIFIER_FIELDS = ("email", "phone", "clientUserId", "shopifyId", "klaviyoId")


class RuleViolation(ValueError):
    """A request that passes the schema but breaks one of Attentive's rules; names the field."""


class AttributeType(str, Enum):
    STRING = "String"
    NUMBER = "Number"
    BOOLEAN = "Boolean"
    DATE = "Date"


def _is_date(text: str) -> bool:
    match = _DATE.match(text)
    if not match:
        return False
    try:
        dt.date.fromisoformat(match.group(1))
    except ValueError:
        return False
    return True


def infer_type(value: str | int | float | bool) -> AttributeType:
    if isinstance(value, bool):
        return AttributeType.BOOLEAN
    if isinstance(value, (int, float)):
        return AttributeType.NUMBER
    if value.lower() in ("true", "false"):
        return AttributeType.BOOLEAN
    if _NUMBER.match(value):
        return AttributeType.NUMBER
    if _is_date(value):
        return AttributeType.DATE
    return AttributeType.STRING


def stored_as(value: str | int | float | bool, fixed: AttributeType | None) -> str | int | float | bool:
    """The value as Attentive keeps it under the attribute's fixed type: text sent to a Number is held
    as that number ("0107" -> 107) and to a Boolean as true/false, which is why read-back may differ."""
    if not isinstance(value, str):
        return value
    if fixed is AttributeType.NUMBER and _NUMBER.match(value):
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    if fixed is AttributeType.BOOLEAN and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def as_text(value: str | int | float | bool) -> str:
    """How a stored value reads back (the read-back schema types every value as a string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_attributes(
    field: str,
    properties: Mapping[str, Any],
    types: Mapping[str, AttributeType],
    enums: Mapping[str, frozenset[str]],
) -> dict[str, AttributeType]:
    """Check one profile's custom attributes against the company's fixed types.

    Returns the types this profile would newly fix; the caller commits them only once the whole
    profile is accepted, so a refused profile fixes nothing.
    """
    new_types: dict[str, AttributeType] = {}
    for name, value in properties.items():
        if value is None or isinstance(value, (list, dict)):
            where = f"{field}.{name}"
            if value is None:
                raise RuleViolation(f"{where} is null; leave the attribute out instead of sending null")
            if isinstance(value, list):
                raise RuleViolation(f"{where} is an array; Attentive does not accept arrays, send a single value")
            raise RuleViolation(f"{where} is an object; nested objects are not accepted, send a single value")
        fixed = types.get(name)
        if fixed is None:  # a typed name passed these checks when its type was fixed
            if not name.strip():
                raise RuleViolation(f"{field}: an attribute name is empty; give every attribute a name")
            if len(name) > ATTRIBUTE_NAME_MAX:
                raise RuleViolation(
                    f"{field}: attribute name {_shown(name)} is {len(name)} characters; the limit is {ATTRIBUTE_NAME_MAX}"
                )
        allowed = enums.get(name) if enums else None
        if allowed is not None:
            if as_text(value) not in allowed:
                raise RuleViolation(
                    f"{field}.{name}: {_shown(value)} is not a value of this enumerated attribute; "
                    f"allowed: {', '.join(sorted(allowed))}"
                )
        elif fixed is None:
            new_types[name] = infer_type(value)
        elif fixed is not AttributeType.STRING:  # a String attribute takes any scalar as its text
            seen = infer_type(value)
            if seen is not fixed:
                raise RuleViolation(
                    f"{field}.{name}: {_shown(value)} is a {seen.value}, but attribute {name!r} is a {fixed.value} "
                    "(fixed by the first value ever sent)"
                )
    return new_types


def check_phone(field: str, phone: str) -> None:
    if not is_e164(phone):
        raise RuleViolation(f"{field} {_shown(phone)} is not in E.164 format (like +19148440001)")


def _check_identifier(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise RuleViolation(f"{field} must be a string, not {_json_kind(value)}")
    if not value:
        raise RuleViolation(f"{field} is empty; omit an identifier you do not have")
    if len(value) > IDENTIFIER_MAX:
        raise RuleViolation(f"{field} is {len(value)} characters; identifiers are limited to {IDENTIFIER_MAX}")


_JSON_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array", dict: "an object"}


def _json_kind(value: Any) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)


def check_identifiers(field: str, identifiers: Mapping[str, Any], custom_key: str) -> None:
    """Check every identifier in a v1 `user` / v2 `identifiers` object.

    `custom_key` is the name field of custom identifiers: v1 says `name`, v2 says `key`. Where the
    schema leaves a field untyped (or allows extra ones, as the subscriptions `user` does), its type
    is checked here, so a spec-valid body is refused with a message rather than crashing a handler.
    """
    for name in _IDENTIFIER_FIELDS:
        value = identifiers.get(name)
        if value is None:
            continue
        _check_identifier(f"{field}.{name}", value)
    if "phone" in identifiers:
        check_phone(f"{field}.phone", identifiers["phone"])
    if "email" in identifiers and not _EMAIL.match(identifiers["email"]):
        raise RuleViolation(f"{field}.email {_shown(identifiers['email'])} is not an email address")
    external = identifiers.get("externalIdentifiers") or {}
    if not isinstance(external, Mapping):
        raise RuleViolation(f"{field}.externalIdentifiers must be an object, not {_json_kind(external)}")
    if "clientUserId" in external:
        _check_identifier(f"{field}.externalIdentifiers.clientUserId", external["clientUserId"])
    customs = identifiers.get("customIdentifiers", external.get("customIdentifiers")) or []
    if not isinstance(customs, list):
        raise RuleViolation(f"{field}.customIdentifiers must be an array, not {_json_kind(customs)}")
    for index, custom in enumerate(customs):
        where = f"{field}.customIdentifiers[{index}]"
        if not isinstance(custom, Mapping):
            raise RuleViolation(f"{where} must be an object, not {_json_kind(custom)}")
        if custom.get("value") is not None:
            _check_identifier(f"{where}.value", custom["value"])
        if not custom.get(custom_key):
            raise RuleViolation(f"{where} has no {custom_key}")
        if not isinstance(custom[custom_key], str):
            raise RuleViolation(f"{where}.{custom_key} must be a string, not {_json_kind(custom[custom_key])}")
