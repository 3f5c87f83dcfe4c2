"""`send --env production` asks for the destination's name on a terminal (a real pseudo-terminal
here), takes --yes from scripts, refuses without either, and never asks for a dry run."""
from __future__ import annotations

import json
import os
import sys

import pytest
from sync_kit import valid_row, write_csv


@pytest.fixture
def cli(sim_process, cli_for):
    cli = cli_for(sim_process.url)
    sandbox = (cli.config / "sandbox.toml").read_text()
    (cli.config / "production.toml").write_text(sandbox)  # the same destination, promoted by hand
    return cli


@pytest.fixture
def terminal(monkeypatch):
    """stdin on a pseudo-terminal; the returned function types a line on its keyboard."""
    keyboard, screen = os.openpty()
    stdin = open(screen, "r", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    yield lambda line: os.write(keyboard, f"{line}\n".encode())
    stdin.close()
    os.close(keyboard)


@pytest.fixture
def source(tmp_path):
    return str(write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(20)]))


def sent_runs(cli) -> list[dict]:
    code, out, _ = cli("runs", "--json")
    return json.loads(out) if code == 0 and out.strip() else []


def test_without_a_terminal_or_yes_nothing_is_sent_and_the_fix_is_named(cli, source):
    code, _, err = cli("send", "loyalty-attributes", source, "--env", "production")
    assert code == 2 and "stdin is not a terminal; pass --yes" in err and "not sent" in err
    assert sent_runs(cli) == []


def test_a_wrong_name_exits_2_with_nothing_changed(cli, source, terminal):
    terminal("loyalty")  # close, but not the name
    code, _, err = cli("send", "loyalty-attributes", source, "--env", "production")
    assert code == 2 and "Type the destination's name (loyalty-attributes)" in err and "nothing changed" in err
    assert sent_runs(cli) == []


def test_the_typed_name_sends_and_yes_sends_without_asking(cli, source, terminal):
    terminal("loyalty-attributes")
    code, out, err = cli("send", "loyalty-attributes", source, "--env", "production", "--json")
    assert code == 0 and "Type the destination's name" in err
    assert json.loads(out)["environment"] == "production"
    code, out, err = cli("send", "loyalty-attributes", source, "--env", "production", "--full", "--yes", "--json")
    assert code == 0 and "Type the destination's name" not in err and json.loads(out)["submitted"] == 20


def test_a_dry_run_and_the_sandbox_need_no_confirmation(cli, source):
    code, out, err = cli("send", "loyalty-attributes", source, "--env", "production", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["mode"] == "dry-run" and err == ""
    code, out, err = cli("send", "loyalty-attributes", source, "--json")
    assert code == 0 and json.loads(out)["environment"] == "sandbox"
