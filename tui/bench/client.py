"""`attentive-console bench client`: what the Attentive client costs over a bare aiohttp loop.

Starts the simulator in a separate process with rate limits off (so neither side is paced and the
simulator does not share this process's event loop), then sends one workload two ways at the same
concurrency: through AttentiveClient (body building, pacing bookkeeping, classification, stats) and
through a bare aiohttp loop that posts the same bodies. Prints requests/s and profiles/s for v1
custom attributes and for bulk (256 profiles per call), and the ratio client / bare (target >= 0.8).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from tui.attentive import endpoints, payloads
from tui.attentive.client import AttentiveClient
from tui.attentive.pacing import PacingRegistry
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.process import SimulatorProcessError, start_simulator_process
from tui.core.exit_codes import CONNECTION, OK, OVER_THRESHOLD

TARGET_RATIO = 0.8
BENCH_KEY = ApiKey("bench-client-key-0001")  # a simulator-only key, not a secret
UNPACED = {spec.name: math.inf for spec in endpoints.ALL}
COMPACT = (",", ":")  # the client's separators: both sides send the same bytes
WARMUP_REQUESTS = 2  # per worker, untimed: connections open and code paths warm before timing


@dataclass(frozen=True)
class Workload:
    name: str
    endpoint: str              # EndpointSpec.name
    bodies: list[Any]          # v1: (user, properties); bulk: list of items
    profiles_per_request: int


@dataclass(frozen=True)
class Measurement:
    requests: int
    failures: int
    seconds: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def run(args: argparse.Namespace) -> int:
    print("Starting the simulator in a separate process (rate limits off) ...", flush=True)
    try:
        with start_simulator_process(["--no-rate-limits", "--job-delay", "0", "--key", BENCH_KEY.value]) as sim:
            results = asyncio.run(_measure(sim.url, args))
    except SimulatorProcessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CONNECTION
    failures = sum(m.failures for _, client, bare in results for m in (client, bare))
    below = _print_table(results, args.concurrency, args.rounds)
    if failures:
        print(f"error: {failures} requests failed; the figures above are not a clean measurement", file=sys.stderr)
        return OVER_THRESHOLD
    return OVER_THRESHOLD if args.check and below else OK


async def _measure(url: str, args: argparse.Namespace) -> list[tuple[Workload, Measurement, Measurement]]:
    workloads = [_v1_workload(args.v1_requests), _bulk_workload(args.bulk_requests)]
    results: list[tuple[Workload, Measurement, Measurement]] = []
    async with AttentiveClient(
        url, BENCH_KEY, rate_limits=UNPACED, connection_limit=args.concurrency, pacing=PacingRegistry()
    ) as client, aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=args.concurrency, limit_per_host=args.concurrency, keepalive_timeout=30)
    ) as session:
        for workload in workloads:
            bare_send = _bare_sender(session, url, workload)
            client_send = _client_sender(client, workload)
            # Rounds alternate bare and client and each side keeps its best: other load on the
            # machine (the simulator shares its cores) then penalises neither side more than the other.
            bare_runs, client_runs = [], []
            for _ in range(args.rounds):
                bare_runs.append(await _timed(bare_send, workload.bodies, args.concurrency))
                client_runs.append(await _timed(client_send, workload.bodies, args.concurrency))
            results.append((workload, _best(client_runs), _best(bare_runs)))
    return results


def _best(runs: list[Measurement]) -> Measurement:
    fastest = min(runs, key=lambda m: m.seconds)
    return Measurement(fastest.requests, sum(m.failures for m in runs), fastest.seconds)


def _v1_workload(count: int) -> Workload:
    bodies = [({"email": f"bench-{i}@example.com"}, {"tier": "gold", "visits": i, "vip": i % 2 == 0}) for i in range(count)]
    return Workload("v1 custom attributes", endpoints.CUSTOM_ATTRIBUTES.name, bodies, 1)


def _bulk_workload(count: int) -> Workload:
    size = endpoints.BULK_MAX_USERS
    bodies = [
        [payloads.bulk_user_item({"email": f"bulk-{n}-{i}@example.com"}, {"tier": "gold", "visits": i}) for i in range(size)]
        for n in range(count)
    ]
    return Workload(f"bulk ({size} per call)", endpoints.BULK_ATTRIBUTES.name, bodies, size)


Sender = Callable[[Any], Awaitable[bool]]


def _client_sender(client: AttentiveClient, workload: Workload) -> Sender:
    if workload.endpoint == endpoints.CUSTOM_ATTRIBUTES.name:
        async def send(body: Any) -> bool:
            return (await client.post_custom_attributes(*body)).ok
    else:
        async def send(body: Any) -> bool:
            return (await client.post_bulk_attributes(body)).ok
    return send


def _bare_sender(session: aiohttp.ClientSession, url: str, workload: Workload) -> Sender:
    """The least a caller could do: serialise, post, read the answer, check the status."""
    headers = {"Authorization": BENCH_KEY.authorization(), "Content-Type": "application/json"}
    if workload.endpoint == endpoints.CUSTOM_ATTRIBUTES.name:
        target = url + endpoints.CUSTOM_ATTRIBUTES.path

        def encode(body: Any) -> bytes:
            user, properties = body
            return json.dumps({"user": user, "properties": properties}, separators=COMPACT).encode()
    else:
        target = url + endpoints.BULK_ATTRIBUTES.path

        def encode(body: Any) -> bytes:
            return json.dumps({"users": body}, separators=COMPACT).encode()

    async def send(body: Any) -> bool:
        async with session.post(target, data=encode(body), headers=headers) as response:
            await response.read()
            return response.status < 300

    return send


async def _timed(send: Sender, bodies: Sequence[Any], concurrency: int) -> Measurement:
    """Send every body with `concurrency` workers; the clock runs only over the timed part."""
    await _drive(send, list(bodies[: concurrency * WARMUP_REQUESTS]), concurrency)
    started = time.perf_counter()
    failures = await _drive(send, list(bodies), concurrency)
    return Measurement(len(bodies), failures, time.perf_counter() - started)


async def _drive(send: Sender, bodies: list[Any], concurrency: int) -> int:
    queue = iter(bodies)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for body in queue:  # a shared iterator: each body goes to exactly one worker
            if not await send(body):
                failures += 1

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(bodies)) or 1)))
    return failures


def _print_table(results: list[tuple[Workload, Measurement, Measurement]], concurrency: int, rounds: int) -> bool:
    """Print the figures; returns True when a ratio is below the target."""
    print(f"\nClient vs bare aiohttp loop, {concurrency} in flight, best of {rounds} alternating rounds,")
    print("simulator in a separate process with rate limits off\n")
    header = ("workload", "requests", "client req/s", "bare req/s", "client profiles/s", "bare profiles/s", "client/bare")
    rows = []
    below = False
    for workload, client, bare in results:
        ratio = client.requests_per_s / bare.requests_per_s if bare.requests_per_s else 0.0
        below = below or ratio < TARGET_RATIO
        rows.append((
            workload.name,
            f"{client.requests:,}",
            f"{client.requests_per_s:,.0f}",
            f"{bare.requests_per_s:,.0f}",
            f"{client.requests_per_s * workload.profiles_per_request:,.0f}",
            f"{bare.requests_per_s * workload.profiles_per_request:,.0f}",
            f"{ratio:.2f}",
        ))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    verdict = "met" if not below else "NOT met"
    print(f"\nTarget client/bare >= {TARGET_RATIO}: {verdict}.")
    print(
        f"For scale, Attentive's published ceilings: {endpoints.CUSTOM_ATTRIBUTES.limit_per_second} profiles/s (v1), "
        f"{endpoints.BULK_ATTRIBUTES.limit_per_second * endpoints.BULK_MAX_USERS:,} profiles/s (bulk)."
    )
    return below

