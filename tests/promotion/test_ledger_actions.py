"""Every settings change made through the CLI leaves its audit entry, and no entry holds a key."""
from __future__ import annotations

from pathlib import Path

from cli_kit import CliOn
from config_kit import environment_toml, write_config_folder

from tui.attentive.secret import ApiKey
from tui.attentive.simulator.demo import DEMO_KEYS
from tui.settings.ledger import Ledger, key_fingerprint
from tui.settings.paths import history_path

EMPTY = environment_toml("embedded", credential=None)  # alice an admin; no credential, no destination


def test_credential_and_destination_changes_are_each_recorded(tmp_path: Path, cli_on: CliOn):
    on_files = cli_on(write_config_folder(tmp_path / "config", EMPTY, EMPTY), secrets=tmp_path / "secrets.toml")

    def cli(*argv: str, stdin: str = "") -> None:
        code, _, err = on_files(*argv, stdin=stdin)
        assert code == 0, err

    key = DEMO_KEYS["sandbox"]
    cli("credentials", "add", "attentive", stdin=key + "\n")
    cli("credentials", "set-key", "attentive", stdin=key + "\n")
    cli("credentials", "add", "from-env", "--env-var", "ATTENTIVE_KEY")
    cli("destinations", "add", "loyalty", "--credential", "attentive", "--primary-identifier", "email",
        "--identifier", "email=email", "--attribute", "Points=points")
    cli("destinations", "edit", "loyalty", "--rejection-threshold", "0.1", "--attribute", "Tier=tier")
    cli("destinations", "remove", "loyalty")
    cli("credentials", "remove", "from-env")

    entries = Ledger(history_path(tmp_path / "data")).entries()
    assert [(e.action, e.subject, e.environment, e.operator) for e in entries] == [
        ("credential.added", "attentive", "sandbox", "alice"),
        ("credential.rotated", "attentive", "sandbox", "alice"),
        ("credential.added", "from-env", "sandbox", "alice"),
        ("destination.added", "loyalty", "sandbox", "alice"),
        ("destination.edited", "loyalty", "sandbox", "alice"),
        ("destination.removed", "loyalty", "sandbox", "alice"),
        ("credential.removed", "from-env", "sandbox", "alice"),
    ]
    added, rotated, from_env, _, edited, _, _ = entries
    assert added.details == {"key": ApiKey(key).masked(), "key_fingerprint": key_fingerprint(ApiKey(key))}
    assert rotated.details["key_fingerprint"] == added.details["key_fingerprint"]  # same key set again
    assert from_env.details == {"key_source": "env:ATTENTIVE_KEY"}
    assert edited.details["changed"] == ["rejection_threshold", "attributes.Tier"]
    for stored in (tmp_path / "data").glob("history.sqlite3*"):  # the database and its WAL
        assert key.encode() not in stored.read_bytes()
    assert Ledger(history_path(tmp_path / "data")).verify().ok
