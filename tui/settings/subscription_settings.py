"""The rules of a subscriptions destination (kind "subscription"), checked by the loader's destination
rules, which locate and report each problem.

    [destinations.sms-optins]
    kind = "subscription"
    credential = "attentive"
    primary_identifier = "phone"            # phone -> TEXT subscriptions, email -> EMAIL ones
    identifiers = { phone = "phone" }
    [destinations.sms-optins.subscription]
    consent_column = "sms_opt_in"           # true: subscribe; false: unsubscribe; empty: nothing
    sign_up_source_id = "123456"            # or locale = "en-US" with subscription_type = "MARKETING"
    single_opt_in = false                   # required: true skips Attentive's confirmation text
    check_eligibility = true                # ask Attentive first, before subscribing a person not seen yet
    notify_unsubscribe = false              # false (the default): unsubscribes send no "you are unsubscribed" text

Locale and subscription type must match exactly one API sign-up unit in Attentive, else every
subscribe is refused (400); a sign-up source id names one directly.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tui.settings.event_settings import EventProblem
from tui.settings.model import SUBSCRIPTION_TYPES, SubscriptionMapping

SUBSCRIPTION_FIELDS = {
    "consent_column": ("string", '"sms_opt_in"'), "single_opt_in": ("boolean", "false"),
    "sign_up_source_id": ("string", '"123456"'), "locale": ("string", '"en-US"'),
    "subscription_type": ("string", '"MARKETING"'), "check_eligibility": ("boolean", "true"),
    "notify_unsubscribe": ("boolean", "false"),
}
REQUIRED = ("consent_column", "single_opt_in")
# Keys of [destinations.NAME] a subscriptions destination does not use -> (why, fix).
NOT_FOR_SUBSCRIPTIONS = {
    "endpoint": ("a subscriptions destination posts to /v1/subscriptions and /v1/subscriptions/unsubscribe",
                 "remove endpoint; kind decides where requests go"),
    "attributes": ("a subscription carries no attributes", "remove [attributes], or send them from an attributes destination"),
    "constants": ("a subscription carries no attributes", "remove [constants]"),
    "types": ("a subscription carries no attributes", "remove [types]"),
    "audience": ("audience membership is kept with attributes", 'send it from a kind = "attributes" destination'),
    "audience_shrink_limit": ("audience_shrink_limit guards audience membership", "remove it"),
    "custom_identifiers": ("a subscription's user is its primary identifier", "remove [custom_identifiers]"),
    "subscriptions": ("this destination's kind already sends subscriptions", "remove subscriptions"),
}
_LOCALE = re.compile(r"([a-z]{2})-([A-Z]{2})\Z")


def subscription_mapping(values: Mapping[str, Any]) -> tuple[SubscriptionMapping | None, list[EventProblem]]:
    """The [subscription] table's keys, each of its TOML kind or None (absent or wrongly typed, reported
    by the caller), checked; the mapping when there is no problem."""
    problems: list[EventProblem] = []
    source, locale, kind = values["sign_up_source_id"], values["locale"], values["subscription_type"]
    if source is not None and not source.strip():
        problems.append(EventProblem(("subscription", "sign_up_source_id"), "is empty",
                                     "copy the id from Attentive's Sign-up Units tab (its ID column)"))
    language = country = None
    if locale is not None:
        match = _LOCALE.match(locale)
        if match is None:
            problems.append(EventProblem(("subscription", "locale"), f"{locale!r} is not a locale like \"en-US\"",
                                         "write the language (ISO 639-1, lower case) and the country (ISO 3166-1, "
                                         "upper case) joined by a hyphen"))
        else:
            language, country = match.groups()
    if kind is not None and kind not in SUBSCRIPTION_TYPES:
        problems.append(EventProblem(("subscription", "subscription_type"), f"{kind!r} is not a subscription type",
                                     f"write {' or '.join(SUBSCRIPTION_TYPES)}"))
    if source is not None and (locale is not None or kind is not None):
        problems.append(EventProblem(("subscription",), "names a sign-up source id and a locale or type: one way only",
                                     "keep sign_up_source_id, or locale with subscription_type", on_value=False))
    elif source is None and (locale is None or kind is None):
        problems.append(EventProblem(("subscription",), "names no sign-up unit",
                                     'add sign_up_source_id = "<id from Sign-up Units>", or both locale = "en-US" and '
                                     'subscription_type = "MARKETING"', on_value=False))
    if not values["consent_column"].strip():
        problems.append(EventProblem(("subscription", "consent_column"), "is empty", 'name the column, e.g. "sms_opt_in"'))
    if problems:
        return None, problems
    return SubscriptionMapping(
        consent_column=values["consent_column"], single_opt_in=values["single_opt_in"], sign_up_source_id=source,
        language=language, country=country, subscription_type=kind,
        check_eligibility=bool(values["check_eligibility"]), notify_unsubscribe=bool(values["notify_unsubscribe"]),
    ), []
