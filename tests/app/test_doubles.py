"""The console tests' doubles stand in for our Protocols: a method renamed, added a parameter or
turned async in the Protocol must break here, not leave the double answering a call nobody makes."""
from __future__ import annotations

import inspect

import pytest
from console_kit import FixedBackend, FixedFollower

from tui.app.backend.job_watch import Follower
from tui.app.backend.protocol import ConsoleBackend

BUILDERS = ("with_",)  # the double's own set-up helpers, not stand-ins


def shape(function) -> tuple[bool, list[tuple[str, object]]]:
    parameters = [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]
    return inspect.iscoroutinefunction(function), parameters


@pytest.mark.parametrize(("double", "protocol"), [(FixedBackend, ConsoleBackend), (FixedFollower, Follower)])
def test_every_method_of_a_double_matches_its_protocol(double, protocol):
    stand_ins = [name for name, member in vars(double).items()
                 if inspect.isfunction(member) and not name.startswith(("_", *BUILDERS))]
    assert stand_ins
    for name in stand_ins:
        assert hasattr(protocol, name), f"{double.__name__}.{name} stands in for nothing in {protocol.__name__}"
        assert shape(getattr(double, name)) == shape(getattr(protocol, name)), f"{double.__name__}.{name}"
