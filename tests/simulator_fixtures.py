"""Fixtures that run the Attentive simulator for any test (loaded from conftest.py).

    simulator          a running simulator in the test's own event loop on 127.0.0.1:<free port>,
                       default limits, rate limits on, no faults, bulk jobs of no duration: each
                       is PENDING for jobs.MIN_PENDING_S (50ms) after its 202, then COMPLETED.
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

Keys (see TEST_KEYS): full = every permission; attributes = Custom Attributes only;
subscriptions = Subscribers only; other_company = every permission, a second company.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web
from multidict import CIMultiDictProxy

from tui.attentive.endpoints import Permission
from tui.attentive.simulator.config import KeySpec, SimulatorConfig
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

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()


StartSimulator = Callable[..., Awaitable[SimulatorHandle]]


@pytest_asyncio.fixture
async def start_simulator() -> AsyncIterator[StartSimulator]:
    handles: list[SimulatorHandle] = []

    async def start(**overrides: Any) -> SimulatorHandle:
        # "Phone Number" is declared text, as the tests' destinations send phones in it (see demo.py).
        settings: dict[str, Any] = {"keys": TEST_KEYS, "bulk_job_delay_s": 0.0,
                                    "text_attributes": frozenset({"Phone Number"})}
        settings.update(overrides)
        runner, url = await start_server(SimulatorConfig(**settings))
        handle = SimulatorHandle(url, runner)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        await handle.stop()


@pytest_asyncio.fixture
async def simulator(start_simulator: StartSimulator) -> SimulatorHandle:
    return await start_simulator()
