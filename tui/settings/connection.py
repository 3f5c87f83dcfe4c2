"""Reaching Attentive with an environment's credential: base URL, key, and "test connection".

Used by `credentials test`, by saving a destination (its credential is tested first), by the
console and by the send engine, so every one of them resolves the embedded simulator, the key and
the failure wording the same way.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import Outcome, OutcomeKind
from tui.attentive.secret import ApiKey
from tui.attentive.segment_calls import list_segments
from tui.settings.errors import SettingsError
from tui.settings.model import Environment
from tui.settings.secrets import credential_of, resolve_api_key

# An address that can hold no profile: reading it back proves the key may read attributes.
PROBE_EMAIL = "connection-test@example.com"
# Events have no read to probe with. A body without the `user` the spec requires is refused by the
# API (400) for a key that may send that kind, 403 for one that may not, and can record nothing:
# the one request this tool sends that does not validate, on purpose.
EVENT_PROBES: dict[str, dict[str, Any]] = {
    "custom-event": {"type": "attentive-console connection test"}, "purchase": {"items": []}}


class Failure(str, Enum):
    NO_KEY = "no-key"              # the key could not be resolved (secret or variable missing): a config error
    UNKNOWN_KEY = "unknown-key"    # 401
    PERMISSION = "permission"      # 403
    UNREACHABLE = "unreachable"    # connection refused, DNS, timeout
    SERVER = "server"              # 5xx, 429 after retries, an answer we cannot read


@dataclass(frozen=True)
class ConnectionTarget:
    credential: str
    base_url: str
    api_key: ApiKey
    environment: str = "sandbox"   # named in the hints, so the fix is a command that works as written


@dataclass(frozen=True)
class ConnectionResult:
    credential: str
    base_url: str
    failure: Failure | None = None
    reason: str = ""               # what went wrong and what to do, for an operator
    company_name: str = ""
    application_name: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def summary(self) -> str:
        if self.ok:
            return (f"credential {self.credential!r} OK: company {self.company_name!r}, "
                    f"application {self.application_name!r} ({self.base_url})")
        return f"credential {self.credential!r} failed: {self.reason}"


def resolve_base_url(environment: Environment, data_dir: Path) -> str:
    """The environment's api_url, starting the embedded simulator when it says "embedded"."""
    if not environment.embedded:
        return environment.api_url
    from tui.attentive.simulator.embedded import embedded_simulator  # the real-API path never loads it

    return embedded_simulator(data_dir).url


def resolve_target(environment: Environment, credential: str, *, secrets_file: Path, data_dir: Path) -> ConnectionTarget:
    """Raises SettingsError (SecretsError) when the credential or its key cannot be found."""
    key = resolve_api_key(environment, credential, secrets_file)
    return ConnectionTarget(credential, resolve_base_url(environment, data_dir), key, environment.name)


async def test_connection(environment: Environment, credential: str, *, secrets_file: Path, data_dir: Path,
                          timeout_s: float = 10.0) -> ConnectionResult:
    """GET /v1/me, then a harmless read that needs the Custom Attributes permission (a key
    without it still passes /me, as Attentive documents), then the Custom Events or eCommerce
    permission when a destination of this credential sends those events, and the Subscribers one (a
    read of the subscriptions of an address that has none) for a subscriptions destination, and the
    Segments one (a one-segment list) for a segment destination."""
    credential_of(environment, credential)  # an unknown name is a usage error, raised
    try:
        target = resolve_target(environment, credential, secrets_file=secrets_file, data_dir=data_dir)
    except SettingsError as err:
        base_url = environment.api_url
        return ConnectionResult(credential, base_url, Failure.NO_KEY, str(err))
    kinds = sorted({d.kind for d in environment.destinations.values()
                    if d.credential == credential and (d.sends_once or d.kind == "segment")})
    return await probe(target, timeout_s=timeout_s, kinds=kinds)


async def probe(target: ConnectionTarget, *, timeout_s: float = 10.0, kinds: Sequence[str] = ()) -> ConnectionResult:
    # One attempt: an operator waiting on a test wants the answer, not a retry schedule.
    async with AttentiveClient(target.base_url, target.api_key, max_attempts=1, max_throttled=3,
                               timeout_s=timeout_s) as client:
        me = await client.me()
        if not me.ok:
            return _failed(target, me)
        # Subscribers (needed by bulk) has no side-effect-free probe; a missing one stops the
        # first send with the same 403 explanation.
        read = await client.get_custom_attributes(email=PROBE_EMAIL)
        if read.kind in (OutcomeKind.FATAL, OutcomeKind.RETRYABLE):
            return _failed(target, read)
        for kind in kinds:
            if kind in ("subscription", "segment"):  # a read needs the permission and changes nothing
                looked = await (client.get_subscriptions(email=PROBE_EMAIL) if kind == "subscription"
                                else list_segments(client, limit=1))
                if looked.kind in (OutcomeKind.FATAL, OutcomeKind.RETRYABLE):
                    return _failed(target, looked)
                continue
            body = EVENT_PROBES[kind]
            answer = await (client.post_custom_event(body) if kind == "custom-event"
                            else client.post_ecommerce_event("purchase", body))
            if answer.kind is not OutcomeKind.REJECTED:  # 400 is the answer a permitted key gets
                return _failed(target, answer, probing=f"the {kind} permission probe")
    return ConnectionResult(target.credential, target.base_url, company_name=me.data.company_name,
                            application_name=me.data.application_name)


def check_connection(environment: Environment, credential: str, *, secrets_file: Path, data_dir: Path,
                     timeout_s: float = 10.0) -> ConnectionResult:
    """test_connection for synchronous callers (the CLI; the console from a worker thread)."""
    return asyncio.run(test_connection(environment, credential, secrets_file=secrets_file, data_dir=data_dir,
                                       timeout_s=timeout_s))


def _failed(target: ConnectionTarget, outcome: Outcome, probing: str = "") -> ConnectionResult:
    where = target.base_url
    if outcome.ok:
        return ConnectionResult(target.credential, where, Failure.SERVER,
                                f"{where} accepted {probing}, a request without the user Attentive requires (HTTP "
                                f"{outcome.status}); it does not behave like Attentive's API, so nothing is sent to it")
    if outcome.status == 401:
        return ConnectionResult(
            target.credential, where, Failure.UNKNOWN_KEY,
            f"{where} does not know this API key (HTTP 401); check that the key stored for "
            f"{target.credential!r} is current and belongs to this Attentive account, then set it again with "
            f"`attentive-console credentials set-key {target.credential} --env {target.environment}`",
        )
    if outcome.status == 403:
        permission = outcome.permission or "a needed"
        return ConnectionResult(
            target.credential, where, Failure.PERMISSION,
            f"the key is valid but its custom app lacks the {permission} permission (HTTP 403); "
            "add it to the app in Attentive (Marketplace > Custom apps) and test again: "
            f"`attentive-console credentials test {target.credential} --env {target.environment}`",
        )
    if outcome.status is None and outcome.attempts > 0:
        return ConnectionResult(
            target.credential, where, Failure.UNREACHABLE,
            f"cannot reach {where}: {outcome.text or 'no answer'}; check api_url, the network and any proxy",
        )
    status = f"HTTP {outcome.status}" if outcome.status else "no request sent"
    return ConnectionResult(target.credential, where, Failure.SERVER,
                            f"unexpected answer from {where} ({status}): {outcome.text[:300]}; try again later")
