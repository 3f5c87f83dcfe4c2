"""Shared helpers for the settings tests: config folders in tmp_path, a simulator for the CLI."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.embedded import RunningSimulator, start_in_thread

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config"

VALID = """\
api_url = "embedded"

[access]
admins = ["alice"]
restricted_pii = ["bob"]

[credentials.main]
description = "test key"
type = "custom-attributes-api"
api_key = "demo:sandbox"

[destinations.loyalty]
description = "Loyalty"
credential = "main"
primary_identifier = "email"
endpoint = "bulk"

[destinations.loyalty.identifiers]
email = "email"

[destinations.loyalty.attributes]
"Loyalty Tier" = "tier"
"""


def shipped_config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("sandbox.toml", "production.toml"):
        shutil.copy(SHIPPED / name, folder / name)
    return folder


def config_dir(tmp_path: Path, sandbox: str, production: str | None = None) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "sandbox.toml").write_text(sandbox)
    (folder / "production.toml").write_text(production if production is not None else (SHIPPED / "production.toml").read_text())
    return folder


def cli_args(tmp_path: Path, config: Path, *rest: str) -> list[str]:
    return ["--config", str(config), "--data-dir", str(tmp_path / "data"),
            "--secrets", str(tmp_path / "private" / "secrets.toml"), *rest]


@pytest.fixture
def thread_simulator() -> Iterator[RunningSimulator]:
    """The simulator with the test keys (see tests/simulator_fixtures.py) in its own thread, so that
    synchronous CLI calls (which run their own event loop) can reach it."""
    from simulator_fixtures import TEST_KEYS

    running = start_in_thread(SimulatorConfig(keys=TEST_KEYS))
    yield running
    running.stop()
