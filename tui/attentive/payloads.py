"""Request bodies for the Attentive endpoints we call, in the shapes of Attentive's OpenAPI specs.

Identifiers that are None, empty or blank are left out, never sent: Attentive asks for that, and an
empty identifier could bridge unrelated profiles. tests/client/test_contract_payloads.py validates
every shape built here against the shipped spec files.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from tui.attentive.endpoints import BULK_MAX_USERS

IDENTIFIER_KINDS = ("email", "phone")
V1_USER_KEYS = frozenset({"email", "phone", "externalIdentifiers"})
SUBSCRIPTION_TYPES = ("MARKETING", "TRANSACTIONAL")


class PayloadError(ValueError):
    """A body cannot be built from what was given; the message says what is missing or wrong."""


def identifiers(*, email: str | None = None, phone: str | None = None) -> dict[str, str]:
    """{email?, phone?} with only the identifiers that have a value; at least one is required."""
    found = {kind: value for kind, value in (("email", email), ("phone", phone)) if _present(value)}
    if not found:
        raise PayloadError("a profile needs an email or a phone; both are empty")
    return found


def custom_attributes_body(user: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """POST /v1/attributes/custom: {"user": {email|phone}, "properties": {...}}."""
    return {"user": _v1_user(user), "properties": _properties(properties)}


def bulk_user_item(user: Mapping[str, Any], custom: Mapping[str, Any]) -> dict[str, Any]:
    """One item of POST /v2/bulk/user/attributes: {"identifiers": {...}, "attributes": {"custom": {...}}}.

    `user` uses the same keys as the v1 user ({"email"}, {"phone"}, and beside either
    "externalIdentifiers": {clientUserId?, customIdentifiers?: [{name, value}]}): callers build one
    kind of profile and choose the endpoint later. v2 puts clientUserId and customIdentifiers
    ([{key, value}]) in `identifiers` itself, beside email or phone."""
    if not user.keys() <= V1_USER_KEYS:
        unknown = sorted(set(user) - V1_USER_KEYS)
        raise PayloadError(f"unsupported identifier {unknown[0]!r} for a bulk item; use email or phone, "
                           "and externalIdentifiers beside them")
    found: dict[str, Any] = identifiers(email=user.get("email"), phone=user.get("phone"))
    external = user.get("externalIdentifiers")
    if external:
        cleaned = _external_identifiers(external)
        if "clientUserId" in cleaned:
            found["clientUserId"] = cleaned["clientUserId"]
        if "customIdentifiers" in cleaned:
            found["customIdentifiers"] = [{"key": item["name"], "value": item["value"]}
                                          for item in cleaned["customIdentifiers"]]
    return {"identifiers": found, "attributes": {"custom": _properties(custom)}}


def bulk_body(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """POST /v2/bulk/user/attributes: {"users": [1..256 items]}."""
    if not 1 <= len(items) <= BULK_MAX_USERS:
        raise PayloadError(f"a bulk request carries 1 to {BULK_MAX_USERS} users, got {len(items)}")
    return {"users": [dict(item) for item in items]}


def subscription_body(
    user: Mapping[str, Any],
    *,
    sign_up_source_id: str | None = None,
    locale: tuple[str, str] | None = None,
    subscription_type: str | None = None,
    client_user_id: str | None = None,
    single_opt_in: bool = False,
) -> dict[str, Any]:
    """POST /v1/subscriptions. Needs a sign-up source, or a locale (language, country) with a
    subscription type. singleOptIn is sent only when asked for: double opt-in is Attentive's default."""
    unknown = sorted(set(user) - set(IDENTIFIER_KINDS))
    if unknown:
        raise PayloadError(f"unsupported identifier {unknown[0]!r} for a subscription; use email or phone")
    body: dict[str, Any] = {"user": identifiers(email=user.get("email"), phone=user.get("phone"))}
    if _present(sign_up_source_id):
        body["signUpSourceId"] = sign_up_source_id
    elif locale is not None and subscription_type is not None:
        language, country = locale
        if not (_present(language) and _present(country)):
            raise PayloadError("a subscription locale needs both a language and a country, e.g. ('en', 'US')")
        if subscription_type not in SUBSCRIPTION_TYPES:
            raise PayloadError(f"subscription type must be one of {', '.join(SUBSCRIPTION_TYPES)}, got {subscription_type!r}")
        body["locale"] = {"language": language, "country": country}
        body["subscriptionType"] = subscription_type
    else:
        raise PayloadError("a subscription needs a sign-up source id, or a locale and a subscription type")
    if _present(client_user_id):
        body["externalIdentifiers"] = {"clientUserId": client_user_id}
    if single_opt_in:
        body["singleOptIn"] = True
    return body


def _v1_user(user: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(user) - V1_USER_KEYS)
    if unknown:
        raise PayloadError(f"unsupported user field {unknown[0]!r}; use email, phone or externalIdentifiers")
    cleaned: dict[str, Any] = {kind: user[kind] for kind in IDENTIFIER_KINDS if _present(user.get(kind))}
    external = _external_identifiers(user.get("externalIdentifiers"))
    if external:
        cleaned["externalIdentifiers"] = external
    if not cleaned:
        raise PayloadError("a profile needs an email, a phone or an external identifier; all are empty")
    return cleaned


def _external_identifiers(value: Any) -> dict[str, Any]:
    """v1 externalIdentifiers: {clientUserId?, customIdentifiers?: [{name, value}]}, empties dropped."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError("externalIdentifiers must be an object with clientUserId and/or customIdentifiers")
    cleaned: dict[str, Any] = {}
    if _present(value.get("clientUserId")):
        cleaned["clientUserId"] = value["clientUserId"]
    custom = [
        {"name": item["name"], "value": item["value"]}
        for item in value.get("customIdentifiers") or ()
        if _present(item.get("name")) and _present(item.get("value"))
    ]
    if custom:
        cleaned["customIdentifiers"] = custom
    return cleaned


def _properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(properties, Mapping):
        raise PayloadError("attributes must be a mapping of name to value")
    for name in properties:
        if not isinstance(name, str) or not name:
            raise PayloadError(f"attribute names must be non-empty strings, got {name!r}")
    return dict(properties)


def _present(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.strip() != ""
