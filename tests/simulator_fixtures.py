"""The Attentive simulator for any test, in the three ways a test can need it (loaded from conftest.py).

All three serve the same keys (TEST_KEYS) with the same defaults: bulk jobs of no duration (each
is PENDING for jobs.MIN_PENDING_S, 50ms, after its 202, then COMPLETED), "Phone Number" a text
attribute (the tests' destinations send phones in it, as demo.py does), rate limits on, no faults.

In the test's own event loop (async tests):
    simulator          one on 127.0.0.1:<free port>.
                       -> SimulatorHandle: .url, .full_key, .attributes_key, .subscriptions_key,
                          .other_company_key, .headers(key), .sim (the Simulator: .state, .jobs)
                          and `await .call("POST", "/v1/attributes/custom", key=..., json=...)`
                          -> Reply(status, headers, text, .json()) for raw HTTP checks.
    start_simulator    async factory for one with other settings; keyword arguments are
                       SimulatorConfig fields: `await start_simulator(faults=parse_fault_spec(
                       "500=0.2"), seed=7, bulk_job_delay_s=0.5, rate_limits=False,
                       limits={"custom-attributes": 5}, state_file=tmp_path / "s.json")`.
                       Every simulator it starts is stopped (and its state saved) at teardown;
                       `await handle.stop()` stops one earlier, e.g. to restart on the same state.
    JobClock           a virtual clock for job time: `clock = JobClock()`, `start_simulator(
                       clock=clock, bulk_job_delay_s=60)`, then `clock.advance(30)`; no test sleeps.

In a thread of this process (synchronous callers: the CLI in-process, which runs its own loop):
    thread_simulator   fixture -> RunningSimulator (.url), stopped at teardown.
    simulator_thread   `with simulator_thread(rate_limits=False) as running:` the same with
                       other SimulatorConfig fields.

In a process of its own (CLI subprocesses, tests that must not share this process's CPU):
    sim_process        module-scoped fixture -> SimulatorProcess (.url).
    simulator_process  `with simulator_process("--limit", "bulk=20", job_delay="0.1s-1s") as sim:`
                       the same with other options of `python -m tui.attentive.simulator`.
    The simulator's command line puts every --key in one company ("Simulated Company", each key
    its own application), so this one serves PROCESS_KEYS: TEST_KEYS less the other company's key.

Keys (see TEST_KEYS): full = every permission; attributes = Custom Attributes only;
subscriptions = Subscribers only; other_company = every permission, a second company.
"""
from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from multidict import CIMultiDictProxy

from tui.attentive.endpoints import Permission
from tui.attentive.simulator.config import ALL_PERMISSIONS, KeySpec, SimulatorConfig
from tui.attentive.simulator.embedded import RunningSimulator, start_in_thread
from tui.attentive.simulator.faults import FaultInjector, FaultKind, parse_fault_spec
from tui.attentive.simulator.jobs import BulkJob
from tui.attentive.simulator.process import SimulatorProcess, start_simulator_process
from tui.attentive.simulator.server import SIMULATOR, Simulator, start_server

FULL_KEY = "test-full-key-0001"
ATTRIBUTES_KEY = "test-attributes-key-0002"
SUBSCRIPTIONS_KEY = "test-subscriptions-key-0003"
OTHER_COMPANY_KEY = "test-other-company-key-0004"

TEST_KEYS: dict[str, KeySpec] = {
    FULL_KEY: KeySpec("Test Company", "tests"),
    ATTRIBUTES_KEY: KeySpec("Test Company", "tests (attributes only)", frozenset({Permission.ATTRIBUTES})),
    SUBSCRIPTIONS_KEY: KeySpec("Test Company", "tests (subscriptions only)", frozenset({Permission.SUBSCRIPTIONS})),
    OTHER_COMPANY_KEY: KeySpec("Other Test Company", "tests"),
}
PROCESS_KEYS = {key: spec for key, spec in TEST_KEYS.items() if spec.company_name == TEST_KEYS[FULL_KEY].company_name}
TEXT_ATTRIBUTES = frozenset({"Phone Number"})


def simulator_config(**overrides: Any) -> SimulatorConfig:
    """The tests' simulator: TEST_KEYS, jobs of no duration, "Phone Number" text; overrides are
    SimulatorConfig fields."""
    settings: dict[str, Any] = {"keys": TEST_KEYS, "bulk_job_delay_s": 0.0, "text_attributes": TEXT_ATTRIBUTES}
    return SimulatorConfig(**{**settings, **overrides})


def process_arguments(*options: str, job_delay: str = "0") -> list[str]:
    """simulator_config() as `python -m tui.attentive.simulator` options, then `options`."""
    keys = [f"--key={key}" if spec.permissions == ALL_PERMISSIONS
            else f"--key={key}=" + ",".join(sorted(p.value for p in spec.permissions))
            for key, spec in PROCESS_KEYS.items()]
    texts = [f"--text-attribute={name}" for name in sorted(TEXT_ATTRIBUTES)]
    return [*keys, *texts, "--job-delay", job_delay, *options]


class JobClock:
    """Monotonic seconds that move only when told (SimulatorConfig.clock)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class SimulatorHandle:
    url: str
    runner: web.AppRunner = field(repr=False)
    full_key: str = FULL_KEY
    attributes_key: str = ATTRIBUTES_KEY
    subscriptions_key: str = SUBSCRIPTIONS_KEY
    other_company_key: str = OTHER_COMPANY_KEY
    stopped: bool = False

    @property
    def sim(self) -> Simulator:
        return self.runner.app[SIMULATOR]

    @staticmethod
    def headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    async def call(
        self, method: str, path: str, *, key: str | None = FULL_KEY, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Reply:
        """One raw HTTP request (key=None sends no Authorization header); kwargs go to aiohttp."""
        headers = {**(self.headers(key) if key is not None else {}), **(headers or {})}
        async with aiohttp.ClientSession() as session:
            async with session.request(method, self.url + path, headers=headers, **kwargs) as response:
                return Reply(response.status, response.headers, await response.text())

    def run_jobs(self) -> None:
        """Every bulk job accepted so far runs now, due or not: the state as Attentive will hold it."""
        self.sim.api.settle_due(math.inf)

    def job_run(self, job_id: str) -> BulkJob:
        """The bulk job as it is once Attentive has run it (run_jobs)."""
        self.run_jobs()
        job = self.sim.jobs.get(job_id)
        assert job is not None
        return job

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()


StartSimulator = Callable[..., Awaitable[SimulatorHandle]]


@pytest_asyncio.fixture
async def start_simulator() -> AsyncIterator[StartSimulator]:
    handles: list[SimulatorHandle] = []

    async def start(**overrides: Any) -> SimulatorHandle:
        runner, url = await start_server(simulator_config(**overrides))
        handle = SimulatorHandle(url, runner)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        await handle.stop()


@pytest_asyncio.fixture
async def simulator(start_simulator: StartSimulator) -> SimulatorHandle:
    return await start_simulator()


@contextmanager
def simulator_thread(**overrides: Any) -> Iterator[RunningSimulator]:
    running = start_in_thread(simulator_config(**overrides))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def thread_simulator() -> Iterator[RunningSimulator]:
    with simulator_thread() as running:
        yield running


@contextmanager
def simulator_process(*options: str, job_delay: str = "0") -> Iterator[SimulatorProcess]:
    with start_simulator_process(process_arguments(*options, job_delay=job_delay)) as sim:
        yield sim


@pytest.fixture(scope="module")
def sim_process() -> Iterator[SimulatorProcess]:
    with simulator_process() as sim:
        yield sim


def seed_starting(spec: str, kinds: list[FaultKind]) -> int:
    """A simulator seed whose first fault decisions for `spec` are `kinds` (the stream replays from
    its seed), for tests that need one fault exactly where they look."""
    fault_spec = parse_fault_spec(spec)
    for seed in range(1000):
        injector = FaultInjector(fault_spec, seed)
        if [injector.decide().kind for _ in kinds] == kinds:
            return seed
    raise AssertionError(f"no seed in 0..999 starts {kinds}")
