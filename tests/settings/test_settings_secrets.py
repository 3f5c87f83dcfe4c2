"""The secrets file (0600, loose permissions refused) and a key that never leaks."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cli_kit import CliOn
from config_kit import SHIPPED, environment_toml, write_config_folder
from simulator_fixtures import FULL_KEY

from tui.settings.errors import SecretsError
from tui.settings.loader import load_environment
from tui.settings.secrets import SecretsFile, resolve_api_key

CANARY = FULL_KEY   # the simulator's full-permission test key, used as the canary


def real_url_config(tmp_path: Path, url: str, more: str = "") -> Path:
    """A config folder whose credential "main" reads the secret "main"; `more` is appended."""
    sandbox = environment_toml(url, credential="main", key="secret:main", description="real-style credential")
    return write_config_folder(tmp_path / "config", sandbox + more)


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
    config = real_url_config(tmp_path, "https://api.attentivemobile.com",
                             '\n[credentials.from-env]\napi_key = "env:ATTENTIVE_TEST_KEY"\n')
    environment = load_environment(config, "sandbox")
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
    from tui.attentive.simulator.demo import DEMO_KEYS

    environment = load_environment(SHIPPED, "production")
    key = resolve_api_key(environment, "attentive", tmp_path / "absent.toml")
    assert key.value == DEMO_KEYS["production"]
    assert not (tmp_path / "absent.toml").exists()


def test_a_canary_key_set_through_the_cli_never_leaks(tmp_path: Path, thread_simulator, cli_on: CliOn, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    cli = cli_on(real_url_config(tmp_path, thread_simulator.url))
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
        try:
            code, out, err = cli(*argv, stdin=stdin + "\n")
        except BaseException as error:  # a traceback would be a failure of its own; its text must not leak either
            exceptions.append(repr(error) + str(error))
            code, (out, err) = -1, capsys.readouterr()
        exit_codes.append(code)
        outputs.append(out + err)
    assert exit_codes == [0, 0, 0, 0, 0, 0, 0, 2, 2] and exceptions == []
    assert "****0001" in outputs[2]
    assert "Test Company" in outputs[4]
    assert SecretsFile(cli.secrets).read() == {"main": CANARY, "second": CANARY}
    everything = "\n".join(outputs + [caplog.text] + [p.read_text() for p in cli.config.iterdir() if p.is_file()])
    assert CANARY not in everything
    assert CANARY[-4:] in everything  # the masked form is what shows


def test_keys_from_argv_are_impossible(tmp_path: Path, cli_on: CliOn, capsys):
    cli = cli_on(real_url_config(tmp_path, "http://127.0.0.1:9"))
    with pytest.raises(SystemExit):
        cli("credentials", "set-key", "main", "sk-on-the-command-line")
    assert "unrecognized arguments" in capsys.readouterr().err


def test_an_empty_key_from_stdin_changes_nothing(tmp_path: Path, cli_on: CliOn):
    cli = cli_on(real_url_config(tmp_path, "http://127.0.0.1:9"))
    code, _, err = cli("credentials", "set-key", "main", "--no-test", stdin="\n")
    assert code == 2 and "no key was given" in err
    assert not cli.secrets.exists()
