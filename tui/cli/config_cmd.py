"""`attentive-console config validate|paths`, and the helpers the command groups share
(environment option, error handling, the operator, tables, confirming by name).

Whatever is printed from files, the history or Attentive goes through `escape_controls`: data never
reaches the terminal as a control sequence."""
from __future__ import annotations

import argparse
import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.core.exit_codes import OK, USAGE
from tui.settings.attribute_types import constant_traps
from tui.settings.errors import ConfigError, InvalidChange, SettingsError
from tui.settings.loader import environment_path, load_environment
from tui.settings.model import ENVIRONMENTS
from tui.settings.paths import history_path
from tui.settings.secrets import SecretsFile
from tui.sync.terminal_text import escape_controls, escape_lines

Handler = Callable[[argparse.Namespace], int]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="check the environment files")
    commands = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    validate = commands.add_parser("validate", help="validate sandbox.toml and production.toml; print every problem")
    validate.set_defaults(handler=run_validate)
    paths = commands.add_parser("paths", help="print the config, data and secrets locations in use")
    paths.set_defaults(handler=run_paths)


# -- helpers for the settings command groups ---------------------------------------------------------
def add_env_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", choices=ENVIRONMENTS, default="sandbox", help="environment (default: sandbox)")


def guarded(handler: Handler) -> Handler:
    """Settings errors become a message on stderr and exit 2, never a traceback."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ConfigError as err:
            header = err.header if isinstance(err, InvalidChange) else "the environment file has problems:"
            print(f"error: {header}", file=sys.stderr)
            for problem in err.problems:
                print(f"  {escape_controls(str(problem))}", file=sys.stderr)
            return USAGE
        except SettingsError as err:
            message, fix = str(err), getattr(err, "fix", "")
            text = message + (f" ({fix})" if fix and fix not in message else "")
            print(f"error: {escape_lines(text)}", file=sys.stderr)  # messages quote names and values from files
            return USAGE

    return run


def history_problem(data_dir: Path, error: sqlite3.DatabaseError) -> str:
    """What a failing history database means for the operator, with the file and the fix."""
    path = history_path(data_dir)
    text = str(error)
    if "locked" in text or "busy" in text:
        return (f"the history {path} stayed locked by another attentive-console process ({text}); "
                "try again when it has finished")
    if "full" in text:
        return f"the history {path} cannot grow: the disk is full ({text}); free space and try again"
    return (f"the history {path} is damaged ({text}); nothing was changed. See what is wrong with "
            "`attentive-console history check`, and restore the file from a backup with every "
            "attentive-console process stopped")


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False))


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Cells are data: escaped, so a control character can neither drive the terminal nor break a row."""
    shown = [[escape_controls(str(cell)) for cell in row] for row in [headers, *rows]]
    widths = [max(len(cell) for cell in column) for column in zip(*shown)]
    for row in shown:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def confirm_by_name(name: str, action: str, *, yes: bool) -> str | None:
    """None once the operator typed `name` on a terminal (or passed --yes); otherwise why not, for
    an exit 2 with nothing changed. Without a terminal there is nobody to ask: scripts pass --yes."""
    if yes:
        return None
    if sys.stdin is None or not sys.stdin.isatty():  # None: started with stdin closed
        return f"confirmation needed, but stdin is not a terminal; pass --yes to {action} from a script"
    # The prompt goes to stderr so that stdout stays the command's output (or one JSON object).
    print(f"Type the destination's name ({name}) to {action}: ", end="", file=sys.stderr, flush=True)
    try:
        typed = input()
    except EOFError:
        typed = ""
    if typed.strip() != name:
        return "the name typed did not match; nothing changed"
    return None


# -- commands ------------------------------------------------------------------------------------------
@guarded
def run_validate(args: argparse.Namespace) -> int:
    failed = False
    for name in ENVIRONMENTS:
        try:
            environment = load_environment(args.ctx.config_dir, name)
        except ConfigError as err:
            failed = True
            print(f"{name}: {len(err.problems)} problem(s)")
            for problem in err.problems:
                print(f"  {escape_controls(str(problem))}")
            continue
        print(f"{name}: OK ({environment_path(args.ctx.config_dir, name)}: {len(environment.credentials)} "
              f"credential(s), {len(environment.destinations)} destination(s))")
        for destination in environment.destinations.values():  # the columns' values: the dry run reads them
            for warning in constant_traps(destination.name, destination.constants, destination.types):
                print(f"  warning: {escape_controls(warning)}")
        if any(c.api_key_ref.startswith("secret:") for c in environment.credentials.values()):
            try:
                SecretsFile(args.ctx.secrets_file).check_permissions()
            except SettingsError as err:
                failed = True
                print(f"  {escape_lines(str(err))}")
    return USAGE if failed else OK


def run_paths(args: argparse.Namespace) -> int:
    ctx = args.ctx
    print(f"config   {ctx.config_dir}")
    print(f"data     {ctx.data_dir}")
    print(f"secrets  {ctx.secrets_file}")
    print(f"operator {ctx.operator}{' (read-only)' if ctx.read_only else ''}")
    return OK
