"""What the CLI prints cannot drive the terminal, a closed pipe ends it quietly, and without a
terminal the console refuses instead of hanging."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sync_kit import valid_row, write_config, write_csv

from tui.cli import BROKEN_PIPE
from tui.sync.history import HistoryStore, NewRun

ENTRY = "from tui.cli import entry; entry()"
EVIL = ["\x1b[2J\x1b[Hwiped@example.com", "\x1b]0;owned\x07@example.com", "\u202emoc.elpmaxe@ann"]


@pytest.fixture
def cli(tmp_path, cli_on):
    # dry runs and the history: no server needed
    return cli_on(write_config(tmp_path / "config", "http://127.0.0.1:9"), operator="tester")


def no_controls(text: str) -> bool:
    return not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in text)


def test_rejections_and_runs_print_control_characters_escaped(cli, tmp_path):
    rows = [valid_row(1)] + [{**valid_row(i), "email": email} for i, email in enumerate(EVIL, start=2)]
    source = write_csv(tmp_path / "audience.csv", rows)
    # the operator's login lands in the history too, and `runs` shows it
    code, _, _ = cli("send", "loyalty-attributes", str(source), "--dry-run", operator="ev\x1b[31mil")
    assert code == 1
    code, out, _ = cli("rejections", "1")
    assert code == 0 and no_controls(out)
    assert "\\x1b[2J\\x1b[Hwiped@example.com" in out and "\\x1b]0;owned\\x07" in out and "\\u202emoc" in out
    code, out, _ = cli("rejections", "1", "--search", "wiped")
    assert code == 0 and no_controls(out) and "1 rejections match" in out
    code, out, _ = cli("runs")
    assert code == 0 and no_controls(out) and "ev\\x1b[31mil" in out
    for argv in (("rejections", "1", "--json"), ("runs", "--json")):
        code, out, _ = cli(*argv)
        assert code == 0 and no_controls(out)  # JSON escapes them itself (\u001b), and reads back exact
    assert {r["identifier"] for r in json.loads(cli("rejections", "1", "--json")[1])["rejections"]} == set(EVIL)


def test_a_reader_closing_the_pipe_early_ends_the_command_quietly(tmp_path):
    data = tmp_path / "data"
    with HistoryStore(data) as store:
        for _ in range(400):  # about 350 kB of JSON: far more than a pipe holds, so a write meets the closed end
            store.create_run(NewRun(operator="tester", environment="sandbox", destination="d", endpoint="bulk",
                                    config_hash="c" * 64, mode="send", source_path="/tmp/a.csv", source_hash="h" * 64,
                                    source_format="csv", rows_estimate=10))
    process = subprocess.Popen([sys.executable, "-c", ENTRY, "--config", str(tmp_path / "config"), "--data-dir",
                                str(data), "runs", "--json", "--limit", "1000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "[\n"  # what `| head -1` reads before it exits
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == BROKEN_PIPE and err == ""


@pytest.mark.parametrize("argv", [[], ["console"], ["console", "--env", "production"]])
def test_the_console_without_a_terminal_refuses_with_the_headless_commands(tmp_path, argv):
    probe = ("import sys; from tui.cli import main; code = main(sys.argv[1:]); "
             "assert 'textual' not in sys.modules, 'the refusal loaded Textual'; sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe, "--config", str(tmp_path), "--data-dir", str(tmp_path), *argv],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "the console needs a terminal" in done.stderr
    assert "send, runs, rejections" in done.stderr and "console," not in done.stderr


def test_tables_of_settings_escape_what_the_files_hold(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNC_TEST_KEY", "key-0001-abcd")
    sandbox = tmp_path / "config" / "sandbox.toml"
    sandbox.write_text(sandbox.read_text().replace('description = "test"\ntype', 'description = "\\u001b[2Jgone"\ntype'))
    code, out, _ = cli("credentials", "list")
    assert code == 0 and no_controls(out) and "\\x1b[2Jgone" in out
