"""`attentive-console bench client|send|console`: measure the product on this machine.

Each benchmark lives with its layer and is imported only when it runs, so the CLI never imports
Textual: tui.bench.client (the Attentive client), tui.bench.send (the send pipeline) and
tui.app.bench (the console). `bench client` options are declared here; the options of `bench send`
and `bench console` are passed through untouched as `args.bench_args` for those modules to parse
(so `attentive-console bench send --help` is theirs to answer).
"""
from __future__ import annotations

import argparse
import importlib
from typing import Any

# target -> (module, one-line description); the module has run(args) -> exit code.
TARGETS = {
    "client": ("tui.bench.client", "requests/s and profiles/s through the Attentive client vs a bare aiohttp loop"),
    "send": ("tui.bench.send", "the send pipeline end to end against the simulator"),
    "console": ("tui.app.bench", "the console's responsiveness while a send runs"),
}


class _TargetParser(argparse.ArgumentParser):
    """The parser of one bench target. A pass-through one reads nothing itself: every token after
    the target goes to args.bench_args, for the benchmark's own parser (its --help included)."""

    def __init__(self, *args: Any, passthrough: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.passthrough = passthrough

    def parse_known_args(self, args=None, namespace=None):
        if not self.passthrough:
            return super().parse_known_args(args, namespace)
        namespace = namespace if namespace is not None else argparse.Namespace()
        for name, value in self._defaults.items():
            setattr(namespace, name, value)
        namespace.bench_args = list(args or [])
        return namespace, []


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench",
        help="measure this machine: client, send pipeline, console",
        description="Benchmarks print figures as ratios against a baseline measured in the same run.",
    )
    targets = parser.add_subparsers(dest="bench_target", metavar="TARGET", required=True, parser_class=_TargetParser)
    client = targets.add_parser("client", help=TARGETS["client"][1], description=TARGETS["client"][1])
    _add_client_arguments(client)
    client.set_defaults(handler=run)
    for name in ("send", "console"):
        passthrough = targets.add_parser(name, help=TARGETS[name][1], add_help=False, passthrough=True)
        passthrough.set_defaults(handler=run)


def _add_client_arguments(parser: argparse.ArgumentParser) -> None:
    # Declared here rather than imported from tui.bench.client, so building the parser for every
    # command does not import aiohttp and the client.
    parser.add_argument("--v1-requests", type=_positive, default=2000, metavar="N",
                        help="v1 custom-attribute calls per side and round (default 2000)")
    parser.add_argument("--bulk-requests", type=_positive, default=30, metavar="N",
                        help="bulk calls of 256 profiles per side and round (default 30)")
    parser.add_argument("--concurrency", type=_positive, default=32, metavar="N",
                        help="requests in flight, the same for both sides (default 32)")
    parser.add_argument("--rounds", type=_positive, default=3, metavar="N",
                        help="alternating bare/client rounds; each side keeps its best (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a client/bare ratio is below 0.8")


def run(args: argparse.Namespace) -> int:
    module_name, _ = TARGETS[args.bench_target]
    module = importlib.import_module(module_name)
    return module.run(args)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value
