"""A real HTTP server on loopback that answers from a script: exact statuses, headers, dropped
connections and hangs, for the client's classification and retry tests.

It runs in its own thread and event loop (as the embedded simulator does), so the test's loop holds
only the client's own tasks, which the cancellation tests count.
"""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Step:
    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "respond"          # respond | drop (close the connection unanswered) | hang


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    def __init__(self, default: Step | None = None):
        self.script: deque[Step] = deque()
        self.default = default or Step(200, "{}", {"Content-Type": "application/json"})
        self.seen: list[Seen] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self.hanging = threading.Event()  # set when a request starts hanging

    def add(self, *steps: Step) -> None:
        self.script.extend(steps)

    def start(self) -> "ScriptedServer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        assert self._release is not None and self._runner is not None
        self._release.set()
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        )
        step = self.script.popleft() if self.script else self.default
        if step.action == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if step.action == "hang":
            assert self._release is not None
            self.hanging.set()
            await self._release.wait()
        return web.Response(status=step.status, text=step.body, headers=step.headers)

