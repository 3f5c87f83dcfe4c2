"""Strict comparison of a sent attribute value with what GET /v1/attributes/custom reads back.

Attentive returns values as text, so both sides are compared as canonical text, exactly: no
stripping, no case folding, no numeric leniency ("02134" is not "2134"). When they differ, the
Difference says whether Attentive's typing explains it: an attribute's type is fixed by the first
value Attentive ever sees, so text that looks like a number or a boolean may be stored as one.

Canonical text: bool -> "true"/"false"; int -> str(int); an integral float -> the int's digits
(3.0 -> "3"), any other float -> repr (2.5 -> "2.5", 1e-07 -> "1e-07"); str as is; anything else
as JSON.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

# Stricter than Decimal(), which also takes "1_000", " 1 ", "NaN" and "Infinity".
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BOOLEAN_WORDS = {"true": True, "yes": True, "false": False, "no": False}

_MISSING = "Attentive returned no value for this attribute: the write was refused or has not been applied yet."
_TYPED_AS_NUMBER = (
    "Attentive holds this attribute as a number (its type is fixed by the first value it saw), so leading "
    "zeros, a leading + and trailing decimal zeros are lost. The type cannot be changed: send to an attribute "
    "declared as text in Attentive before its first value, or send the value in a form that is not a number."
)
_NUMBER_FORM = "Attentive holds the same number written another way; the value itself was kept."
_TYPED_AS_BOOLEAN = (
    "Attentive holds this attribute as a boolean (its type is fixed by the first value it saw), so the text "
    "became true/false. Send to an attribute declared as text in Attentive before its first value, or send "
    "words other than yes/no/true/false."
)
_DIFFERS = "Attentive holds a different value: another writer may have changed it since, or Attentive rewrote it."


@dataclass(frozen=True)
class Difference:
    """Why a read-back value is not the one sent. `explanation` never repeats the values, so it can be
    logged where the values themselves must not be."""

    sent: object
    got: object
    problem: str        # "missing" | "differs" | "typed_as_number" | "number_form" | "typed_as_boolean"
    explanation: str


def compare_value(sent: object, got: object) -> Difference | None:
    """None when Attentive holds exactly what was sent."""
    if got is None:
        return Difference(sent, got, "missing", _MISSING)
    sent_text, got_text = canonical_text(sent), canonical_text(got)
    if sent_text == got_text:
        return None
    if _NUMBER.fullmatch(sent_text) and _NUMBER.fullmatch(got_text) and Decimal(sent_text) == Decimal(got_text):
        if isinstance(sent, str):
            return Difference(sent, got, "typed_as_number", _TYPED_AS_NUMBER)
        return Difference(sent, got, "number_form", _NUMBER_FORM)
    if isinstance(sent, str) and got_text in ("true", "false") and _BOOLEAN_WORDS.get(sent.lower()) == (got_text == "true"):
        return Difference(sent, got, "typed_as_boolean", _TYPED_AS_BOOLEAN)
    return Difference(sent, got, "differs", _DIFFERS)


def canonical_text(value: object) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
