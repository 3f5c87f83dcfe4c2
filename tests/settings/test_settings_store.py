"""Editing environment files: comments survive, saves are atomic, conflicts and races lose nothing."""
from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pytest
from config_kit import SHIPPED, shipped_config

from tui.settings import atomic
from tui.settings.errors import ConflictError, InvalidChange, SettingsError
from tui.settings.loader import load_environment
from tui.settings.model import Credential, Destination
from tui.settings.store import ConfigStore, EnvironmentFile

SHIPPED_DESTINATIONS = set(load_environment(SHIPPED, "sandbox").destinations)


def new_destination(name: str, credential: str = "attentive") -> Destination:
    return Destination(name, f"{name} test", credential, "phone", identifiers={"phone": "phone"},
                       attributes={"Points": "points"})


def test_unedited_save_is_byte_identical_and_untouched(tmp_path: Path):
    config = shipped_config(tmp_path)
    path = config / "sandbox.toml"
    before = path.read_bytes()
    os.utime(path, (1_000_000, 1_000_000))
    _, handle = ConfigStore(config).load("sandbox")
    same = handle.environment.destinations["loyalty-attributes"]
    handle.upsert_destination(same)  # re-writing identical values is no edit either
    assert handle.save() is False
    assert path.read_bytes() == before
    assert path.stat().st_mtime == 1_000_000


def test_comments_and_layout_survive_edits(tmp_path: Path):
    config = shipped_config(tmp_path)
    path = config / "sandbox.toml"
    original = path.read_text()
    _, handle = ConfigStore(config).load("sandbox")
    current = handle.environment.destinations["loyalty-attributes"]
    handle.upsert_destination(dataclasses.replace(
        current, endpoint="custom-attributes", rate_limit=40.0,
        attributes={"Loyalty Tier": "tier", "Points": "points", "First Name": "first_name"},
    ))
    handle.upsert_credential(Credential("backup", "second key", "custom-attributes-api", "env:BACKUP_KEY"))
    assert handle.save() is True
    text = path.read_text()
    for line in original.splitlines():
        if line.startswith("#") or line.strip().startswith("# "):
            assert line in text, f"comment lost: {line}"
    # The edited value keeps its trailing comment, in the same column.
    assert 'endpoint = "custom-attributes"  # "bulk" (v2' in text
    assert "rate_limit = 40\n" in text and '"First Name" = "first_name"' in text
    reloaded = load_environment(config, "sandbox")
    assert "Phone Number" not in reloaded.destinations["loyalty-attributes"].attributes  # removed, not kept
    assert reloaded.destinations["loyalty-attributes"].rate_limit == 40.0
    assert reloaded.credentials["backup"].api_key_ref == "env:BACKUP_KEY"


def test_adding_to_an_empty_environment_and_removing_again_restores_the_file(tmp_path: Path):
    config = shipped_config(tmp_path)
    path = config / "production.toml"
    original = path.read_text()
    store = ConfigStore(config)
    with store.editing("production") as handle:
        handle.upsert_destination(new_destination("vip", "attentive"))
    assert "[destinations.vip.identifiers]" in path.read_text()
    assert load_environment(config, "production").destinations["vip"].primary_identifier == "phone"
    with store.editing("production") as handle:
        handle.remove_destination("vip")
    assert path.read_text().rstrip("\n") == original.rstrip("\n")


def test_an_edit_that_would_break_the_file_is_refused_and_changes_nothing(tmp_path: Path):
    config = shipped_config(tmp_path)
    path = config / "sandbox.toml"
    before = path.read_bytes()
    _, handle = ConfigStore(config).load("sandbox")
    with pytest.raises(InvalidChange) as caught:
        handle.upsert_destination(dataclasses.replace(new_destination("bad"), attributes={"Passport No": "p"}))
    assert 'sensitive-data category "government identifiers"' in str(caught.value)
    assert "bad" not in handle.environment.destinations and handle.changed is False
    assert handle.save() is False and path.read_bytes() == before


def test_removing_a_credential_in_use_is_refused_naming_the_destinations(tmp_path: Path):
    config = shipped_config(tmp_path)
    _, handle = ConfigStore(config).load("sandbox")
    with pytest.raises(SettingsError, match="used by destination.s. loyalty-attributes"):
        handle.remove_credential("attentive")
    assert handle.changed is False


def test_a_crash_between_temp_write_and_replace_leaves_the_old_file(tmp_path: Path, monkeypatch):
    config = shipped_config(tmp_path)
    path = config / "sandbox.toml"
    before = path.read_bytes()
    _, handle = ConfigStore(config).load("sandbox")
    handle.upsert_destination(new_destination("vip"))

    def crash(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        handle.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in config.iterdir() if not p.name.endswith(".lock")) == ["production.toml", "sandbox.toml"]


def test_save_keeps_the_file_mode(tmp_path: Path):
    config = shipped_config(tmp_path)
    path = config / "sandbox.toml"
    path.chmod(0o640)
    with ConfigStore(config).editing("sandbox") as handle:
        handle.upsert_destination(new_destination("vip"))
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_file_changed_on_disk_since_loading_is_not_overwritten(tmp_path: Path):
    config = shipped_config(tmp_path)
    path = config / "sandbox.toml"
    _, handle = ConfigStore(config).load("sandbox")
    handle.upsert_destination(new_destination("mine"))
    edited_meanwhile = path.read_text() + "\n# an operator's edit in vi\n"
    path.write_text(edited_meanwhile)
    with pytest.raises(ConflictError, match="changed on disk since it was loaded") as caught:
        handle.save()
    assert path.read_text() == edited_meanwhile
    assert "[destinations.mine]" in caught.value.pending_text  # the edit is not lost either


def test_optimistic_writers_second_one_gets_a_conflict(tmp_path: Path):
    config = shipped_config(tmp_path)
    first = EnvironmentFile.open(config, "sandbox")
    second = EnvironmentFile.open(config, "sandbox")
    first.upsert_destination(new_destination("first"))
    second.upsert_destination(new_destination("second"))
    assert first.save() is True
    with pytest.raises(ConflictError):
        second.save()
    assert set(load_environment(config, "sandbox").destinations) == {*SHIPPED_DESTINATIONS, "first"}


def test_concurrent_writers_do_not_lose_an_update(tmp_path: Path):
    config = shipped_config(tmp_path)
    store = ConfigStore(config)
    names = [f"dest-{i}" for i in range(8)]
    start = threading.Barrier(len(names))
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            with store.editing("sandbox") as handle:
                handle.upsert_destination(new_destination(name))
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(load_environment(config, "sandbox").destinations) == {*SHIPPED_DESTINATIONS, *names}


def test_edits_keep_inline_tables_and_dotted_keys_in_their_form(tmp_path: Path):
    (tmp_path / "sandbox.toml").write_text(
        'api_url = "embedded"\n'
        'credentials.main = { api_key = "demo:sandbox" }  # inline credential\n\n'
        "[destinations]\n"
        'loyalty = { credential = "main", primary_identifier = "email", identifiers = { email = "email" } }\n'
        'vip.credential = "main"          # dotted keys\n'
        'vip.primary_identifier = "phone"\n'
        'vip.identifiers.phone = "phone"\n'
    )
    handle = EnvironmentFile.open(tmp_path, "sandbox")
    for name in ("loyalty", "vip"):
        current = handle.environment.destinations[name]
        handle.upsert_destination(dataclasses.replace(current, rate_limit=20.0, attributes={"Points": "points"}))
    handle.save()
    text = (tmp_path / "sandbox.toml").read_text()
    assert 'identifiers = { email = "email" }, rate_limit = 20, attributes = {Points = "points"}}' in text
    assert 'vip.credential = "main"          # dotted keys\n' in text and 'vip.attributes = {Points = "points"}' in text
    assert "endpoint" not in text and "admin_only" not in text  # defaults the file leaves out stay out
    reloaded = load_environment(tmp_path, "sandbox")
    assert reloaded.destinations["vip"].attributes == {"Points": "points"}
    assert reloaded.destinations["loyalty"].rate_limit == 20
