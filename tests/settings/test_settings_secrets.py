"""The secrets file (0600, loose permissions refused) and a key that never leaks."""
from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest
from settings_kit import cli_args, config_dir, thread_simulator  # noqa: F401  (fixture)

from tui.cli import main
from tui.settings.errors import SecretsError
from tui.settings.loader import load_environment
from tui.settings.secrets import SecretsFile, resolve_api_key

CANARY = "test-full-key-0001"   # the simulator's full-permission test key, used as the canary

REAL_URL_CONFIG = """\
api_url = "{url}"

[access]
admins = ["alice"]

[credentials.main]
description = "real-style credential"
type = "custom-attributes-api"
api_key = "secret:main"
"""


def test_secrets_file_is_created_0600_in_a_private_folder(tmp_path: Path):
    secrets = SecretsFile(tmp_path / "private" / "secrets.toml")
    secrets.set("main", "k-123456")
    assert secrets.path.stat().st_mode & 0o777 == 0o600
    assert secrets.path.parent.stat().st_mode & 0o777 == 0o700
    assert secrets.get("main") == "k-123456"
    secrets.set("other", "k-999")
    assert secrets.path.stat().st_mode & 0o777 == 0o600
    assert secrets.read() == {"main": "k-123456", "other": "k-999"}
    assert secrets.path.read_text().startswith("# attentive-console secrets")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_loose_permissions_are_refused_with_the_chmod_to_run(tmp_path: Path, mode: int):
    path = tmp_path / "secrets.toml"
    path.write_text('main = "k-123456"\n')
    path.chmod(mode)
    with pytest.raises(SecretsError) as caught:
        SecretsFile(path).get("main")
    assert f"run: chmod 600 {path}" in str(caught.value)
    assert "k-123456" not in str(caught.value)
    with pytest.raises(SecretsError):
        SecretsFile(path).set("main", "k-new")
    assert path.read_text() == 'main = "k-123456"\n'


def test_missing_secret_and_env_var_name_the_credential_and_the_fix(tmp_path: Path, monkeypatch):
    text = REAL_URL_CONFIG.format(url="https://api.attentivemobile.com") + (
        '\n[credentials.from-env]\napi_key = "env:ATTENTIVE_TEST_KEY"\n')
    environment = load_environment(config_dir(tmp_path, text), "sandbox")
    secrets = tmp_path / "secrets.toml"
    with pytest.raises(SecretsError) as missing:
        resolve_api_key(environment, "main", secrets)
    assert "credential 'main' uses secret 'main', which is not in" in str(missing.value)
    assert "attentive-console credentials set-key main --env sandbox" in str(missing.value)
    monkeypatch.delenv("ATTENTIVE_TEST_KEY", raising=False)
    with pytest.raises(SecretsError, match=r"environment variable ATTENTIVE_TEST_KEY, which is not set"):
        resolve_api_key(environment, "from-env", secrets)
    monkeypatch.setenv("ATTENTIVE_TEST_KEY", "k-from-env")
    assert resolve_api_key(environment, "from-env", secrets).value == "k-from-env"


def test_demo_keys_resolve_without_a_secrets_file(tmp_path: Path):
    from settings_kit import SHIPPED

    from tui.attentive.simulator.demo import DEMO_KEYS

    environment = load_environment(SHIPPED, "production")
    key = resolve_api_key(environment, "attentive", tmp_path / "absent.toml")
    assert key.value == DEMO_KEYS["production"]
    assert not (tmp_path / "absent.toml").exists()


def test_a_canary_key_set_through_the_cli_never_leaks(tmp_path: Path, thread_simulator, monkeypatch, capsys, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    config = config_dir(tmp_path, REAL_URL_CONFIG.format(url=thread_simulator.url))
    args = cli_args(tmp_path, config)
    monkeypatch.setattr(sys, "stdin", io.StringIO(CANARY + "\n"))
    outputs = []
    exit_codes = []
    exceptions = []
    for argv, stdin in ((["credentials", "set-key", "main"], CANARY),
                        (["credentials", "add", "second", "--description", "again"], CANARY),
                        (["credentials", "list"], ""), (["credentials", "list", "--json"], ""),
                        (["credentials", "test", "main"], ""),
                        (["destinations", "add", "d", "--credential", "main", "--primary-identifier", "email",
                          "--identifier", "email=email", "--attribute", "Points=points"], ""),
                        (["destinations", "show", "d", "--json"], ""),
                        (["credentials", "add", "main", "--description", "duplicate"], CANARY),
                        (["credentials", "set-key", "nope"], CANARY)):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin + "\n"))
        try:
            exit_codes.append(main([*args, *argv], operator="alice"))
        except BaseException as err:  # a traceback would be a failure of its own; its text must not leak either
            exceptions.append(repr(err) + str(err))
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
    assert exit_codes == [0, 0, 0, 0, 0, 0, 0, 2, 2] and exceptions == []
    assert "****0001" in outputs[2]
    assert "Test Company" in outputs[4]
    secrets_file = tmp_path / "private" / "secrets.toml"
    assert SecretsFile(secrets_file).read() == {"main": CANARY, "second": CANARY}
    everything = "\n".join(outputs + [caplog.text] + [p.read_text() for p in config.iterdir() if p.is_file()])
    assert CANARY not in everything
    assert CANARY[-4:] in everything  # the masked form is what shows


def test_keys_from_argv_are_impossible(tmp_path: Path, capsys):
    config = config_dir(tmp_path, REAL_URL_CONFIG.format(url="http://127.0.0.1:9"))
    with pytest.raises(SystemExit):
        main([*cli_args(tmp_path, config), "credentials", "set-key", "main", "sk-on-the-command-line"], operator="alice")
    assert "unrecognized arguments" in capsys.readouterr().err


def test_an_empty_key_from_stdin_changes_nothing(tmp_path: Path, monkeypatch, capsys):
    config = config_dir(tmp_path, REAL_URL_CONFIG.format(url="http://127.0.0.1:9"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert main([*cli_args(tmp_path, config), "credentials", "set-key", "main", "--no-test"], operator="alice") == 2
    assert "no key was given" in capsys.readouterr().err
    assert not (tmp_path / "private" / "secrets.toml").exists()
