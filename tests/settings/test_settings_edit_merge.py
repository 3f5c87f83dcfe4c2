"""An edit carries the definition it started from: saved over the file as it is by then, it applies
only the fields the operator changed (each attribute on its own), keeps what someone else changed
meanwhile, refuses a change to the same field or to a definition removed or added meanwhile (with
the other side's values), and the ledger names the fields that really changed."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from config_kit import write_config_folder
from settings_kit import VALID

from tui.attentive.secret import ApiKey
from tui.core.workspace import Workspace
from tui.settings import changes
from tui.settings.ledger import Ledger
from tui.settings.loader import load_environment
from tui.settings.model import Destination
from tui.settings.paths import history_path
from tui.settings.secrets import SecretsFile
from tui.settings.store import (
    AlreadyExists,
    ConfigStore,
    EditConflict,
    Edited,
    FieldConflict,
)


def loyalty(config: Path) -> Destination:
    return load_environment(config, "sandbox").destinations["loyalty"]


def edit(config: Path, base: Destination | None, mine: Destination) -> Edited[Destination]:
    with ConfigStore(config).editing("sandbox") as handle:
        return handle.edit_destination(base, mine)


def save_as_someone_else(config: Path, base: Destination, **fields) -> None:
    edit(config, base, replace(base, **fields))


def workspace(tmp_path: Path, config: Path) -> Workspace:
    return Workspace(config, tmp_path / "data", tmp_path / "private" / "secrets.toml", "alice", False)


def test_what_someone_else_saved_meanwhile_survives_an_edit_of_other_fields(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    base = loyalty(config)
    save_as_someone_else(config, base, rate_limit=10.0, attributes={**base.attributes, "Points": "points"})
    mine = replace(base, description="Loyalty tiers", attributes={**base.attributes, "Member Since": "since"})
    edited = edit(config, base, mine)
    assert edited.changed == ("description", 'attributes."Member Since"')
    saved = loyalty(config)
    assert (saved.description, saved.rate_limit) == ("Loyalty tiers", 10.0)
    assert saved.attributes == {"Loyalty Tier": "tier", "Points": "points", "Member Since": "since"}
    assert edited.after == saved


def test_the_same_field_changed_on_both_sides_is_refused_showing_both_values(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    base = loyalty(config)
    save_as_someone_else(config, base, rate_limit=10.0, attributes={})
    on_disk = (config / "sandbox.toml").read_bytes()
    mine = replace(base, rate_limit=30.0, description="mine", attributes={"Loyalty Tier": "level"})
    with pytest.raises(EditConflict) as refused:
        edit(config, base, mine)
    assert refused.value.conflicts == (FieldConflict("rate_limit", "10.0", "30.0"),
                                       FieldConflict('attributes."Loyalty Tier"', "(unset)", '"level"'))
    message = str(refused.value)
    assert "destination 'loyalty'" in message and "was changed on disk after your edit started" in message
    assert "  rate_limit: on disk 10.0, yours 30.0\n" in message and "nothing was written" in message
    assert (config / "sandbox.toml").read_bytes() == on_disk


def test_the_same_change_made_on_both_sides_is_no_conflict_and_no_write(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    base = loyalty(config)
    save_as_someone_else(config, base, rate_limit=10.0)
    on_disk = (config / "sandbox.toml").read_bytes()
    assert edit(config, base, replace(base, rate_limit=10.0)).changed == ()
    assert (config / "sandbox.toml").read_bytes() == on_disk


def test_a_destination_removed_meanwhile_is_not_brought_back(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    base = loyalty(config)
    with ConfigStore(config).editing("sandbox") as other:
        other.remove_destination("loyalty")
    with pytest.raises(EditConflict, match="destination 'loyalty' was removed from .* after your edit started"):
        edit(config, base, replace(base, description="mine"))
    assert "loyalty" not in load_environment(config, "sandbox").destinations


def test_a_destination_added_meanwhile_under_the_same_name_is_refused_with_its_values(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    theirs = Destination("vip", "theirs", "main", "email", identifiers={"email": "email"})
    edit(config, None, theirs)
    with pytest.raises(AlreadyExists) as refused:
        edit(config, None, replace(theirs, description="mine", identifiers={"email": "mail"}))
    assert refused.value.conflicts == (FieldConflict("description", '"theirs"', '"mine"'),
                                       FieldConflict("identifiers.email", '"email"', '"mail"'))
    assert "destination 'vip' already exists in" in str(refused.value)
    assert load_environment(config, "sandbox").destinations["vip"] == theirs


def test_the_ledger_records_the_fields_really_changed(tmp_path):
    config = write_config_folder(tmp_path / "config", VALID)
    where = workspace(tmp_path, config)
    base = loyalty(config)
    save_as_someone_else(config, base, rate_limit=10.0)  # not through the ledger: a hand edit, say
    saved = changes.save_destination(where, "sandbox", replace(base, verbose_logging=False), before=base)
    assert saved.changed == ("verbose_logging",) and saved.destination.rate_limit == 10.0
    unchanged = changes.save_destination(where, "sandbox", replace(base, verbose_logging=False), before=base)
    assert unchanged.changed == ()
    [entry] = Ledger(history_path(where.data_dir)).entries()  # the save that changed nothing is not recorded
    assert (entry.action, entry.details["changed"]) == ("destination.edited", ["verbose_logging"])
    assert entry.details["config_hash"] == loyalty(config).config_hash()


def test_moving_a_key_to_the_secrets_file_keeps_a_description_changed_meanwhile(tmp_path, monkeypatch):
    monkeypatch.setenv("MAIN_KEY", "unused")
    config = write_config_folder(tmp_path / "config", VALID.replace('api_key = "demo:sandbox"', 'api_key = "env:MAIN_KEY"'))
    where = workspace(tmp_path, config)
    credential = load_environment(config, "sandbox").credentials["main"]

    def key_typed_while_someone_edits() -> ApiKey:
        with ConfigStore(config).editing("sandbox") as other:
            other.edit_credential(credential, replace(credential, description="renamed meanwhile"))
        return ApiKey("moved-key-0001")

    saved = changes.set_credential_key(where, "sandbox", "main", key_typed_while_someone_edits, test=False)
    now = load_environment(config, "sandbox").credentials["main"]
    assert (now.description, now.api_key_ref) == ("renamed meanwhile", "secret:main") and saved.credential == now
    assert SecretsFile(where.secrets_file).get("main") == "moved-key-0001"
