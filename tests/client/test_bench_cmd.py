"""`attentive-console bench`: dispatch without importing what a target does not need, pass-through
options for the other benchmarks, and one real (small) run of `bench client`."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tui.cli import build_parser
from tui.core.exit_codes import OK


def test_bench_send_and_console_options_pass_through_untouched():
    args = build_parser().parse_args(["bench", "send", "--rows", "1000", "--help"])
    assert (args.bench_target, args.bench_args) == ("send", ["--rows", "1000", "--help"])
    args = build_parser().parse_args(["bench", "console"])
    assert (args.bench_target, args.bench_args) == ("console", [])


def test_bench_client_refuses_a_size_below_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["bench", "client", "--v1-requests", "0"])
    assert exit_info.value.code == 2
    assert "--v1-requests: 0 must be at least 1" in capsys.readouterr().err


def test_parsing_a_bench_command_imports_neither_textual_nor_the_benchmark():
    code = (
        "import sys\n"
        "from tui.cli import build_parser\n"
        "build_parser().parse_args(['bench', 'client'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual' or m.startswith('tui.bench')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_bench_client_measures_both_sides_against_a_simulator_process(cli_on, tmp_path):
    code, out, _ = cli_on(tmp_path, data=tmp_path)("bench", "client", "--v1-requests", "60", "--bulk-requests", "2",
                                                  "--concurrency", "4", "--rounds", "1")
    assert code == OK
    assert "client/bare" in out
    rows = [line for line in out.splitlines() if line.startswith(("v1 custom attributes", "bulk (256 per call)"))]
    assert len(rows) == 2
    for row in rows:
        ratio = float(row.split()[-1])
        assert ratio > 0  # both sides measured (no timing target in tests: the command prints it)
