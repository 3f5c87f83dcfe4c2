"""`destinations ...`, `credentials ...` and `config validate` on real files, against a simulator."""
from __future__ import annotations

import json
from pathlib import Path

from cli_kit import Cli, CliOn
from config_kit import credential_toml, environment_toml, shipped_config, write_config_folder
from simulator_fixtures import FULL_KEY

from tui.settings.loader import load_environment
from tui.settings.secrets import SecretsFile

ADD = ["destinations", "add", "loyalty", "--credential", "good", "--primary-identifier", "email",
       "--identifier", "email=email", "--identifier", "phone=phone",
       "--attribute", "Loyalty Tier=tier", "--attribute", "Phone Number=phone", "--rate-limit", "50"]


def two_credentials(url: str) -> str:
    """"good" (FULL_KEY once sim_setup has stored it) and "bad" (a key the simulator does not know)."""
    return (environment_toml(url, credential="good", key="secret:good", description="works") + "\n"
            + credential_toml("bad", key="secret:bad", description="unknown to the simulator"))


def sim_setup(tmp_path: Path, url: str, cli_on: CliOn) -> Cli:
    cli = cli_on(write_config_folder(tmp_path / "config", two_credentials(url)))
    secrets = SecretsFile(cli.secrets)
    secrets.set("good", FULL_KEY)
    secrets.set("bad", "not-a-simulator-key")
    return cli


def test_add_show_list_edit_remove_a_destination(tmp_path: Path, thread_simulator, cli_on):
    cli = sim_setup(tmp_path, thread_simulator.url, cli_on)
    code, out, _ = cli(*ADD)
    assert code == 0
    assert "credential 'good' OK: company 'Test Company'" in out and "saved destination 'loyalty'" in out
    saved = load_environment(cli.config, "sandbox").destinations["loyalty"]
    assert saved.attributes == {"Loyalty Tier": "tier", "Phone Number": "phone"} and saved.rate_limit == 50

    code, out, _ = cli("destinations", "show", "loyalty", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["config_hash"] == saved.config_hash() and shown["identifiers"]["phone"] == "phone"
    code, out, _ = cli("destinations", "list", "--json")
    assert code == 0 and [d["name"] for d in json.loads(out)] == ["loyalty"]

    code, _, err = cli("destinations", "edit", "loyalty", "--subscriptions", "--remove-attribute", "Phone Number",
                       "--no-rate-limit", "--endpoint", "custom-attributes")
    assert code == 0 and '"already subscribed" text message' in err
    edited = load_environment(cli.config, "sandbox").destinations["loyalty"]
    assert (edited.subscriptions, edited.rate_limit, edited.endpoint) == (True, None, "custom-attributes")
    assert edited.attributes == {"Loyalty Tier": "tier"}

    assert cli("destinations", "remove", "loyalty").code == 0
    assert not load_environment(cli.config, "sandbox").destinations


def test_saving_with_a_failing_credential_saves_nothing(tmp_path: Path, thread_simulator, cli_on):
    cli = sim_setup(tmp_path, thread_simulator.url, cli_on)
    path = cli.config / "sandbox.toml"
    before = path.read_bytes()
    code, _, err = cli(*[a if a != "good" else "bad" for a in ADD])
    assert code == 3 and "does not know this API key (HTTP 401)" in err and "nothing was saved" in err
    assert path.read_bytes() == before


def test_an_invalid_destination_is_refused_before_any_test(tmp_path: Path, cli_on):
    cli = cli_on(write_config_folder(tmp_path / "config", two_credentials("http://127.0.0.1:9")))
    path = cli.config / "sandbox.toml"
    before = path.read_bytes()
    code, _, err = cli(*ADD[:-2], "--rate-limit", "500", "--attribute", "Card Number=cc")
    assert code == 2 and "the change was not made" in err
    assert "published limit of 100" in err and '"financial account or card numbers"' in err
    assert path.read_bytes() == before


def test_removing_a_credential_in_use_is_refused(tmp_path: Path, cli_on):
    code, _, err = cli_on(shipped_config(tmp_path))("credentials", "remove", "attentive", operator="me")
    assert code == 2 and "used by destination(s) loyalty-attributes" in err


def test_set_key_on_a_demo_credential_moves_it_to_the_secrets_file(tmp_path: Path, cli_on):
    cli = cli_on(shipped_config(tmp_path))
    code, out, _ = cli("credentials", "set-key", "attentive", "--no-test", stdin="k-rotated-5678\n", operator="me")
    assert code == 0 and "now reads its key from the secrets file (was demo:sandbox)" in out
    assert load_environment(cli.config, "sandbox").credentials["attentive"].api_key_ref == "secret:attentive"
    assert SecretsFile(cli.secrets).get("attentive") == "k-rotated-5678"
    assert "# Never the key itself" in (cli.config / "sandbox.toml").read_text()


def test_config_validate_prints_every_problem_of_both_files(tmp_path: Path, cli_on):
    config = shipped_config(tmp_path)
    sandbox = config / "sandbox.toml"
    sandbox.write_text(sandbox.read_text().replace('endpoint = "bulk"', 'endpoint = "bulky"')
                       .replace('"Points" = "points"', '"Religion" = "points"', 1))
    (config / "production.toml").write_text("api_url = 'embedded'\nadmins = []\n")
    code, out, _ = cli_on(config)("config", "validate", operator="me")
    assert code == 2 and "sandbox: 2 problem(s)" in out and "production: 1 problem(s)" in out
    assert f"{sandbox}:36:12: destinations.loyalty-attributes: unknown endpoint" in out
    assert 'sensitive-data category "religion"' in out
    assert f"{config / 'production.toml'}:2:1: unknown key admins in the top level" in out


def test_config_validate_passes_on_the_shipped_files(tmp_path: Path, cli_on):
    code, out, _ = cli_on(shipped_config(tmp_path))("config", "validate", operator="me")
    assert code == 0 and "sandbox: OK" in out


def test_destinations_validate_tests_each_credential(tmp_path: Path, thread_simulator, cli_on):
    cli = sim_setup(tmp_path, thread_simulator.url, cli_on)
    assert cli(*ADD).code == 0
    code, out, _ = cli("destinations", "validate")
    assert code == 0 and "loyalty: configuration OK; credential 'good' OK" in out
    SecretsFile(cli.secrets).set("good", "revoked-key")
    code, out, _ = cli("destinations", "validate")
    assert code == 3 and "HTTP 401" in out
    assert cli("destinations", "validate", "--offline").code == 0
