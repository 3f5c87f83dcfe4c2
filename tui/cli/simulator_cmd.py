"""`attentive-console simulator`: run the Attentive simulator on its own until Ctrl-C/SIGTERM."""
from __future__ import annotations

import argparse

from tui.attentive.simulator import standalone
from tui.core.exit_codes import OK, USAGE


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulator",
        help="run the Attentive simulator (Attentive's API on loopback, with faults on demand)",
        description=standalone.DESCRIPTION,
        epilog=standalone.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    standalone.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return OK if standalone.run(args) == 0 else USAGE
