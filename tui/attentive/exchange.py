"""One HTTP request and its answer, classified: no pacing and no retries (client.py does those).

`reached_server` is False only when the connection never opened (refused, unreachable, a connect
timeout): then nothing of the request left this machine, and repeating it is safe for any endpoint.
Every other failure may have reached the server, which is what the send-once events turn on.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from tui.attentive import responses
from tui.attentive.endpoints import EndpointSpec
from tui.attentive.outcomes import Outcome

NO_HEADERS: Mapping[str, str] = CIMultiDictProxy(CIMultiDict())


@dataclass(slots=True)
class Exchange:
    outcome: Outcome
    body: str                               # the full response text (outcome.text is truncated)
    headers: Mapping[str, str]
    reached_server: bool


async def request_once(
    session: aiohttp.ClientSession,
    endpoint: EndpointSpec,
    url: URL,
    data: bytes | None,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str],
    *,
    timeout_s: float,
    scrub: Callable[[str], str],
) -> Exchange:
    try:
        # Never followed here: following one with our key could hand it to another host.
        async with session.request(
            endpoint.method, url, data=data, params=params, headers=headers, allow_redirects=False
        ) as response:
            # JSON is UTF-8 (RFC 8259); anything else is only ever shown, so replace what will not decode.
            text = scrub((await response.read()).decode("utf-8", errors="replace"))
            outcome = responses.classify(endpoint, response.status, text, response.headers)
            return Exchange(outcome, text, response.headers, True)
    except aiohttp.ConnectionTimeoutError:
        # Before the TimeoutError clause (it is one): the connection never opened, nothing was sent.
        failure = f"no complete answer within {timeout_s:g}s"
        return Exchange(responses.transport_failure(failure), "", NO_HEADERS, False)
    except TimeoutError:
        failure = f"no complete answer within {timeout_s:g}s"
        return Exchange(responses.transport_failure(failure), "", NO_HEADERS, True)
    except aiohttp.ClientConnectorError as exc:
        failure = f"cannot connect to {url.host}:{url.port}: {exc.os_error.strerror or exc.os_error}"
        return Exchange(responses.transport_failure(failure), "", NO_HEADERS, False)
    except aiohttp.ClientError as exc:
        failure = scrub(f"connection error: {type(exc).__name__}: {exc}")
        return Exchange(responses.transport_failure(failure), "", NO_HEADERS, True)
