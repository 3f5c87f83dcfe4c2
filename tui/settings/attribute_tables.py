"""Rules for attribute names, constant attributes and declared attribute types, shared by the
environment file's loader and `send --set` (so both refuse the same things with the same words)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui.attentive import endpoints
from tui.settings.attribute_types import NotConvertible, convert
from tui.settings.sensitive import sensitive_category

ATTRIBUTE_TYPES = ("string", "number", "boolean", "date")


@dataclass(frozen=True)
class TableProblem:
    key: str            # the attribute name the problem is about
    message: str
    fix: str
    on_value: bool      # the value is wrong (else the name)


def name_problem(name: str) -> tuple[str, str] | None:
    """(what is wrong, fix) for a custom attribute name, or None when it may be sent."""
    if not name.strip():
        return "an attribute name is empty", "give the custom attribute a name"
    if len(name) > endpoints.ATTRIBUTE_NAME_MAX:
        return (f"attribute name is {len(name)} characters, Attentive allows {endpoints.ATTRIBUTE_NAME_MAX}",
                f"shorten it to {endpoints.ATTRIBUTE_NAME_MAX} characters or fewer")
    category = sensitive_category(name)
    if category is not None:
        return (f"attribute name {name!r} falls into the sensitive-data category \"{category}\", which Attentive "
                "forbids in custom attributes",
                "remove this attribute; sensitive personal data must not be sent to Attentive")
    return None


def constant_problems(constants: Mapping[str, Any], mapped: Mapping[str, str]) -> list[TableProblem]:
    """Every reason a table of constants (name -> value) cannot be sent beside `mapped` attributes."""
    problems = []
    for name, value in constants.items():
        named = name_problem(name)
        if named is not None:
            problems.append(TableProblem(name, *named, on_value=False))
        elif name in mapped:
            problems.append(TableProblem(
                name, f"constant {name!r} has the same name as the mapped attribute {name!r} (column {mapped[name]!r})",
                "rename the constant or remove one of the two; a profile holds one value per attribute", False))
        elif not isinstance(value, str):
            problems.append(TableProblem(
                name, f"constant {name!r} must be text, not {type(value).__name__}",
                f'quote the value ("{name}" = "{value}") and declare its type under [types] if it is not text', True))
        elif not value.strip():
            problems.append(TableProblem(
                name, f"constant {name!r} is empty; Attentive cannot unset an attribute, so nothing would be sent",
                "give it a value or remove it", True))
    return problems


def type_problems(types: Mapping[str, Any], names: set[str],
                  constants: Mapping[str, Any] | None = None) -> list[TableProblem]:
    """Every reason a [types] table (attribute name -> type name) is wrong; `names` are the
    attributes (mapped and constant) the destination sends; a constant must convert to its type."""
    problems = []
    for name, value in (constants or {}).items():
        kind = types.get(name)
        if kind in ATTRIBUTE_TYPES and isinstance(value, str) and value.strip():
            try:
                convert(value, kind)
            except NotConvertible as err:
                problems.append(TableProblem(name, f"constant {name!r} = {value!r} is not a {kind}: {err}",
                                             f"change the value or the type of {name!r}", True))
    known = ", ".join(f'"{t}"' for t in ATTRIBUTE_TYPES)
    for name, kind in types.items():
        if kind not in ATTRIBUTE_TYPES:
            problems.append(TableProblem(name, f"unknown type {kind!r} for attribute {name!r}",
                                         f"use one of {known}", True))
        elif name not in names:
            problems.append(TableProblem(name, f"type given for {name!r}, which is neither a mapped attribute "
                                               "nor a constant", "remove it or fix the attribute's name", False))
    return problems


@dataclass(frozen=True)
class ConstantsInput:
    """Where an operator typed a send's constants, for the problems to name it."""
    label: str = "--set"
    form: str = '--set "NAME=VALUE"'


SET_OPTION = ConstantsInput()


def parse_set(items: list[str], given: ConstantsInput = SET_OPTION) -> tuple[dict[str, str], list[str]]:
    """`--set "NAME=VALUE"` options (or the console's Constants field) -> (constants, problems)."""
    constants: dict[str, str] = {}
    problems = []
    for item in items:
        name, equals, value = item.partition("=")
        if not equals:
            problems.append(f'{given.label} {item!r} has no "=": write {given.form}')
        elif name.strip() in constants:
            problems.append(f"{given.label} names {name.strip()!r} twice: give each constant once")
        else:
            constants[name.strip()] = value
    return constants, problems
