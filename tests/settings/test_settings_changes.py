"""tui.settings.changes, the steps both front ends share: refusals come before any key is asked
for, a failed connection test writes nothing, and a removed credential's key is kept while the
other environment still uses it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from config_kit import environment_toml, write_config_folder
from settings_kit import VALID
from simulator_fixtures import FULL_KEY

from tui.attentive.secret import ApiKey
from tui.settings import changes
from tui.settings.errors import AccessDenied
from tui.settings.ledger import Ledger
from tui.settings.loader import load_environment
from tui.settings.paths import history_path
from tui.settings.secrets import SecretsFile
from tui.settings.store import AlreadyExists


def one_credential(url: str, credential: str) -> str:
    """An environment file with one credential whose key is the secret "shared", and no destinations."""
    return environment_toml(url, credential=credential, key="secret:shared")


@dataclass(frozen=True)
class Where:
    config_dir: Path
    data_dir: Path
    secrets_file: Path
    operator: str = "alice"
    read_only: bool = False


def workspace(tmp_path: Path, config: Path, **who) -> Where:
    return Where(config, tmp_path / "data", tmp_path / "private" / "secrets.toml", **who)


def ledger_actions(where: Where) -> list[str]:
    path = history_path(where.data_dir)
    return [entry.action for entry in Ledger(path).entries()] if path.exists() else []


def never_asked() -> ApiKey:
    raise AssertionError("the key was asked for although the change is refused")


@pytest.mark.parametrize("who, name, refusal", [
    ({"read_only": True}, "sandbox", "read-only"),
    ({"operator": "bob"}, "production", "only admins"),
])
def test_a_refused_credential_change_never_asks_for_the_key(tmp_path, who, name, refusal):
    config = write_config_folder(tmp_path / "config", VALID, VALID)
    where = workspace(tmp_path, config, **who)
    before = {path.name: path.read_bytes() for path in config.iterdir()}
    with pytest.raises(AccessDenied, match=refusal):
        changes.add_credential(where, name, changes.new_credential("new", "", None), never_asked)
    with pytest.raises(AccessDenied, match=refusal):
        changes.set_credential_key(where, name, "main", never_asked)
    assert {path.name: path.read_bytes() for path in config.iterdir()} == before
    assert not where.secrets_file.exists() and ledger_actions(where) == []


def test_adding_an_existing_credential_never_asks_for_the_key(tmp_path):
    where = workspace(tmp_path, write_config_folder(tmp_path / "config", VALID))
    with pytest.raises(AlreadyExists, match="credential 'main' already exists"):
        changes.add_credential(where, "sandbox", changes.new_credential("main", "", None), never_asked)


def test_read_only_is_refused_before_a_broken_file_is_read(tmp_path):
    where = workspace(tmp_path, write_config_folder(tmp_path / "config", "api_url = 42\n"), read_only=True)
    with pytest.raises(AccessDenied, match="read-only"):
        changes.remove_destination(where, "sandbox", "loyalty")


def test_a_failed_key_test_stores_nothing_and_records_nothing(tmp_path, thread_simulator):
    config = write_config_folder(tmp_path / "config", one_credential(thread_simulator.url, "good"))
    where = workspace(tmp_path, config)
    before = (config / "sandbox.toml").read_bytes()
    with pytest.raises(changes.NotSaved, match="HTTP 401") as failed:
        changes.add_credential(where, "sandbox", changes.new_credential("other", "", None),
                               lambda: ApiKey("wrong-key-0000"))
    assert "wrong-key-0000" not in str(failed.value) and not failed.value.result.ok
    assert (config / "sandbox.toml").read_bytes() == before
    assert not where.secrets_file.exists() and ledger_actions(where) == []

    saved = changes.add_credential(where, "sandbox", changes.new_credential("other", "", None),
                                   lambda: ApiKey(FULL_KEY))
    assert saved.key_masked == ApiKey(FULL_KEY).masked() and "OK" in saved.tested
    assert SecretsFile(where.secrets_file).get("other") == FULL_KEY
    assert ledger_actions(where) == ["credential.added"]


def test_a_removed_credentials_key_stays_while_the_other_environment_uses_it(tmp_path):
    unreachable = "http://127.0.0.1:9"
    config = write_config_folder(tmp_path / "config", one_credential(unreachable, "good"), one_credential(unreachable, "prod"))
    where = workspace(tmp_path, config)
    SecretsFile(where.secrets_file).set("shared", FULL_KEY)

    kept = changes.remove_credential(where, "sandbox", "good")
    assert not kept.secret_removed and "good" not in load_environment(config, "sandbox").credentials
    assert SecretsFile(where.secrets_file).get("shared") == FULL_KEY

    removed = changes.remove_credential(where, "production", "prod")
    assert removed.secret_removed and SecretsFile(where.secrets_file).get("shared") is None
    assert ledger_actions(where) == ["credential.removed", "credential.removed"]
