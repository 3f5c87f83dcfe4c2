"""Constants and types written by the store, hashed with the destination and shown by the promotion diff."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from config_kit import destination_toml, environment_toml, write_config_folder

from tui.settings.promotion_diff import diff_destination
from tui.settings.store import ConfigStore


def test_constants_and_types_round_trip_change_the_hash_and_show_in_the_diff(tmp_path: Path):
    folder = write_config_folder(tmp_path / "config", environment_toml("embedded", credential="attentive",
                                                                       destinations=[destination_toml()]))
    store = ConfigStore(folder)
    environment, _ = store.load("sandbox")
    plain = environment.destinations["loyalty-attributes"]
    typed = dataclasses.replace(plain, constants={"Campaign": "Winter 2026"}, types={"Campaign": "string"})
    assert typed.config_hash() != plain.config_hash()
    assert dataclasses.replace(plain, constants={}, types={}).config_hash() == plain.config_hash()
    with store.editing("sandbox") as edit:
        edit.upsert_destination(typed)
    reloaded, _ = store.load("sandbox")
    again = reloaded.destinations["loyalty-attributes"]
    assert again.constants == {"Campaign": "Winter 2026"} and again.types == {"Campaign": "string"}
    assert again.config_hash() == typed.config_hash()
    fields = {change.field for change in diff_destination(again, plain).changes}
    assert any(f.startswith("constants.") for f in fields) and any(f.startswith("types.") for f in fields)
