"""The event endpoints: POST /v1/events/custom and /v1/events/ecommerce/{purchase,add-to-cart,
product-view}. Keys, rate limits, permissions and faults are server.py's, as for every endpoint.

A body is checked against the spec's request schema, then against the rules the spec writes in
prose (tui.attentive.events): forbidden characters in a custom event's type and property keys,
occurredAt with its UTC offset, ISO 4217 currencies, E.164 phones. An accepted event is recorded in
SimulatorState.events (event_log.py) and answered 200 with no body, as the spec's "200: Ok" says.
Nothing is de-duplicated: Attentive documents no de-duplication, by externalEventId or otherwise.
"""
from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from tui.attentive import endpoints, events
from tui.attentive.endpoints import EndpointSpec
from tui.attentive.simulator.api import KEY_SPEC, error, flat_identifiers, require_known_user
from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.event_log import ArrivedEvent
from tui.attentive.simulator.rules import RuleViolation, check_identifiers
from tui.attentive.simulator.state import SimulatorState
from tui.attentive.simulator.validation import BodyError, BodyValidator, compile_validator, decode


def _listed(chars: frozenset[str]) -> str:
    return " ".join(sorted(chars))


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


class EventRoutes:
    def __init__(self, config: SimulatorConfig, state: SimulatorState):
        self.config = config
        self.state = state
        self._validators: dict[str, BodyValidator] = {
            spec.name: compile_validator(spec.name, "v1", spec.path) for spec in endpoints.EVENTS
        }

    def routes(self) -> list[web.RouteDef]:
        custom = endpoints.CUSTOM_EVENTS
        return [
            web.post(custom.path, self.post_custom_event, name=custom.name),
            *(web.post(spec.path, self._ecommerce_handler(spec), name=spec.name)
              for spec in endpoints.ECOMMERCE_EVENTS.values()),
        ]

    async def _body(self, request: web.Request, spec: EndpointSpec) -> Any:
        """Decoded, occurredAt read, then validated against the schema. occurredAt comes first so a
        missing offset gets Attentive's words, not the schema's "must be date-time"."""
        body = decode(await request.read())
        if isinstance(body, dict) and isinstance(body.get("occurredAt"), str):
            try:
                # The eCommerce texts say ISO 8601 and give +0000 as their example; custom events say RFC 3339.
                events.parse_occurred_at(body["occurredAt"], basic_offset=spec is not endpoints.CUSTOM_EVENTS)
            except events.TimestampError as exc:
                raise RuleViolation(f"occurredAt {exc}") from None
        self._validators[spec.name].validate(body)
        return body

    def _user(self, company_id: str, user: Mapping[str, Any]) -> None:
        check_identifiers("user", user, custom_key="name")
        # "the external identifier must first be associated with a phone or email using the Identity API"
        require_known_user(self.state, company_id, flat_identifiers(user), "user")

    def _record(self, request: web.Request, spec: EndpointSpec, body: dict[str, Any]) -> web.Response:
        key = request[KEY_SPEC]
        self.state.record_event(ArrivedEvent(spec.name, key.resolved_company_id, key.application_name, body))
        return web.Response(status=200)

    # -- POST /v1/events/custom ---------------------------------------------------------------------

    async def post_custom_event(self, request: web.Request) -> web.Response:
        spec = endpoints.CUSTOM_EVENTS
        try:
            body = await self._body(request, spec)
            _check_type(body["type"])
            _check_property_keys(body.get("properties") or {})
            self._user(request[KEY_SPEC].resolved_company_id, body["user"])
        except (BodyError, RuleViolation) as exc:
            return error(400, str(exc))
        return self._record(request, spec, body)

    # -- POST /v1/events/ecommerce/* ----------------------------------------------------------------

    def _ecommerce_handler(self, spec: EndpointSpec) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = await self._body(request, spec)
                _check_items(body["items"])
                self._user(request[KEY_SPEC].resolved_company_id, body["user"])
            except (BodyError, RuleViolation) as exc:
                return error(400, str(exc))
            return self._record(request, spec, body)

        return handle


def _check_type(event_type: str) -> None:
    if not event_type.strip():
        raise RuleViolation("type is empty; name the event, like 'Order Shipped'")
    bad = events.forbidden_characters(event_type, events.TYPE_FORBIDDEN)
    if bad:
        raise RuleViolation(
            f"type {_shown(event_type)} contains {bad}; a custom event type cannot contain {_listed(events.TYPE_FORBIDDEN)}"
        )


def _check_property_keys(properties: Mapping[str, Any]) -> None:
    # Top-level keys only: the spec states the rule for "Object keys" of properties and says nothing
    # of keys inside nested objects, which reach email messages only.
    for name in properties:
        if not name:
            raise RuleViolation("properties: a property name is empty; give every property a name")
        bad = events.forbidden_characters(name, events.PROPERTY_KEY_FORBIDDEN)
        if bad:
            raise RuleViolation(
                f"properties: key {_shown(name)} contains {bad}; property keys cannot contain "
                f"{_listed(events.PROPERTY_KEY_FORBIDDEN)}"
            )


def _check_items(items: list[dict[str, Any]]) -> None:
    # *undocumented*: the schema allows an empty list; an event about no product is refused here.
    if not items:
        raise RuleViolation("items is empty; send at least one product")
    for index, item in enumerate(items):
        for field in ("productId", "productVariantId"):
            if not item[field].strip():
                raise RuleViolation(f"items[{index}].{field} is empty")
        for number, price in enumerate(item["price"]):
            where = f"items[{index}].price[{number}]"
            value = price["value"]
            if isinstance(value, float) and not math.isfinite(value):  # Python's JSON reader takes NaN and Infinity
                raise RuleViolation(f"{where}.value is not a finite number")
            currency = price.get("currency")
            if currency is not None and not events.is_currency(currency):
                raise RuleViolation(f"{where}.currency {_shown(currency)} is not an ISO 4217 code like USD")
