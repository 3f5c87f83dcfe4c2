"""What the `credentials` and `destinations` command groups share: how an action's parser is set up,
and how a change that tested a connection first and saved nothing is reported."""
from __future__ import annotations

import argparse
import sys

from tui.cli.config_cmd import Handler, add_env_option
from tui.core.exit_codes import CONNECTION, USAGE
from tui.settings.changes import NotSaved
from tui.settings.connection import ConnectionResult, Failure


def action_parser(commands: argparse._SubParsersAction, action: str, help: str, handler: Handler, *,
                  named: bool = True, json: bool = False) -> argparse.ArgumentParser:
    """One ACTION of a group: `ACTION [NAME] [--env E] [--json]`, run by `handler`."""
    parser = commands.add_parser(action, help=help)
    if named:
        parser.add_argument("name")
    add_env_option(parser)
    if json:
        parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=handler)
    return parser


def failure_exit_code(result: ConnectionResult) -> int:
    """A key that cannot be resolved is a configuration error (2); anything else failed to connect (3)."""
    return USAGE if result.failure is Failure.NO_KEY else CONNECTION


def not_saved(failed: NotSaved, hint: str = "") -> int:
    """Says why a change that tests a connection first saved nothing; returns the exit code for it."""
    print(f"error: {failed.result.summary}\nnothing was saved" + (f" ({hint})" if hint else ""), file=sys.stderr)
    return failure_exit_code(failed.result)
