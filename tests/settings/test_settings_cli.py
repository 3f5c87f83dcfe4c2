"""`destinations ...`, `credentials ...` and `config validate` on real files, against a simulator."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from settings_kit import cli_args, config_dir, shipped_config, thread_simulator  # noqa: F401  (fixture)
from simulator_fixtures import FULL_KEY

from tui.cli import main
from tui.settings.loader import load_environment
from tui.settings.secrets import SecretsFile

SIM_CONFIG = """\
api_url = "{url}"

[access]
admins = ["alice"]

[credentials.good]
description = "works"
type = "custom-attributes-api"
api_key = "secret:good"

[credentials.bad]
description = "unknown to the simulator"
type = "custom-attributes-api"
api_key = "secret:bad"
"""

ADD = ["destinations", "add", "loyalty", "--credential", "good", "--primary-identifier", "email",
       "--identifier", "email=email", "--identifier", "phone=phone",
       "--attribute", "Loyalty Tier=tier", "--attribute", "Phone Number=phone", "--rate-limit", "50"]


def sim_setup(tmp_path: Path, url: str) -> list[str]:
    config = config_dir(tmp_path, SIM_CONFIG.format(url=url))
    secrets = SecretsFile(tmp_path / "private" / "secrets.toml")
    secrets.set("good", FULL_KEY)
    secrets.set("bad", "not-a-simulator-key")
    return cli_args(tmp_path, config)


def test_add_show_list_edit_remove_a_destination(tmp_path: Path, thread_simulator, capsys):  # noqa: F811
    args = sim_setup(tmp_path, thread_simulator.url)
    config = tmp_path / "config"
    assert main([*args, *ADD], operator="alice") == 0
    out = capsys.readouterr().out
    assert "credential 'good' OK: company 'Test Company'" in out and "saved destination 'loyalty'" in out
    saved = load_environment(config, "sandbox").destinations["loyalty"]
    assert saved.attributes == {"Loyalty Tier": "tier", "Phone Number": "phone"} and saved.rate_limit == 50

    assert main([*args, "destinations", "show", "loyalty", "--json"], operator="alice") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["config_hash"] == saved.config_hash() and shown["identifiers"]["phone"] == "phone"
    assert main([*args, "destinations", "list", "--json"], operator="alice") == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)] == ["loyalty"]

    assert main([*args, "destinations", "edit", "loyalty", "--subscriptions", "--remove-attribute", "Phone Number",
                 "--no-rate-limit", "--endpoint", "custom-attributes"], operator="alice") == 0
    captured = capsys.readouterr()
    assert '"already subscribed" text message' in captured.err
    edited = load_environment(config, "sandbox").destinations["loyalty"]
    assert (edited.subscriptions, edited.rate_limit, edited.endpoint) == (True, None, "custom-attributes")
    assert edited.attributes == {"Loyalty Tier": "tier"}

    assert main([*args, "destinations", "remove", "loyalty"], operator="alice") == 0
    assert not load_environment(config, "sandbox").destinations


def test_saving_with_a_failing_credential_saves_nothing(tmp_path: Path, thread_simulator, capsys):  # noqa: F811
    args = sim_setup(tmp_path, thread_simulator.url)
    path = tmp_path / "config" / "sandbox.toml"
    before = path.read_bytes()
    bad = [a if a != "good" else "bad" for a in ADD]
    assert main([*args, *bad], operator="alice") == 3
    err = capsys.readouterr().err
    assert "does not know this API key (HTTP 401)" in err and "nothing was saved" in err
    assert path.read_bytes() == before


def test_an_invalid_destination_is_refused_before_any_test(tmp_path: Path, capsys):
    config = config_dir(tmp_path, SIM_CONFIG.format(url="http://127.0.0.1:9"))
    path = config / "sandbox.toml"
    before = path.read_bytes()
    argv = [*cli_args(tmp_path, config), *ADD[:-2], "--rate-limit", "500", "--attribute", "Card Number=cc"]
    assert main(argv, operator="alice") == 2
    err = capsys.readouterr().err
    assert "the change was not made" in err
    assert "published limit of 100" in err and '"financial account or card numbers"' in err
    assert path.read_bytes() == before


def test_removing_a_credential_in_use_is_refused(tmp_path: Path, capsys):
    config = shipped_config(tmp_path)
    assert main([*cli_args(tmp_path, config), "credentials", "remove", "attentive"], operator="me") == 2
    assert "used by destination(s) loyalty-attributes" in capsys.readouterr().err


def test_set_key_on_a_demo_credential_moves_it_to_the_secrets_file(tmp_path: Path, monkeypatch, capsys):
    config = shipped_config(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("k-rotated-5678\n"))
    argv = [*cli_args(tmp_path, config), "credentials", "set-key", "attentive", "--no-test"]
    assert main(argv, operator="me") == 0
    assert "now reads its key from the secrets file (was demo:sandbox)" in capsys.readouterr().out
    assert load_environment(config, "sandbox").credentials["attentive"].api_key_ref == "secret:attentive"
    assert SecretsFile(tmp_path / "private" / "secrets.toml").get("attentive") == "k-rotated-5678"
    assert "# Never the key itself" in (config / "sandbox.toml").read_text()


def test_config_validate_prints_every_problem_of_both_files(tmp_path: Path, capsys):
    config = shipped_config(tmp_path)
    sandbox = config / "sandbox.toml"
    sandbox.write_text(sandbox.read_text().replace('endpoint = "bulk"', 'endpoint = "bulky"')
                       .replace('"Points" = "points"', '"Religion" = "points"'))
    (config / "production.toml").write_text("api_url = 'embedded'\nadmins = []\n")
    assert main([*cli_args(tmp_path, config), "config", "validate"], operator="me") == 2
    out = capsys.readouterr().out
    assert "sandbox: 2 problem(s)" in out and "production: 1 problem(s)" in out
    assert f"{sandbox}:36:12: destinations.loyalty-attributes: unknown endpoint" in out
    assert 'sensitive-data category "religion"' in out
    assert f"{config / 'production.toml'}:2:1: unknown key admins in the top level" in out


def test_config_validate_passes_on_the_shipped_files(tmp_path: Path, capsys):
    assert main([*cli_args(tmp_path, shipped_config(tmp_path)), "config", "validate"], operator="me") == 0
    assert "sandbox: OK" in capsys.readouterr().out


def test_destinations_validate_tests_each_credential(tmp_path: Path, thread_simulator, capsys):  # noqa: F811
    args = sim_setup(tmp_path, thread_simulator.url)
    assert main([*args, *ADD], operator="alice") == 0
    capsys.readouterr()
    assert main([*args, "destinations", "validate"], operator="alice") == 0
    assert "loyalty: configuration OK; credential 'good' OK" in capsys.readouterr().out
    SecretsFile(tmp_path / "private" / "secrets.toml").set("good", "revoked-key")
    assert main([*args, "destinations", "validate"], operator="alice") == 3
    assert "HTTP 401" in capsys.readouterr().out
    assert main([*args, "destinations", "validate", "--offline"], operator="alice") == 0
