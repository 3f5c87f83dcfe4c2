"""The simulator as a program of its own: its options, and serving until Ctrl-C or SIGTERM.

Used by `attentive-console simulator` and by `python -m tui.attentive.simulator` (which the
benchmarks start as a separate process, see process.py).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from pathlib import Path
from typing import TextIO

from tui.attentive import endpoints
from tui.attentive.durations import DurationError, format_duration, parse_duration_range
from tui.attentive.endpoints import Permission
from tui.attentive.secret import mask
from tui.attentive.simulator.config import KeySpec, SimulatorConfig, default_limits
from tui.attentive.simulator.demo import DEMO_ENUM_ATTRIBUTES, DEMO_KEY_SPECS, DEMO_TEXT_ATTRIBUTES
from tui.attentive.simulator.faults import FAULT_SPEC_HELP, FaultSpec, FaultSpecError, parse_fault_spec
from tui.attentive.simulator.server import start_server
from tui.attentive.simulator.state import StateFileError

READY_PREFIX = "Attentive simulator listening on "
DESCRIPTION = "Run the Attentive simulator: Attentive's API on your machine, for demos, tests and benchmarks."
EPILOG = f"""\
--key KEY               a key with every permission
--key KEY=attributes    only the listed permissions (comma-separated): attributes (Custom Attributes),
                        subscriptions (Subscribers), events (Custom Events), ecommerce (eCommerce),
                        segments (Segments)
All --key keys belong to one simulated company. Without --key the public demo keys serve
(two companies: Northwind Outfitters (Sandbox) and Northwind Outfitters).

Attribute types are fixed by the first value sent for a name, per company: "24" or 24 -> Number,
"true"/"TRUE" -> Boolean, "2024-01-31" (ISO-8601) -> Date, anything else -> String. Later values
must read as that type (a String attribute takes any value); --enum attributes take only their values.

{FAULT_SPEC_HELP}

Example: --seed 7 --faults 500=0.05,503=0.02,429burst=0.01:20,latency=5-50ms,drop=0.01,slow=0.01
Example: --seed 7 --job-delay 30s-2m --faults jobfail=0.1,nourl=0.05,job404=10s,u2028=0.1
"""


class StartError(Exception):
    """The simulator cannot start (busy port, unreadable state file); the message says why."""


def _key(text: str) -> tuple[str, frozenset[Permission]]:
    key, sep, listed = text.partition("=")
    if not key:
        raise argparse.ArgumentTypeError(f"{text!r}: the key is empty; write --key KEY or --key KEY=attributes")
    if not sep:
        return key, frozenset(Permission)
    names = [n.strip() for n in listed.split(",") if n.strip()]
    known = {p.value: p for p in Permission}
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{mask(key)}={listed}: unknown permission {', '.join(unknown) or '(none given)'}; "
            f"use {', '.join(known)}"
        )
    return key, frozenset(known[n] for n in names)


def _faults(text: str) -> FaultSpec:
    try:
        return parse_fault_spec(text)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _enum(text: str) -> tuple[str, frozenset[str]]:
    name, sep, values = text.partition("=")
    allowed = frozenset(v.strip() for v in values.split(",") if v.strip())
    if not sep or not name.strip() or not allowed:
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=VALUE1,VALUE2 (like 'Loyalty Tier=Gold,Silver')")
    return name.strip(), allowed


def _limit(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    if name not in endpoints.BY_NAME or not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write ENDPOINT=N with N >= 1 and ENDPOINT one of {', '.join(endpoints.BY_NAME)}"
        )
    return name, int(value)


def _delay(text: str) -> tuple[float, float]:
    try:
        return parse_duration_range(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to listen on; 0 picks a free one (default 8787)")
    parser.add_argument("--key", type=_key, action="append", default=[], metavar="KEY[=PERMS]",
                        help="an API key to accept, with its permissions (repeatable; default: the demo keys)")
    parser.add_argument("--seed", type=int, help="seed of the faults and of the job durations, so a run replays")
    parser.add_argument("--faults", type=_faults, default=FaultSpec(), metavar="SPEC",
                        help="faults to inject (see below)")
    parser.add_argument("--state", type=Path, metavar="FILE",
                        help="keep profiles in FILE (JSON) so they survive a restart (default: in memory)")
    parser.add_argument("--job-delay", type=_delay, default=(0.2, 0.2), metavar="DURATION",
                        help="how long a bulk job takes, PENDING then IN_PROGRESS then COMPLETED: a duration "
                             "or a range drawn per job, like 90s, 2h or 30s-2m (default 0.2s)")
    parser.add_argument("--no-rate-limits", action="store_true",
                        help="do not enforce Attentive's per-endpoint limits (benchmarks)")
    parser.add_argument("--limit", type=_limit, action="append", default=[], metavar="ENDPOINT=N",
                        help="override one endpoint's requests per second (repeatable)")
    parser.add_argument("--enum", type=_enum, action="append", default=[], metavar="NAME=V1,V2",
                        help="an enumerated attribute and its only accepted values (repeatable)")
    parser.add_argument("--text-attribute", action="append", default=[], metavar="NAME",
                        help="an attribute declared as text before its first value, so a value like "
                             "+14155550101 is not typed a number (repeatable)")


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    if args.key:
        keys = {
            key: KeySpec("Simulated Company", f"simulator key {number}", permissions)
            for number, (key, permissions) in enumerate(args.key, start=1)
        }
        enums = dict(args.enum)
        texts = frozenset(args.text_attribute)
    else:
        keys = dict(DEMO_KEY_SPECS)
        enums = {**DEMO_ENUM_ATTRIBUTES, **dict(args.enum)}
        texts = DEMO_TEXT_ATTRIBUTES | frozenset(args.text_attribute)
    return SimulatorConfig(
        keys=keys,
        seed=args.seed,
        faults=args.faults,
        state_file=args.state,
        bulk_job_delay_s=args.job_delay[0],
        bulk_job_delay_max_s=args.job_delay[1],
        rate_limits=not args.no_rate_limits,
        enum_attributes=enums,
        text_attributes=texts,
        limits={**default_limits(), **dict(args.limit)},
    )


def _describe(config: SimulatorConfig) -> list[str]:
    lines = []
    for key, spec in config.keys.items():
        permissions = ", ".join(sorted(p.label for p in spec.permissions)) or "none"
        lines.append(f"  key {mask(key)}  {spec.company_name}  ({permissions})")
    low, high = config.bulk_job_delay_range_s
    took = format_duration(low) if low == high else f"{format_duration(low)}-{format_duration(high)}"
    lines.append(f"  rate limits {'on' if config.rate_limits else 'off'}; bulk jobs complete after {took}")
    if config.faults.active or config.faults.jobs_active:
        lines.append(f"  faults on (seed {config.seed})")
    lines.append(f"  state: {config.state_file or 'in memory'}")
    return lines


async def serve(config: SimulatorConfig, host: str, port: int, out: TextIO = sys.stdout) -> None:
    """Serve until SIGINT/SIGTERM, then stop and save the state. The first line printed is
    READY_PREFIX + the URL (process.py waits for it)."""
    try:
        runner, url = await start_server(config, host, port)
    except StateFileError as exc:
        raise StartError(str(exc)) from None
    except OSError as exc:
        raise StartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port") from None
    # This process is the simulator's alone: the state is a large heap of long-lived objects that
    # the default collector rescans every few hundred allocations, which halves bulk throughput.
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        print(READY_PREFIX + url, file=out, flush=True)
        print("\n".join(_describe(config)), file=out, flush=True)
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
    print("simulator stopped" + (f"; state saved to {config.state_file}" if config.state_file else ""), file=out, flush=True)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run from parsed options; returns 0, or 2 with a message when it cannot start."""
    try:
        asyncio.run(serve(config_from_args(args), args.host, args.port, out))
    except (StartError, StateFileError) as exc:  # StateFileError here: saving at shutdown failed
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser(prog: str = "python -m tui.attentive.simulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return parser
