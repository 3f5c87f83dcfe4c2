"""One environment file's text for the destination-kind tests: a head with one credential ("main",
the embedded demo key), and loading it the way the loader does."""
from __future__ import annotations

from pathlib import Path

import pytest

from tui.settings.errors import ConfigError
from tui.settings.loader import parse_environment
from tui.settings.model import Destination

PATH = Path("sandbox.toml")
HEAD = '''api_url = "embedded"
[credentials.main]
api_key = "demo:sandbox"
'''


def load(text: str) -> dict[str, Destination]:
    """The destinations of HEAD + text (ConfigError when it does not load)."""
    return parse_environment(HEAD + text, path=PATH, name="sandbox").destinations


def problems(text: str) -> list[str]:
    """Every problem HEAD + text is refused with, as shown (file:line:col: message (fix))."""
    with pytest.raises(ConfigError) as caught:
        load(text)
    return [str(problem) for problem in caught.value.problems]
