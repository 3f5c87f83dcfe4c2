"""`send --set "NAME=VALUE"`: constants for one send, checked as the environment file's are, on a
copy of the destination (so they are part of the run's configuration hash and of every payload)."""
from __future__ import annotations

import dataclasses

from tui.core.workspace import Target
from tui.settings.attribute_tables import SET_OPTION, ConstantsInput, constant_problems, parse_set
from tui.settings.attribute_types import NotConvertible, convert
from tui.settings.errors import SettingsError


def with_constants(target: Target, items: list[str], given: ConstantsInput = SET_OPTION) -> Target:
    """`target` with the `--set` constants added to its destination's; SettingsError lists every
    problem, naming where they were typed (`given`)."""
    if not items:
        return target
    destination = target.destination
    constants, problems = parse_set(items, given)
    problems += [f"{given.label} {p.key!r}: {p.message}; {p.fix}"
                 for p in constant_problems(constants, destination.attributes)]
    for name, value in constants.items():
        kind = destination.types.get(name)
        if kind is not None and value.strip():
            try:
                convert(value, kind)
            except NotConvertible as err:
                problems.append(f"{given.label} {name!r}: {value!r} is not a {kind} ({err}), as "
                                f"[destinations.{destination.name}.types] declares")
    if problems:
        raise SettingsError("\n".join(problems))
    merged = {**destination.constants, **constants}
    return dataclasses.replace(target, destination=dataclasses.replace(destination, constants=merged))
