"""`attentive-console promote`: exit codes, failed gates printed, confirmation, read-only, JSON."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from cli_kit import Cli, CliOn
from promotion_fixtures import PRODUCTION_TOML, record_run, write_config

from tui.settings.ledger import Ledger
from tui.settings.loader import load_environment
from tui.settings.paths import history_path


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def cli(tmp_path: Path, cli_on: CliOn) -> Cli:
    """The CLI on promotion_fixtures' files, with a matching test send of loyalty recorded."""
    cli = cli_on(write_config(tmp_path / "config"), secrets=tmp_path / "secrets.toml")
    digest = load_environment(cli.config, "sandbox").destinations["loyalty"].config_hash()
    record_run(cli.data, destination="loyalty", config_hash=digest)
    return cli


def production(cli: Cli) -> str:
    return (cli.config / "production.toml").read_text()


def promotions(cli: Cli) -> list:
    return Ledger(history_path(cli.data)).entries(action="promotion")


def test_yes_promotes_prints_the_diff_and_records_it(cli):
    code, out, _ = cli("promote", "loyalty", "--yes")
    assert code == 0
    assert "Promote loyalty: sandbox -> production (new in production)" in out
    assert "+[destinations.loyalty]" in out and out.count("[PASS]") == 4
    assert "promoted loyalty to production" in out and "audit ledger entry 2" in out
    assert "loyalty" in load_environment(cli.config, "production").destinations
    pending, entry = promotions(cli)
    assert (pending.action, entry.action) == ("promotion.pending", "promotion")
    assert entry.subject == "loyalty" and entry.details["diff_sha256"] in out
    assert entry.details == {**pending.details, "pending_seq": pending.seq}


def test_failed_gates_are_each_printed_and_exit_1(cli):
    code, out, err = cli("promote", "loyalty", "--yes", operator="mallory")
    assert code == 1
    assert "[FAIL] operator is an admin: mallory is not an admin of production" in out
    assert "to do: ask an admin" in out
    assert "not promoted: 1 gate failed" in err
    assert production(cli) == PRODUCTION_TOML


def test_without_yes_on_a_non_terminal_refuses(cli):
    code, _, err = cli("promote", "loyalty", stdin="loyalty\n")
    assert code == 2 and "stdin is not a terminal; pass --yes" in err
    assert production(cli) == PRODUCTION_TOML


def test_typing_the_name_confirms(cli):
    code, _, err = cli("promote", "loyalty", stdin=Terminal("loyalty\n"))
    assert code == 0 and "Type the destination's name (loyalty)" in err
    assert "loyalty" in load_environment(cli.config, "production").destinations


def test_typing_another_name_refuses_with_exit_2_and_changes_nothing(cli):
    code, _, err = cli("promote", "loyalty", stdin=Terminal("newsletter\n"))
    assert code == 2 and "not promoted: the name typed did not match; nothing changed" in err
    assert production(cli) == PRODUCTION_TOML
    assert promotions(cli) == []


def test_read_only_refuses_but_a_dry_run_shows_the_plan(cli):
    code, _, err = cli("promote", "loyalty", "--yes", read_only=True)
    assert code == 2 and "read-only" in err
    code, out, _ = cli("promote", "loyalty", "--dry-run", read_only=True)
    assert code == 0 and out.count("[PASS]") == 4 and "nothing was written" in out
    assert production(cli) == PRODUCTION_TOML


def test_json_is_one_object_with_diff_gates_and_result(cli):
    code, out, _ = cli("promote", "loyalty", "--yes", "--json")
    report = json.loads(out)
    assert code == 0 and report["promoted"] is True and report["ledger_entry"] == 2 and report["ok"] is True
    assert [g["id"] for g in report["gates"]] == ["admin", "test_send", "verification", "production_credential"]
    assert report["new_in_production"] is True and report["diff"]["unified"].startswith("--- production.toml")


def test_json_reports_failed_gates_with_exit_1(cli):
    write_config(cli.config, production=PRODUCTION_TOML.replace('admins = ["alice"]', 'admins = ["carol"]'))
    code, out, _ = cli("promote", "loyalty", "--yes", "--json")
    report = json.loads(out)
    assert code == 1 and report["promoted"] is False and report["ok"] is False
    assert [g["id"] for g in report["gates"] if not g["passed"]] == ["admin"]


def test_a_second_promotion_has_nothing_to_do(cli):
    assert cli("promote", "loyalty", "--yes").code == 0
    code, out, _ = cli("promote", "loyalty", "--yes")
    assert code == 0 and "nothing to promote" in out
    assert len(promotions(cli)) == 2  # pending and done


def test_unknown_destination_and_broken_config_exit_2(cli):
    code, _, err = cli("promote", "nope", "--yes")
    assert code == 2 and "sandbox has no destination named 'nope' (it has: loyalty)" in err
    (cli.config / "production.toml").write_text(PRODUCTION_TOML.replace("[access]", "[access"))
    code, _, err = cli("promote", "loyalty", "--yes")
    assert code == 2 and "production.toml:4" in err
