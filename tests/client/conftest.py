"""Fixtures of the client tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from scripted_server import ScriptedServer


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    """A loopback server that answers from a script of steps (scripted_server.py), stopped after the test."""
    server = ScriptedServer().start()
    yield server
    server.stop()
