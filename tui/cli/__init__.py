"""The command line: headless commands and launching the console.

Each command group lives in its own module with `register(subparsers)`; handlers take the parsed
namespace and return an exit code (see exit_codes).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui.cli import (
    bench_cmd,
    config_cmd,
    console_cmd,
    credentials_cmd,
    destinations_cmd,
    jobs_cmd,
    ledger_cmd,
    promote_cmd,
    runs_cmd,
    send_cmd,
    simulator_cmd,
)
from tui.cli.context import CliContext
from tui.settings.model import ENVIRONMENTS

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
    bench_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attentive-console",
        description="Send customer profile attributes to Attentive, from a console or headless.",
    )
    parser.add_argument("--config", metavar="DIR", help="config directory (default: $ATTENTIVE_CONSOLE_CONFIG, ./config, or the user config directory)")
    parser.add_argument("--data-dir", metavar="DIR", help="data directory for history and simulator state (default: $ATTENTIVE_CONSOLE_DATA or the user data directory)")
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
    args.ctx = CliContext.from_args(args, operator=operator)
    handler = getattr(args, "handler", None)
    if handler is None:
        handler = console_cmd.run
    if args.console_env and handler is not console_cmd.run:
        parser.error(f"--env before the command only opens the console; write it after: {args.command} ... --env {args.console_env}")
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    sys.exit(main())
