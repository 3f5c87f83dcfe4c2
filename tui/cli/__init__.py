"""The command line: headless commands and launching the console.

Each command group lives in its own module with `register(subparsers)`; handlers take the parsed
namespace and return an exit code (see exit_codes).
"""
from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence

from tui.cli import (
    bench_cmd,
    config_cmd,
    console_cmd,
    credentials_cmd,
    destinations_cmd,
    history_cmd,
    jobs_cmd,
    ledger_cmd,
    promote_cmd,
    runs_cmd,
    segment_file_cmd,
    send_cmd,
    simulator_cmd,
)
from tui.cli.config_cmd import history_problem
from tui.cli.context import workspace_from_args
from tui.core.exit_codes import CANCELLED, USAGE
from tui.settings.errors import SettingsError
from tui.settings.model import ENVIRONMENTS
from tui.sync.terminal_text import escape_lines

# What a shell reports for a process killed by SIGPIPE: `attentive-console runs | head` ending early
# is the reader's choice, not one of our outcomes (1 stays "rejections above the threshold").
BROKEN_PIPE = 128 + signal.SIGPIPE

COMMAND_MODULES = (
    console_cmd,
    simulator_cmd,
    config_cmd,
    credentials_cmd,
    destinations_cmd,
    send_cmd,
    runs_cmd,
    jobs_cmd,
    promote_cmd,
    ledger_cmd,
    history_cmd,
    bench_cmd,
    segment_file_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attentive-console",
        description="Send customer profile attributes to Attentive, from a console or headless.",
    )
    parser.add_argument("--config", metavar="DIR",
                        help="config directory (default: $ATTENTIVE_CONSOLE_CONFIG, ./config, or the user config directory)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="data directory for history and simulator state "
                             "(default: $ATTENTIVE_CONSOLE_DATA or the user data directory)")
    parser.add_argument("--secrets", metavar="FILE", help="secrets file (default: secrets.toml in the user config directory)")
    parser.add_argument("--read-only", action="store_true", help="refuse every change")
    parser.add_argument("--env", dest="console_env", choices=ENVIRONMENTS,
                        help="environment the console opens (default: sandbox); other commands take --env after their name")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, operator: str | None = None) -> int:
    """Entry point. `operator` is the test hook to act as a chosen OS login; there is no flag or
    environment variable for it, so an operator cannot make themselves admin."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.ctx = workspace_from_args(args, operator=operator)
    handler = getattr(args, "handler", None)
    if handler is None:
        handler = console_cmd.run
    if args.console_env and handler is not console_cmd.run:
        parser.error("--env before the command only opens the console; write it after: "
                     f"{args.command} ... --env {args.console_env}")
    if handler is console_cmd.run and not all(s is not None and s.isatty() for s in (sys.stdin, sys.stdout)):
        # Textual would wait for keys that never come (cron, `</dev/null`, a pipe): say so instead.
        print(f"error: the console needs a terminal (stdin and stdout are not one here); headless commands: "
              f"{', '.join(_headless_commands(parser))} (see `attentive-console COMMAND --help`)", file=sys.stderr)
        return USAGE
    try:
        return handler(args)
    except sqlite3.DatabaseError as err:  # any command, any depth: a damaged, locked or full history
        print(f"error: {history_problem(args.ctx.data_dir, err)}", file=sys.stderr)
        return USAGE
    except SettingsError as err:  # a handler without @guarded still never shows a traceback
        print(f"error: {escape_lines(str(err))}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return CANCELLED


def _headless_commands(parser: argparse.ArgumentParser) -> list[str]:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [name for name in commands.choices if name != "console"]


def entry() -> None:
    try:
        code = main()
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit where it cannot be caught
    except BrokenPipeError:
        # Python's "Note on SIGPIPE": point the standard streams at /dev/null so that the final
        # flush at exit does not raise again, then leave quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
        code = BROKEN_PIPE
    sys.exit(code)
