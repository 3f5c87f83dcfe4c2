"""`attentive-console promote`: exit codes, failed gates printed, confirmation, read-only, JSON."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from promotion_fixtures import PRODUCTION_TOML, record_run, write_config

from tui.cli import main
from tui.settings.ledger import Ledger
from tui.settings.loader import load_environment
from tui.settings.paths import history_path


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Path]:
    config = write_config(tmp_path / "config")
    data = tmp_path / "data"
    digest = load_environment(config, "sandbox").destinations["loyalty"].config_hash()
    record_run(data, destination="loyalty", config_hash=digest)
    return {"config": config, "data": data, "secrets": tmp_path / "secrets.toml"}


def promote(env, *argv: str, operator: str = "alice") -> int:
    return main(["--config", str(env["config"]), "--data-dir", str(env["data"]), "--secrets", str(env["secrets"]),
                 *argv], operator=operator)


def production(env) -> str:
    return (env["config"] / "production.toml").read_text()


def test_yes_promotes_prints_the_diff_and_records_it(env, capsys):
    assert promote(env, "promote", "loyalty", "--yes") == 0
    out = capsys.readouterr().out
    assert "Promote loyalty: sandbox -> production (new in production)" in out
    assert "+[destinations.loyalty]" in out and out.count("[PASS]") == 4
    assert "promoted loyalty to production" in out and "audit ledger entry 2" in out
    assert "loyalty" in load_environment(env["config"], "production").destinations
    pending, entry = Ledger(history_path(env["data"])).entries(action="promotion")
    assert (pending.action, entry.action) == ("promotion.pending", "promotion")
    assert entry.subject == "loyalty" and entry.details["diff_sha256"] in out
    assert entry.details == {**pending.details, "pending_seq": pending.seq}


def test_failed_gates_are_each_printed_and_exit_1(env, capsys):
    assert promote(env, "promote", "loyalty", "--yes", operator="mallory") == 1
    captured = capsys.readouterr()
    assert "[FAIL] operator is an admin: mallory is not an admin of production" in captured.out
    assert "to do: ask an admin" in captured.out
    assert "not promoted: 1 gate failed" in captured.err
    assert production(env) == PRODUCTION_TOML


def test_without_yes_on_a_non_terminal_refuses(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("loyalty\n"))
    assert promote(env, "promote", "loyalty") == 2
    assert "stdin is not a terminal; pass --yes" in capsys.readouterr().err
    assert production(env) == PRODUCTION_TOML


def test_typing_the_name_confirms(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal("loyalty\n"))
    assert promote(env, "promote", "loyalty") == 0
    assert "Type the destination's name (loyalty)" in capsys.readouterr().err
    assert "loyalty" in load_environment(env["config"], "production").destinations


def test_typing_another_name_refuses_with_exit_2_and_changes_nothing(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal("newsletter\n"))
    assert promote(env, "promote", "loyalty") == 2
    assert "not promoted: the name typed did not match; nothing changed" in capsys.readouterr().err
    assert production(env) == PRODUCTION_TOML
    assert Ledger(history_path(env["data"])).entries(action="promotion") == []


def test_read_only_refuses_but_a_dry_run_shows_the_plan(env, capsys):
    assert promote(env, "--read-only", "promote", "loyalty", "--yes") == 2
    assert "read-only" in capsys.readouterr().err
    assert promote(env, "--read-only", "promote", "loyalty", "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.count("[PASS]") == 4 and "nothing was written" in out
    assert production(env) == PRODUCTION_TOML


def test_json_is_one_object_with_diff_gates_and_result(env, capsys):
    assert promote(env, "promote", "loyalty", "--yes", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["promoted"] is True and report["ledger_entry"] == 2 and report["ok"] is True
    assert [g["id"] for g in report["gates"]] == ["admin", "test_send", "verification", "production_credential"]
    assert report["new_in_production"] is True and report["diff"]["unified"].startswith("--- production.toml")


def test_json_reports_failed_gates_with_exit_1(env, capsys):
    write_config(env["config"], production=PRODUCTION_TOML.replace('admins = ["alice"]', 'admins = ["carol"]'))
    assert promote(env, "promote", "loyalty", "--yes", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["promoted"] is False and report["ok"] is False
    assert [g["id"] for g in report["gates"] if not g["passed"]] == ["admin"]


def test_a_second_promotion_has_nothing_to_do(env, capsys):
    assert promote(env, "promote", "loyalty", "--yes") == 0
    assert promote(env, "promote", "loyalty", "--yes") == 0
    assert "nothing to promote" in capsys.readouterr().out
    assert len(Ledger(history_path(env["data"])).entries(action="promotion")) == 2  # pending and done


def test_unknown_destination_and_broken_config_exit_2(env, capsys):
    assert promote(env, "promote", "nope", "--yes") == 2
    assert "sandbox has no destination named 'nope' (it has: loyalty)" in capsys.readouterr().err
    (env["config"] / "production.toml").write_text(PRODUCTION_TOML.replace("[access]", "[access"))
    assert promote(env, "promote", "loyalty", "--yes") == 2
    assert "production.toml:4" in capsys.readouterr().err
