"""The simulator as an aiohttp application: keys, rate limits, permissions and faults in front of
the endpoint handlers (api.py), and the state's persistence around the app's life.

Order per request: 401 (no/unknown key) -> 429 (rate limit) -> 403 (permission) -> injected fault
-> the endpoint -> the injected faults that come after it (dropafter, 500after: the request took
effect, its answer is lost or a 500). x-ratelimit-limit and x-ratelimit-remaining are on every answer
of an endpoint.
"""
from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn

from aiohttp import web

from tui.attentive import endpoints
from tui.attentive.simulator.api import KEY_SPEC, AttentiveApi, error
from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.event_routes import EventRoutes
from tui.attentive.simulator.faults import FaultInjector, FaultKind
from tui.attentive.simulator.jobs import JobStore
from tui.attentive.simulator.ratelimit import RateLimiter
from tui.attentive.simulator.rules import AttributeType
from tui.attentive.simulator.state import SimulatorState

SIMULATOR = web.AppKey["Simulator"]("simulator")  # subscripted: Simulator is defined below
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SLOW_CHUNKS = 8
# A bulk POST sees no state; a job's status settles only the jobs due before it.
_SETTLE_THEMSELVES = (endpoints.BULK_ATTRIBUTES, endpoints.BULK_JOB)
SETTLE_BUDGET = 2_048   # records the background settler runs between two looks at the network
SETTLE_IDLE_S = 0.02


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Simulator:
    """One simulator: its config, state, jobs, rate limiter and fault stream."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.state = SimulatorState.load(config.state_file)
        self.state.declared = {name: AttributeType.STRING for name in config.text_attributes}
        self.jobs = JobStore(
            delay_s=config.bulk_job_delay_range_s,
            faults=config.faults,
            seed=config.seed,
            retention_records=config.job_retention_records,
            clock=config.clock or time.monotonic,
            journal=config.state_file.with_name(config.state_file.name + ".jobs.jsonl") if config.state_file else None,
        )
        self.limiter = RateLimiter(enabled=config.rate_limits)
        self.faults = FaultInjector(config.faults, config.seed)
        self.api = AttentiveApi(config, self.state, self.jobs)
        self.events_api = EventRoutes(config, self.state)
        self._stopping = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._settler: asyncio.Task[None] | None = None

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=16 * 1024 * 1024)
        app[SIMULATOR] = self
        app.add_routes(self.api.routes())
        app.add_routes(self.events_api.routes())
        app.on_startup.append(self._start_flusher)
        app.on_cleanup.append(self._shutdown)
        return app

    # -- the request pipeline --------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        spec = endpoints.BY_NAME.get(request.match_info.route.name or "")
        if spec is None:  # the results download and unknown paths: no key, no limits, no faults
            return await handler(request)
        limit = self.config.limit_for(spec.name)
        token = _bearer(request)
        key = self.config.keys.get(token) if token else None
        if token is None or key is None:
            reason = "unknown API key" if token else "missing Authorization: Bearer <API key> header"
            return error(401, reason, _rate_headers(limit, limit))
        decision = self.limiter.take(token, spec.name, limit)
        headers = _rate_headers(limit, decision.remaining)
        if not decision.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after_s)))
            return error(429, f"rate limit of {limit} requests per second exceeded for {spec.path}", headers)
        missing = [p for p in spec.permissions if p not in key.permissions]
        if missing:
            needed = " and ".join(p.label for p in missing)
            return error(
                403, f"the custom app behind this key lacks the {needed} permission needed by {spec.method} {spec.path}",
                headers,
            )
        fault, after = FaultKind.NONE, False
        if self.config.faults.active and (spec is not endpoints.ME or self.config.faults.include_me):
            drawn = self.faults.decide()
            fault, after = drawn.kind, drawn.after
            if drawn.latency_s:
                await asyncio.sleep(drawn.latency_s)
            injected = None if after else self._injected(request, fault, headers, limit)
            if injected is not None:
                return injected
        request[KEY_SPEC] = key
        if spec not in _SETTLE_THEMSELVES:  # what the request reads or changes comes after the jobs due
            self.api.settle_due()
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # e.g. 413 from aiohttp when a body is too large
            exc.headers.update(headers)
            raise
        if after and fault is FaultKind.DROP:
            _drop(request)
        if after and fault is FaultKind.ERROR_500:
            return error(500, "injected fault: internal server error (after the request was applied)", headers)
        response.headers.update(headers)
        if fault is FaultKind.SLOW and isinstance(response, web.Response):
            return await self._trickle(request, response)
        return response

    @staticmethod
    def _injected(request: web.Request, fault: FaultKind, headers: dict[str, str], limit: int) -> web.StreamResponse | None:
        if fault is FaultKind.DROP:
            _drop(request)
        if fault is FaultKind.ERROR_500:
            return error(500, "injected fault: internal server error", headers)
        if fault is FaultKind.ERROR_503:
            return error(503, "injected fault: service unavailable", headers)
        if fault is FaultKind.BURST_429:
            # A storm: no Retry-After, so clients must back off on their own.
            return error(429, "injected fault: too many requests", _rate_headers(limit, 0))
        return None

    async def _trickle(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        """Send the answer's body in pieces spread over the configured duration."""
        body = response.body if isinstance(response.body, bytes) else b""
        pause = self.config.faults.slow_duration_s / _SLOW_CHUNKS
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_length = len(body)
        await stream.prepare(request)
        size = max(1, math.ceil(len(body) / _SLOW_CHUNKS))
        for start in range(0, max(len(body), 1), size):
            await asyncio.sleep(pause)
            await stream.write(body[start : start + size])
        await stream.write_eof()
        return stream

    # -- persistence around the app's life --------------------------------------------------------

    async def _start_flusher(self, app: web.Application) -> None:
        self._settler = asyncio.create_task(self._settle_loop(), name="simulator-job-settler")
        if self.state.path is not None:
            self._flusher = asyncio.create_task(self._flush_loop(), name="simulator-state-flusher")

    async def _settle_loop(self) -> None:
        """Bulk jobs run as they fall due, a budget at a time so requests are answered meanwhile."""
        while True:  # cancelled at shutdown; requests settle what they see, this only spreads the work
            more = self.api.settle_due(budget=SETTLE_BUDGET)
            await asyncio.sleep(0 if more else SETTLE_IDLE_S if self.jobs.unsettled else 0.25)

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.config.flush_interval_s)
            if self._stopping.is_set():
                # _shutdown's save() holds these changes. At interpreter exit (the embedded
                # simulator stops from atexit) the default executor takes no more work.
                return
            lines = self.state.take_pending()
            if lines:
                await loop.run_in_executor(None, self.state.write_journal, lines)

    async def _shutdown(self, app: web.Application) -> None:
        self._stopping.set()
        if self._settler is not None:
            self._settler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._settler
        if self._flusher is not None:
            await self._flusher
        self.state.save()


def _drop(request: web.Request) -> NoReturn:
    if request.transport is not None:
        request.transport.close()
    raise web.HTTPServiceUnavailable()  # never reaches the client: the connection is gone


def _rate_headers(limit: int, remaining: int) -> dict[str, str]:
    return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining)}


def build_app(config: SimulatorConfig) -> web.Application:
    return Simulator(config).build_app()


async def start_server(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, str]:
    """Serve a simulator on host:port (0 = a free port); returns the runner and the base URL.
    `await runner.cleanup()` stops it and saves its state."""
    runner = web.AppRunner(build_app(config), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    return runner, f"http://{shown_host}:{bound_port}"
