"""Test connection against the simulator: each failure has its own message and exit code 3."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cli_kit import Cli, CliOn, Ran
from config_kit import environment_toml, shipped_config, write_config_folder
from simulator_fixtures import ATTRIBUTES_KEY, FULL_KEY, SUBSCRIPTIONS_KEY

from tui.settings.connection import Failure
from tui.settings.connection import test_connection as run_connection_test
from tui.settings.loader import load_environment


def env_config(tmp_path: Path, url: str) -> Path:
    """A config folder whose credential "main" reads its key from $ATTENTIVE_TEST_KEY."""
    sandbox = environment_toml(url, credential="main", key="env:ATTENTIVE_TEST_KEY", description="key from the environment")
    return write_config_folder(tmp_path / "config", sandbox)


def credentials_test_main(cli: Cli) -> Ran:
    """`credentials test main`."""
    return cli("credentials", "test", "main")


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
def test_credentials_test_reports_company_or_reason(tmp_path: Path, thread_simulator, monkeypatch, cli_on: CliOn,
                                                    key: str, exit_code: int, words: str):
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", key)
    code, out, err = credentials_test_main(cli_on(env_config(tmp_path, thread_simulator.url)))
    assert code == exit_code
    assert words in (out if exit_code == 0 else err)
    assert key not in out + err


def test_unreachable_host_exits_3_with_its_own_message(tmp_path: Path, monkeypatch, cli_on: CliOn):
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", FULL_KEY)
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = credentials_test_main(cli_on(env_config(tmp_path, url)))
    assert code == 3 and f"cannot reach {url}" in err and "check api_url, the network" in err


def test_a_missing_key_is_a_config_error_not_a_connection_error(tmp_path: Path, monkeypatch, cli_on: CliOn):
    monkeypatch.delenv("ATTENTIVE_TEST_KEY", raising=False)
    code, _, err = credentials_test_main(cli_on(env_config(tmp_path, f"http://127.0.0.1:{free_port()}")))
    assert code == 2 and "ATTENTIVE_TEST_KEY, which is not set" in err


def test_the_embedded_default_works_with_no_setup(tmp_path: Path, cli_on: CliOn):
    code, out, _ = cli_on(shipped_config(tmp_path))("credentials", "test", "attentive", operator="anyone")
    assert code == 0 and "OK: company 'Northwind Outfitters (Sandbox)'" in out
    assert not (tmp_path / "private").exists()  # no secrets file needed


async def test_connection_api_against_the_async_simulator(tmp_path: Path, simulator, monkeypatch):
    environment = load_environment(env_config(tmp_path, simulator.url), "sandbox")
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", simulator.other_company_key)
    result = await run_connection_test(environment, "main", secrets_file=tmp_path / "s.toml", data_dir=tmp_path)
    assert result.ok and result.company_name == "Other Test Company"
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", "bad-key-XYZ123")
    result = await run_connection_test(environment, "main", secrets_file=tmp_path / "s.toml", data_dir=tmp_path)
    assert result.failure is Failure.UNKNOWN_KEY and "XYZ123" not in result.summary
