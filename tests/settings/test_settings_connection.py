"""Test connection against the simulator: each failure has its own message and exit code 3."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
from settings_kit import SHIPPED, cli_args, config_dir, shipped_config, thread_simulator  # noqa: F401  (fixture)
from simulator_fixtures import ATTRIBUTES_KEY, FULL_KEY, SUBSCRIPTIONS_KEY

from tui.cli import main
from tui.settings.connection import Failure
from tui.settings.connection import test_connection as run_connection_test
from tui.settings.loader import load_environment

ENV_CONFIG = """\
api_url = "{url}"

[access]
admins = ["alice"]

[credentials.main]
description = "key from the environment"
type = "custom-attributes-api"
api_key = "env:ATTENTIVE_TEST_KEY"
"""


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("key", "exit_code", "words"), [
    (FULL_KEY, 0, "OK: company 'Test Company', application 'tests'"),
    (ATTRIBUTES_KEY, 0, "OK: company 'Test Company', application 'tests (attributes only)'"),
    ("not-a-key-at-all", 3, "does not know this API key (HTTP 401)"),
    (SUBSCRIPTIONS_KEY, 3, "lacks the Custom Attributes permission (HTTP 403)"),
], ids=["ok", "ok-attributes-only", "wrong-key", "missing-permission"])
def test_credentials_test_reports_company_or_reason(tmp_path: Path, thread_simulator, monkeypatch, capsys,  # noqa: F811
                                                    key: str, exit_code: int, words: str):
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", key)
    config = config_dir(tmp_path, ENV_CONFIG.format(url=thread_simulator.url))
    assert main([*cli_args(tmp_path, config), "credentials", "test", "main"], operator="alice") == exit_code
    captured = capsys.readouterr()
    assert words in (captured.out if exit_code == 0 else captured.err)
    assert key not in captured.out + captured.err


def test_unreachable_host_exits_3_with_its_own_message(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", FULL_KEY)
    url = f"http://127.0.0.1:{free_port()}"
    config = config_dir(tmp_path, ENV_CONFIG.format(url=url))
    assert main([*cli_args(tmp_path, config), "credentials", "test", "main"], operator="alice") == 3
    err = capsys.readouterr().err
    assert f"cannot reach {url}" in err and "check api_url, the network" in err


def test_a_missing_key_is_a_config_error_not_a_connection_error(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv("ATTENTIVE_TEST_KEY", raising=False)
    config = config_dir(tmp_path, ENV_CONFIG.format(url=f"http://127.0.0.1:{free_port()}"))
    assert main([*cli_args(tmp_path, config), "credentials", "test", "main"], operator="alice") == 2
    assert "ATTENTIVE_TEST_KEY, which is not set" in capsys.readouterr().err


def test_the_embedded_default_works_with_no_setup(tmp_path: Path, capsys):
    config = shipped_config(tmp_path)
    assert main([*cli_args(tmp_path, config), "credentials", "test", "attentive"], operator="anyone") == 0
    assert "OK: company 'Northwind Outfitters (Sandbox)'" in capsys.readouterr().out
    assert not (tmp_path / "private").exists()  # no secrets file needed


async def test_connection_api_against_the_async_simulator(tmp_path: Path, simulator, monkeypatch):
    config = config_dir(tmp_path, ENV_CONFIG.format(url=simulator.url))
    environment = load_environment(config, "sandbox")
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", simulator.other_company_key)
    result = await run_connection_test(environment, "main", secrets_file=tmp_path / "s.toml", data_dir=tmp_path)
    assert result.ok and result.company_name == "Other Test Company"
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", "bad-key-XYZ123")
    result = await run_connection_test(environment, "main", secrets_file=tmp_path / "s.toml", data_dir=tmp_path)
    assert result.failure is Failure.UNKNOWN_KEY and "XYZ123" not in result.summary
