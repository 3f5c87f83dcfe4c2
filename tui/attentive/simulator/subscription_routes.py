"""The subscription endpoints: POST /v1/subscriptions, POST /v1/subscriptions/unsubscribe and
GET /v1/subscriptions. Keys, rate limits, permissions and faults are server.py's, as for every endpoint.

A body is checked against the spec's request schema, then against the rules its texts state (E.164
phones, a sign-up source or a locale with a subscription type, the notification languages). The
profile's subscriptions (type, channel) and opt-outs live in SimulatorState; every accepted POST is
recorded in SimulatorState.subscriptions (subscription_log.py) with the texts it sent the person.

What the v1 spec says, and what the simulator does with it:
- A subscription that already exists is "recorded again" (PREVIOUSLY_CREATED); for TEXT that texts
  the person "already subscribed".
- An email reaches EMAIL subscriptions only and a phone TEXT ones only, for unsubscribes: "Passing in
  an email does not locate, nor unsubscribe, a user from any sms subscriptions". No `subscriptions`
  means all of them (on the channel of each identifier given). A TEXT unsubscribe, new or repeated,
  texts "you are unsubscribed" unless notification.disabled is true ("Assumed false by default").
- GET lists the person's subscriptions as eligibilities: the ones held (isEligible true) and the ones
  opted out of (isEligible false).
- Someone the company has no profile for: the operations document 404 "The specified resource was
  not found", which is what GET and an unsubscribe answer (as GET /v1/attributes/custom does); an
  empty list would say "known, and subscribed to nothing", which the simulator keeps for known people.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tui.attentive import endpoints
from tui.attentive.simulator.api import KEY_SPEC, error, flat_identifiers, queried_profile
from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.rules import RuleViolation, check_identifiers
from tui.attentive.simulator.state import Profile, ProfileChange, SimulatorState
from tui.attentive.simulator.subscription_log import (
    NEWLY_CREATED,
    NEWLY_UNSUBSCRIBED,
    PREVIOUSLY_CREATED,
    PREVIOUSLY_UNSUBSCRIBED,
    Person,
    SubscriptionPost,
    SubscriptionResult,
)
from tui.attentive.simulator.validation import BodyError, BodyValidator, compile_validator

_LANGUAGE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz")
_COUNTRY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Which identifier reaches which channel ("Email reaches email subscriptions, phone reaches text").
CHANNEL_OF = {"phone": "TEXT", "email": "EMAIL"}
IDENTIFIER_OF = {channel: kind for kind, channel in CHANNEL_OF.items()}
# NotificationConfigDto.language: "Currently only supports en-US and fr-CA. Case sensitive".
NOTIFICATION_LANGUAGES = ("en-US", "fr-CA")
Subscription = tuple[str, str]  # (type, channel)


def _people(user: Mapping[str, Any]) -> tuple[Person, ...]:
    return tuple((kind, user[kind]) for kind in ("email", "phone") if user.get(kind))


def _need_phone_or_email(user: Mapping[str, Any], action: str) -> None:
    if not user.get("phone") and not user.get("email"):
        raise RuleViolation(f"user: give a phone or an email to {action}")
    check_identifiers("user", user, custom_key="name")


class SubscriptionRoutes:
    def __init__(self, config: SimulatorConfig, state: SimulatorState):
        self.config = config
        self.state = state
        self._validators: dict[str, BodyValidator] = {
            spec.name: compile_validator(spec.name, "v1", spec.path) for spec in endpoints.SUBSCRIPTION_WRITES
        }

    def routes(self) -> list[web.RouteDef]:
        subscribe, unsubscribe, read = endpoints.SUBSCRIPTIONS, endpoints.UNSUBSCRIBE, endpoints.SUBSCRIPTIONS_READ
        return [
            web.post(subscribe.path, self.post_subscription, name=subscribe.name),
            web.post(unsubscribe.path, self.post_unsubscribe, name=unsubscribe.name),
            web.get(read.path, self.get_subscriptions, name=read.name),
        ]

    async def _body(self, request: web.Request, endpoint: str) -> Any:
        return self._validators[endpoint].parse(await request.read())

    # -- POST /v1/subscriptions -------------------------------------------------------------------

    async def post_subscription(self, request: web.Request) -> web.Response:
        company_id = request[KEY_SPEC].resolved_company_id
        try:
            body = await self._body(request, endpoints.SUBSCRIPTIONS.name)
            user = body["user"]
            _need_phone_or_email(user, "subscribe")
            check_identifiers("externalIdentifiers", body.get("externalIdentifiers") or {}, custom_key="name")
            kind = _subscription_type(body)
        except (BodyError, RuleViolation) as exc:
            return error(400, str(exc))
        channels = [channel for channel, field in (("TEXT", "phone"), ("EMAIL", "email")) if user.get(field)]
        ids = flat_identifiers({**user, **(body.get("externalIdentifiers") or {})})
        wanted = tuple((kind, channel) for channel in channels)
        [created] = self.state.apply(company_id, [ProfileChange(ids, subscriptions=wanted)])
        results = tuple(
            SubscriptionResult(IDENTIFIER_OF[channel], user[IDENTIFIER_OF[channel]], channel, kind,
                               NEWLY_CREATED if new else PREVIOUSLY_CREATED,
                               messaged=channel == "TEXT" and not new)  # "already subscribed"
            for (kind, channel), new in zip(wanted, created)
        )
        self.state.record_subscription(SubscriptionPost(endpoints.SUBSCRIPTIONS.name, company_id, _people(user), results))
        answer: dict[str, Any] = {"user": user}
        if body.get("externalIdentifiers"):
            answer["externalIdentifiers"] = body["externalIdentifiers"]
        answer["subscriptionResponses"] = [
            {"subscription": {"type": r.type, "channel": r.channel}, "subscriptionCreationStatus": r.status}
            for r in results
        ]
        return web.json_response(answer, status=202)

    # -- POST /v1/subscriptions/unsubscribe -------------------------------------------------------

    async def post_unsubscribe(self, request: web.Request) -> web.Response:
        company_id = request[KEY_SPEC].resolved_company_id
        try:
            body = await self._body(request, endpoints.UNSUBSCRIBE.name)
            user = body["user"]
            _need_phone_or_email(user, "unsubscribe")
            requested = _requested(body.get("subscriptions"), user)
            notification = body.get("notification") or {}
            language = notification.get("language")
            if language is not None and language not in NOTIFICATION_LANGUAGES:
                raise RuleViolation(f"notification.language {language!r} is not supported; use "
                                    f"{' or '.join(NOTIFICATION_LANGUAGES)} (case-sensitive)")
        except (BodyError, RuleViolation) as exc:
            return error(400, str(exc))
        company = self.state.company(company_id)
        people = _people(user)
        profiles = {person: company.find(*person) for person in people}
        if all(profile is None for profile in profiles.values()):
            shown = " or ".join(kind for kind, _ in people)
            return error(404, f"no subscriber with this {shown}")
        notify = notification.get("disabled") is not True
        results: list[SubscriptionResult] = []
        changes: list[ProfileChange] = []
        for (kind, value), profile in profiles.items():
            channel = CHANNEL_OF[kind]
            targets = _targets(profile, channel, requested)
            for target in targets:
                held = profile is not None and target in profile.subscriptions
                existed = held or (profile is not None and target in profile.unsubscribed)
                # "if a subscription exists ... For TEXT subscriptions, a message is sent"
                results.append(SubscriptionResult(kind, value, channel, target[0],
                                                  NEWLY_UNSUBSCRIBED if held else PREVIOUSLY_UNSUBSCRIBED,
                                                  messaged=channel == "TEXT" and existed and notify))
            opted_out = tuple(t for t in targets if profile is not None and t in profile.subscriptions)
            if opted_out:
                changes.append(ProfileChange({kind: value}, unsubscriptions=opted_out))
        self.state.apply(company_id, changes)
        self.state.record_subscription(SubscriptionPost(endpoints.UNSUBSCRIBE.name, company_id, people, tuple(results)))
        answer = {"user": user, "subscriptionResponses": [
            {"subscription": {"type": r.type, "channel": r.channel}, "subscriptionUnsubscribeStatus": r.status}
            for r in results
        ]}
        return web.json_response(answer, status=202)

    # -- GET /v1/subscriptions --------------------------------------------------------------------

    async def get_subscriptions(self, request: web.Request) -> web.Response:
        found = queried_profile(request, self.state)
        if isinstance(found, web.Response):
            return found
        name, profile = found
        if profile is None:
            return error(404, f"no subscriber with this {name}")
        eligibilities = [
            {"subscription": {"type": kind, "channel": channel}, "eligibility": {"isEligible": eligible}}
            for eligible, held in ((True, profile.subscriptions), (False, profile.unsubscribed))
            for kind, channel in sorted(held)
        ]
        return web.json_response({"subscriptionEligibilities": eligibilities})


def _requested(subscriptions: list[dict[str, Any]] | None, user: Mapping[str, Any]) -> list[Subscription] | None:
    """The (type, channel) pairs an unsubscribe names, in order, once each; None when it names none."""
    if not subscriptions:
        return None
    requested: list[Subscription] = []
    for index, item in enumerate(subscriptions):
        # The spec's SubscriptionDto requires neither field; an unsubscribe from "something" is refused.
        for field in ("type", "channel"):
            if field not in item:
                raise RuleViolation(f"subscriptions[{index}].{field} is missing; give both type and channel")
        needed = IDENTIFIER_OF[item["channel"]]
        if not user.get(needed):
            raise RuleViolation(f"subscriptions[{index}] is a {item['channel']} subscription, which only user.{needed} "
                                f"reaches; give user.{needed}")
        pair = (item["type"], item["channel"])
        if pair not in requested:
            requested.append(pair)
    return requested


def _targets(profile: Profile | None, channel: str, requested: list[Subscription] | None) -> list[Subscription]:
    """What an unsubscribe answers for one identifier: the requested pairs on its channel, or (none
    requested) every subscription of that channel the person holds or has opted out of."""
    if requested is not None:
        return [pair for pair in requested if pair[1] == channel]
    if profile is None:
        return []
    return sorted(pair for pair in profile.subscriptions | profile.unsubscribed if pair[1] == channel)


def _subscription_type(body: dict[str, Any]) -> str:
    """signUpSourceId, or locale + subscriptionType (Attentive resolves the sign-up unit)."""
    locale = body.get("locale")
    if locale is not None:
        language, country = locale.get("language", ""), locale.get("country", "")
        if len(language) != 2 or not set(language) <= _LANGUAGE_CHARS:
            raise RuleViolation(f"locale.language {language!r} must be an ISO 639-1 code like 'en'")
        if len(country) != 2 or not set(country) <= _COUNTRY_CHARS:
            raise RuleViolation(f"locale.country {country!r} must be an ISO 3166-1 alpha-2 code like 'US'")
    if body.get("signUpSourceId"):
        return body.get("subscriptionType", "MARKETING")
    if locale is not None and body.get("subscriptionType"):
        return body["subscriptionType"]
    raise RuleViolation("give signUpSourceId, or both locale and subscriptionType")
