"""The default command: open the Textual console. Textual is imported only here, inside the handler,
so headless commands never load it."""
from __future__ import annotations

import argparse

from tui.settings.model import ENVIRONMENTS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("console", help="open the console (the default command)")
    add_env_argument(parser)
    parser.set_defaults(handler=run)


def add_env_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", choices=ENVIRONMENTS, help="environment to open (default: sandbox)")


def run(args: argparse.Namespace) -> int:
    from tui.app.launch import run_console

    ctx = args.ctx
    return run_console(environment=getattr(args, "env", None) or args.console_env or "sandbox", config_dir=ctx.config_dir,
                       data_dir=ctx.data_dir, secrets_file=ctx.secrets_file, operator=ctx.operator,
                       read_only=ctx.read_only)
