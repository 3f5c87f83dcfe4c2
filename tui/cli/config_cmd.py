"""`attentive-console config validate|paths`, and the helpers the settings command groups share
(environment option, error handling, the operator)."""
from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import Any

from tui.cli.exit_codes import OK, USAGE
from tui.settings.access import Operator
from tui.settings.errors import ConfigError, InvalidChange, SettingsError
from tui.settings.loader import environment_path, load_environment
from tui.settings.model import ENVIRONMENTS, Environment
from tui.settings.secrets import SecretsFile

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
                print(f"  {problem}", file=sys.stderr)
            return USAGE
        except SettingsError as err:
            message, fix = str(err), getattr(err, "fix", "")
            print(f"error: {message}" + (f" ({fix})" if fix and fix not in message else ""), file=sys.stderr)
            return USAGE

    return run


def operator_of(args: argparse.Namespace, environment: Environment) -> Operator:
    return Operator.of(args.ctx.operator, environment.access, read_only=args.ctx.read_only)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False))


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for row in [headers, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


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
                print(f"  {problem}")
            continue
        print(f"{name}: OK ({environment_path(args.ctx.config_dir, name)}: {len(environment.credentials)} "
              f"credential(s), {len(environment.destinations)} destination(s))")
        if any(c.api_key_ref.startswith("secret:") for c in environment.credentials.values()):
            try:
                SecretsFile(args.ctx.secrets_file).check_permissions()
            except SettingsError as err:
                failed = True
                print(f"  {err}")
    return USAGE if failed else OK


def run_paths(args: argparse.Namespace) -> int:
    ctx = args.ctx
    print(f"config   {ctx.config_dir}")
    print(f"data     {ctx.data_dir}")
    print(f"secrets  {ctx.secrets_file}")
    print(f"operator {ctx.operator}{' (read-only)' if ctx.read_only else ''}")
    return OK
