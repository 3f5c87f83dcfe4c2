"""The checks of one [destinations.NAME] table, mixed into the loader's validator.

Split from loader.py, which keeps the generic checks (`report`, `_field`, `_known_keys`, `_name`)
these rely on; the words of every message are the loader's, unchanged.
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import phonenumbers

from tui.attentive import endpoints
from tui.settings.attribute_tables import constant_problems, name_problem, type_problems
from tui.settings.errors import Problem
from tui.settings.event_settings import EVENT_FIELDS, NOT_FOR_EVENTS, REQUIRED, EventProblem, event_mapping, property_problems
from tui.settings.locate import KeyLocator, KeyPath, Position
from tui.settings.model import (
    EVENT_KINDS,
    KIND_ENDPOINTS,
    SEND_ONCE_KINDS,
    Destination,
    DestinationEndpoint,
    DestinationKind,
    EventMapping,
    SegmentFileMapping,
    SegmentMapping,
    SubscriptionMapping,
)
from tui.settings.segment_file_settings import (
    ENDPOINT_PROBLEM,
    NOT_FOR_SEGMENT_FILES,
    SECRET_KEYS,
    SEGMENT_FILE_FIELDS,
    secret_key_problems,
    segment_file_mapping,
)
from tui.settings.segment_file_settings import REQUIRED as SEGMENT_FILE_REQUIRED
from tui.settings.segment_settings import ENDPOINT_PROBLEM as SEGMENT_ENDPOINT_PROBLEM
from tui.settings.segment_settings import NOT_FOR_SEGMENTS, SEGMENT_FIELDS, segment_mapping
from tui.settings.segment_settings import REQUIRED as SEGMENT_REQUIRED
from tui.settings.subscription_settings import NOT_FOR_SUBSCRIPTIONS, SUBSCRIPTION_FIELDS, subscription_mapping
from tui.settings.subscription_settings import REQUIRED as SUBSCRIPTION_REQUIRED

IDENTIFIERS = ("email", "phone")
CLIENT_USER_ID = "client_user_id"   # under [identifiers], but not an email/phone identifier
DESTINATION_ENDPOINTS: tuple[DestinationEndpoint, ...] = ("bulk", "custom-attributes")
DESTINATION_KINDS: tuple[DestinationKind, ...] = ("attributes", *SEND_ONCE_KINDS, "segment", "segment-file")
# Slower than this is a typo (0.000001 is a request every 11 days), not a pace: a send would
# hold its destination's lock for ever while looking alive.
MIN_RATE_LIMIT = 0.1
# The specs limit identifier values to 100 characters and say nothing of a custom identifier's key;
# the same limit keeps a key from being a pasted value.
CUSTOM_IDENTIFIER_KEY_MAX = endpoints.IDENTIFIER_MAX

# name -> (TOML kind, example shown in the fix)
DESTINATION = {
    "description": ("string", '"Loyalty tier and points"'), "credential": ("string", '"attentive"'),
    "primary_identifier": ("string", '"email"'), "endpoint": ("string", '"bulk"'),
    "admin_only": ("boolean", "false"), "allow_restricted_pii": ("boolean", "true"),
    "verbose_logging": ("boolean", "true"), "phone_region": ("string", '"US"'),
    "rejection_threshold": ("number", "0.05"), "rate_limit": ("number", "50"),
    "subscriptions": ("boolean", "false"), "identifiers": ("table", '{ email = "email" }'),
    "attributes": ("table", '{ "Loyalty Tier" = "tier" }'), "constants": ("table", '{ Campaign = "Winter" }'),
    "types": ("table", '{ Zip = "string" }'), "custom_identifiers": ("table", '{ loyalty_id = "loyalty_id" }'),
    "audience": ("string", '"Winter VIP 2026"'), "audience_shrink_limit": ("number", "0.5"),
    "kind": ("string", '"attributes"'), "event": ("table", "{ occurred_at = \"occurred_at\" }"),
    "subscription": ("table", "{ consent_column = \"sms_opt_in\" }"),
    "segment_file": ("table", "{ segment = \"Winter VIP\", client_domain = \"acme\" }"),
    "segment": ("table", "{ name = \"Winter VIP\" }"),
}
# A kind's own table -> (the kinds that read it, "read only for ... destinations", the fix on another kind).
KIND_TABLES: dict[str, tuple[tuple[DestinationKind, ...], str, str]] = {
    "segment_file": (("segment-file",), "segment-file", 'add kind = "segment-file", or remove the segment_file table'),
    "subscription": (("subscription",), "subscriptions", 'add kind = "subscription", or remove the subscription table'),
    "event": (EVENT_KINDS, "event", 'add kind = "custom-event" or kind = "purchase", or remove the event table'),
    "segment": (("segment",), "segment", 'add kind = "segment", or remove the segment table'),
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def dotted(path: KeyPath) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        else:
            parts.append(part if _BARE_KEY.match(part) else json.dumps(part))
    return ".".join(parts)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


class DestinationRules:
    """Needs the loader's generic checks; the stubs below only tell the type checker so."""

    path: Path
    locator: KeyLocator
    problems: list[Problem]

    def report(self, at: Position, message: str, fix: str) -> None:
        raise NotImplementedError

    def _known_keys(self, table: dict[str, Any], path: KeyPath, fields: dict[str, tuple[str, str]]) -> None:
        raise NotImplementedError

    def _field(self, table: dict[str, Any], path: KeyPath, key: str, fields: dict[str, tuple[str, str]],
               *, required: bool = False) -> Any:
        raise NotImplementedError

    def _name(self, path: KeyPath, what: str) -> bool:
        raise NotImplementedError

    def _destination(self, name: str, body: Any, credentials: list[str]) -> Destination | None:
        path: KeyPath = ("destinations", name)
        if not isinstance(body, dict):
            self.report(self.locator.value(path), f"destinations.{dotted((name,))} must be a table",
                        f"write [destinations.{dotted((name,))}] with its fields")
            return None
        before = len(self.problems)
        self._name(path, "destination")
        self._known_keys(body, path, DESTINATION)
        values = {key: self._field(body, path, key, DESTINATION,
                                   required=key in ("credential", "primary_identifier", "identifiers"))
                  for key in DESTINATION}
        here = dotted(path)
        credential, primary, endpoint = values["credential"], values["primary_identifier"], values["endpoint"] or "bulk"
        kind = values["kind"] or "attributes"
        if kind not in DESTINATION_KINDS:
            guess = did_you_mean(kind, DESTINATION_KINDS)
            self.report(self.locator.value(path + ("kind",)), f"{here}: unknown kind {json.dumps(kind)}",
                        f'did you mean "{guess}"?' if guess else
                        'write kind = "attributes", "custom-event", "purchase", "subscription", "segment" or '
                        '"segment-file"')
        sends_events, subscribing = kind in EVENT_KINDS, kind == "subscription"
        segment_files, segments = kind == "segment-file", kind == "segment"
        if sends_events or subscribing:
            self._not_for_events(path, body, primary, NOT_FOR_SUBSCRIPTIONS if subscribing else None)
        if segment_files or segments:
            refused, problem = ((NOT_FOR_SEGMENT_FILES, ENDPOINT_PROBLEM) if segment_files
                                else (NOT_FOR_SEGMENTS, SEGMENT_ENDPOINT_PROBLEM))
            self._not_for_events(path, body, primary, refused,
                                 ("a segment-file", "a segment file's") if segment_files else ("a segment", "a segment's"))
            if endpoint != "bulk":   # the dataclass's default: the store writes it back for a segment file
                self.report(self.locator.key(path + ("endpoint",)), f"{here}.endpoint: {problem[0]}", problem[1])
        for key, (readers, whose, fix) in KIND_TABLES.items():
            if values[key] is not None and kind not in readers:
                self.report(self.locator.key(path + (key,)), f"{here}.{key} is read only for {whose} destinations", fix)
        if credential is not None and credential not in credentials:
            guess = did_you_mean(credential, credentials)
            self.report(self.locator.value(path + ("credential",)),
                        f"{here}: credential {json.dumps(credential)} is not defined in this file",
                        f'did you mean "{guess}"?' if guess else
                        f"define [credentials.{dotted((credential,))}] or use one of: "
                        f"{', '.join(credentials) or '(none defined)'}")
        if primary is not None and primary not in IDENTIFIERS:
            self.report(self.locator.value(path + ("primary_identifier",)),
                        f"{here}: primary_identifier must be \"email\" or \"phone\", not {json.dumps(primary)}",
                        'write primary_identifier = "email" or "phone"')
        if endpoint not in DESTINATION_ENDPOINTS and kind not in KIND_ENDPOINTS and not segment_files:
            guess = did_you_mean(endpoint, DESTINATION_ENDPOINTS)
            self.report(self.locator.value(path + ("endpoint",)), f"{here}: unknown endpoint {json.dumps(endpoint)}",
                        f'did you mean "{guess}"?' if guess else 'write endpoint = "bulk" or "custom-attributes"')
        self._numbers(path, values, KIND_ENDPOINTS[kind] if kind in KIND_ENDPOINTS else endpoint)
        region = values["phone_region"]
        if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
            self.report(self.locator.value(path + ("phone_region",)), f"{here}: unknown phone region {json.dumps(region)}",
                        'use a two-letter ISO country code in capitals, such as "US" or "GB"')
        identifiers, client_user_id = self._identifiers(path, values["identifiers"], primary)
        custom_identifiers = self._custom_identifiers(path, values["custom_identifiers"] or {})
        event: EventMapping | None = None
        subscription: SubscriptionMapping | None = None
        segment_file: SegmentFileMapping | None = None
        segment: SegmentMapping | None = None
        if subscribing or segment_files or segments:
            attributes, constants, types = {}, {}, {}
            if subscribing:
                subscription = self._subscription(path, values["subscription"])
            elif segment_files:
                segment_file = self._segment_file(path, values["segment_file"])
            else:
                segment = self._segment(path, values["segment"])
                self._shrink_limit(path, values["audience_shrink_limit"])
        elif sends_events:
            attributes = self._columns(path + ("attributes",), values["attributes"] or {})
            constants, types = dict(values["constants"] or {}), dict[str, str]()
            self._event_problems(path, property_problems(attributes, constants))
            event = self._event(path, kind, values["event"])
        else:
            attributes = self._attributes(path, values["attributes"] or {})
            constants, types = self._tables(path, values["constants"] or {}, values["types"] or {}, attributes)
            self._audience(path, values, attributes, constants)
        if len(self.problems) > before:
            return None
        optional = {key: values[key] for key in ("admin_only", "allow_restricted_pii", "verbose_logging",
                                                  "phone_region", "subscriptions", "audience") if values[key] is not None}
        for key in ("rejection_threshold", "audience_shrink_limit"):
            if values[key] is not None:
                optional[key] = float(values[key])
        # An endpoint outside DESTINATION_ENDPOINTS was reported above, so we returned None: this is one
        # of them, or the one the event kind names.
        known_endpoint = KIND_ENDPOINTS[kind] if kind in KIND_ENDPOINTS else cast(DestinationEndpoint, endpoint)
        return Destination(
            name=name, description=values["description"] or "", credential=credential, primary_identifier=primary,
            endpoint=known_endpoint, rate_limit=None if values["rate_limit"] is None else float(values["rate_limit"]),
            identifiers=identifiers, attributes=attributes, constants=constants, types=types,
            client_user_id=client_user_id, custom_identifiers=custom_identifiers, kind=cast(DestinationKind, kind),
            event=event, subscription=subscription, segment_file=segment_file, segment=segment, **optional,
        )

    # -- event destinations (rules in event_settings.py) -------------------------------------------
    def _not_for_events(self, path: KeyPath, body: dict[str, Any], primary: Any,
                        refused_keys: dict[str, tuple[str, str]] | None = None,
                        names: tuple[str, str] | None = None) -> None:
        """Keys an event (or, with `refused_keys`, a subscriptions or the `names`d) destination does not
        use, and identifiers beside the primary one."""
        here = dotted(path)
        what, whose = ("an event", "an event's") if refused_keys is None else ("a subscriptions", "a subscription's")
        what, whose = names or (what, whose)
        refused = dict(NOT_FOR_EVENTS if refused_keys is None else refused_keys)
        if body.get("kind") == "purchase":
            refused["attributes"] = ("a purchase has no properties in Attentive's spec",
                                     'remove [attributes], or send them from a kind = "custom-event" destination')
            refused["constants"] = refused["attributes"]
        for key, (why, fix) in refused.items():
            if key in body:
                self.report(self.locator.key(path + (key,)), f"{here}.{key}: not used by {what} destination: {why}", fix)
        identifiers = body.get("identifiers")
        for key in identifiers if isinstance(identifiers, dict) else ():
            if key != primary and key in (*IDENTIFIERS, CLIENT_USER_ID):
                self.report(self.locator.key(path + ("identifiers", key)),
                            f"{here}.identifiers.{key}: {whose} user is its primary identifier ({primary}) alone",
                            f"remove {key} from [{here}.identifiers]")

    def _kind_table(self, path: KeyPath, key: str, table: dict[str, Any] | None, fields: dict[str, tuple[str, str]],
                    required: tuple[str, ...], what: str, hint: str, *, known: dict[str, Any] | None = None,
                    ) -> dict[str, Any] | None:
        """The values of a kind's own table (KIND_TABLES: [event], [segment] and others), each of its TOML
        kind or None; None when the table or a required key is missing (reported, like unknown keys)."""
        at = path + (key,)
        if table is None:
            self.report(self.locator.key(path), f"{dotted(path)}: a {what} destination needs an [{dotted(at)}] table",
                        f"add [{dotted(at)}] with {hint}")
            return None
        self._known_keys(table if known is None else known, at, fields)
        values = {name: self._field(table, at, name, fields, required=name in required) for name in fields}
        if any(values[name] is None for name in required):
            return None  # reported by _field; the kind's checks would only repeat it
        return values

    def _event(self, path: KeyPath, kind: str, table: dict[str, Any] | None) -> EventMapping | None:
        values = self._kind_table(path, "event", table, EVENT_FIELDS, REQUIRED[kind], kind, ", ".join(REQUIRED[kind]))
        if values is None:
            return None
        mapping, problems = event_mapping(cast(DestinationKind, kind), values)
        self._event_problems(path, problems)
        return mapping

    def _subscription(self, path: KeyPath, table: dict[str, Any] | None) -> SubscriptionMapping | None:
        values = self._kind_table(path, "subscription", table, SUBSCRIPTION_FIELDS, SUBSCRIPTION_REQUIRED, "subscriptions",
                                  f"{', '.join(SUBSCRIPTION_REQUIRED)} and a sign-up unit")
        if values is None:
            return None
        mapping, problems = subscription_mapping(values)
        self._event_problems(path, problems)
        return mapping

    def _segment_file(self, path: KeyPath, table: dict[str, Any] | None) -> SegmentFileMapping | None:
        secrets = secret_key_problems(table or {})
        self._event_problems(path, secrets)
        values = self._kind_table(path, "segment_file", table, SEGMENT_FILE_FIELDS, SEGMENT_FILE_REQUIRED, "segment-file",
                                  " and ".join(SEGMENT_FILE_REQUIRED),
                                  known={k: v for k, v in (table or {}).items() if k not in SECRET_KEYS})
        if values is None:
            return None
        mapping, problems = segment_file_mapping(values)
        self._event_problems(path, problems)
        return None if secrets else mapping

    def _segment(self, path: KeyPath, table: dict[str, Any] | None) -> SegmentMapping | None:
        values = self._kind_table(path, "segment", table, SEGMENT_FIELDS, SEGMENT_REQUIRED, "segment",
                                  'name = "<the segment\'s name>"')
        if values is None:
            return None
        mapping, problems = segment_mapping(values)
        self._event_problems(path, problems)
        return mapping

    def _event_problems(self, path: KeyPath, problems: list[EventProblem]) -> None:
        for problem in problems:
            full = path + problem.at
            self.report((self.locator.value if problem.on_value else self.locator.key)(full),
                        f"{dotted(full)}: {problem.message}", problem.fix)

    def _numbers(self, path: KeyPath, values: dict[str, Any], endpoint: str) -> None:
        threshold, rate = values["rejection_threshold"], values["rate_limit"]
        if threshold is not None and not 0 <= threshold <= 1:
            self.report(self.locator.value(path + ("rejection_threshold",)),
                        f"{dotted(path)}: rejection_threshold {threshold} is outside 0..1",
                        "write a share between 0 and 1, e.g. 0.05 for 5%")
        if rate is None:
            return
        known = endpoint in DESTINATION_ENDPOINTS or endpoint in KIND_ENDPOINTS.values()
        spec = endpoints.BY_NAME.get(endpoint) if known else None
        if not rate >= MIN_RATE_LIMIT:  # `not >=` so that nan is refused too
            self.report(self.locator.value(path + ("rate_limit",)),
                        f"{dotted(path)}: rate_limit {rate} is below the lowest allowed, {MIN_RATE_LIMIT} "
                        "requests/second (one request every 10 seconds)",
                        f"write at least {MIN_RATE_LIMIT}, or remove rate_limit to use the published limit")
        elif spec is not None and rate > spec.limit_per_second:
            self.report(self.locator.value(path + ("rate_limit",)),
                        f"{dotted(path)}: rate_limit {rate} is above the {endpoint} endpoint's published limit of "
                        f"{spec.limit_per_second} requests/second",
                        f"write at most {spec.limit_per_second}, or remove rate_limit to use the published limit")

    def _identifiers(self, path: KeyPath, table: dict[str, Any] | None, primary: Any) -> tuple[dict[str, str], str | None]:
        if table is None:
            return {}, None
        path = path + ("identifiers",)
        self._known_keys(table, path, {key: ("string", '"column"') for key in (*IDENTIFIERS, CLIENT_USER_ID)})
        mapped = self._columns(path, {k: v for k, v in table.items() if k in IDENTIFIERS})
        if primary in IDENTIFIERS and primary not in table:
            self.report(self.locator.key(path),
                        f"{dotted(path)} lacks the primary identifier {primary}: every row needs it",
                        f'add {primary} = "<source column>" under [{dotted(path)}]')
        if CLIENT_USER_ID not in table:
            return mapped, None
        return mapped, self._columns(path, {CLIENT_USER_ID: table[CLIENT_USER_ID]}).get(CLIENT_USER_ID)

    def _custom_identifiers(self, path: KeyPath, table: dict[str, Any]) -> dict[str, str]:
        path = path + ("custom_identifiers",)
        for key in table:
            if not key.strip():
                self.report(self.locator.key(path + (key,)), f"{dotted(path + (key,))}: a custom identifier key is empty",
                            'name the identifier as Attentive knows it, e.g. loyalty_id = "<column>"')
            elif len(key) > CUSTOM_IDENTIFIER_KEY_MAX:
                self.report(self.locator.key(path + (key,)),
                            f"{dotted(path)}: custom identifier key {json.dumps(key[:40])}... is {len(key)} characters",
                            f"shorten it to {CUSTOM_IDENTIFIER_KEY_MAX} characters or fewer")
        return self._columns(path, table)

    def _audience(self, path: KeyPath, values: dict[str, Any], mapped: dict[str, str], constants: dict[str, Any]) -> None:
        audience, limit = values["audience"], values["audience_shrink_limit"]
        at = path + ("audience",)
        if audience is not None:
            if (problem := name_problem(audience)) is not None:
                self.report(self.locator.value(at), f"{dotted(at)}: {problem[0]}", problem[1])
            elif audience in mapped or audience in constants:
                what = f"the mapped attribute (column {mapped[audience]!r})" if audience in mapped else "a constant"
                self.report(self.locator.value(at),
                            f"{dotted(at)} {json.dumps(audience)} has the same name as {what}",
                            "give the audience an attribute name of its own; every profile of the file gets it = true")
        # Allowed without an audience: removing the audience (an edit) may leave it in the file.
        self._shrink_limit(path, limit)

    def _shrink_limit(self, path: KeyPath, limit: float | None) -> None:
        """The share of members that may leave in one send: an audience's or a segment's."""
        at = path + ("audience_shrink_limit",)
        if limit is not None and not 0 < limit <= 1:  # `not` so that nan is refused too
            self.report(self.locator.value(at), f"{dotted(at)} {limit} is outside 0 (exclusive)..1",
                        "write the share of members that may leave in one send, more than 0 and at most 1, e.g. 0.5")

    def _attributes(self, path: KeyPath, table: dict[str, Any]) -> dict[str, str]:
        path = path + ("attributes",)
        for name in table:
            if (problem := name_problem(name)) is not None:
                self.report(self.locator.key(path + (name,)), f"{dotted(path + (name,))}: {problem[0]}", problem[1])
        return self._columns(path, table)

    def _tables(self, path: KeyPath, constants: dict[str, Any], types: dict[str, Any],
                mapped: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        checks = ((path + ("constants",), constant_problems(constants, mapped)),
                  (path + ("types",), type_problems(types, set(mapped) | set(constants), constants)))
        for at, problems in checks:
            for p in problems:
                where = (self.locator.value if p.on_value else self.locator.key)(at + (p.key,))
                self.report(where, f"{dotted(at + (p.key,))}: {p.message}", p.fix)
        return dict(constants), dict(types)

    def _columns(self, path: KeyPath, table: dict[str, Any]) -> dict[str, str]:
        columns = {}
        for key, column in table.items():
            if isinstance(column, str) and column.strip():
                columns[key] = column
            else:
                self.report(self.locator.value(path + (key,)),
                            f"{dotted(path + (key,))} must name a source column (non-empty text)",
                            f'write {dotted((key,))} = "<column>"')
        return columns
