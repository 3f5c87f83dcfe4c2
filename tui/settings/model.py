"""Typed settings shared by the console, the CLI and the engine. Plain data; loading lives elsewhere."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

EnvironmentName = Literal["sandbox", "production"]
ENVIRONMENTS: tuple[EnvironmentName, ...] = ("sandbox", "production")
# A send-once destination's endpoint follows from its kind (KIND_ENDPOINTS); the file never names it.
DestinationEndpoint = Literal["bulk", "custom-attributes", "custom-events", "purchase-events", "subscriptions",
                              "segment-members-add"]
# What a destination sends: profiles' attributes (bulk or v1), v1 events, v1 subscriptions, the members of
# a v2 segment, or the files of the subscriber segment upload.
DestinationKind = Literal["attributes", "custom-event", "purchase", "subscription", "segment", "segment-file"]
EVENT_KINDS: tuple[DestinationKind, ...] = ("custom-event", "purchase")
# Kinds whose requests have side effects a repeat would double: sent once, through the event ledger.
SEND_ONCE_KINDS: tuple[DestinationKind, ...] = (*EVENT_KINDS, "subscription")
KIND_ENDPOINTS: dict[str, DestinationEndpoint] = {"custom-event": "custom-events", "purchase": "purchase-events",
                                                  "subscription": "subscriptions", "segment": "segment-members-add"}
SUBSCRIPTION_TYPES = ("MARKETING", "TRANSACTIONAL")


def environment_name(text: str) -> EnvironmentName:
    """An environment named by text (a run's, as the history keeps it), checked."""
    if text == "sandbox":
        return "sandbox"
    if text == "production":
        return "production"
    raise ValueError(f"unknown environment {text!r}: use sandbox or production")
EMBEDDED = "embedded"


@dataclass(frozen=True)
class AccessPolicy:
    admins: tuple[str, ...] = ()
    restricted_pii: tuple[str, ...] = ()

    # "*" stands for every login (the shipped embedded demo; refused with a real api_url).
    def is_admin(self, login: str) -> bool:
        return login in self.admins or "*" in self.admins

    def is_restricted(self, login: str) -> bool:
        return login in self.restricted_pii or "*" in self.restricted_pii


@dataclass(frozen=True)
class Credential:
    name: str
    description: str
    type: str                 # "custom-attributes-api"
    api_key_ref: str          # "secret:NAME", "env:VAR" or, for the embedded simulator only, "demo:ENV"


@dataclass(frozen=True)
class EventMapping:
    """[destinations.NAME.event] of an event destination (kind "custom-event" or "purchase"); the
    TOML keys are these field names. Columns are source columns; see event_settings.py for the rules.

    Both kinds: occurred_at (column of the time), time_zone (IANA, for times without an offset),
    event_key (columns identifying one event; a purchase's defaults to its order column).
    Custom events: type (a constant) or type_column; sms (true: no lists or objects in properties,
    which Attentive supports for email only); properties come from [attributes] and [constants].
    Purchases: order_column, product_id_column, product_variant_id_column, price_column,
    currency_column or currency (a constant), optional quantity_column, name_column,
    product_url_column, product_image_column, and sales_channel."""
    occurred_at: str
    time_zone: str | None = None
    event_key: tuple[str, ...] = ()
    type: str | None = None
    type_column: str | None = None
    sms: bool = False
    order_column: str | None = None
    product_id_column: str | None = None
    product_variant_id_column: str | None = None
    price_column: str | None = None
    currency_column: str | None = None
    currency: str | None = None
    quantity_column: str | None = None
    name_column: str | None = None
    product_url_column: str | None = None
    product_image_column: str | None = None
    sales_channel: str = "IN_STORE"

    def table(self) -> dict[str, object]:
        """The keys that differ from their defaults, as the file writes them (event_key a list). Also
        what config_hash takes, so a key added later with a default keeps existing hashes."""
        defaults = EventMapping(occurred_at=self.occurred_at)
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if key == "occurred_at" or value != getattr(defaults, key):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class SubscriptionMapping:
    """[destinations.NAME.subscription] of a kind "subscription" destination (subscription_settings.py).
    consent_column: true subscribes, false unsubscribes, empty does nothing. A sign-up source id, or
    a locale (language, country) with a subscription type, names the sign-up unit. single_opt_in must
    be said either way (it skips the confirmation text: see the README's legal note)."""
    consent_column: str
    single_opt_in: bool
    sign_up_source_id: str | None = None
    language: str | None = None
    country: str | None = None
    subscription_type: str | None = None
    check_eligibility: bool = False      # GET /v1/subscriptions before the first subscribe of a person
    notify_unsubscribe: bool = False     # false: unsubscribes go with notification.disabled = true

    def table(self) -> dict[str, object]:
        """The keys as the file writes them (locale as "en-US"); what config_hash takes."""
        out: dict[str, object] = {"consent_column": self.consent_column, "single_opt_in": self.single_opt_in}
        if self.sign_up_source_id is not None:
            out["sign_up_source_id"] = self.sign_up_source_id
        if self.language is not None:
            out["locale"] = f"{self.language}-{self.country}"
        if self.subscription_type is not None:
            out["subscription_type"] = self.subscription_type
        if self.check_eligibility:
            out["check_eligibility"] = True
        if self.notify_unsubscribe:
            out["notify_unsubscribe"] = True
        return out


@dataclass(frozen=True)
class SegmentFileMapping:
    """[destinations.NAME.segment_file] of a kind "segment-file" destination (segment_file_settings.py):
    the subscriber segment upload, files written in Attentive's format and, with sftp_host, uploaded.
    sftp_key is the NAME of a private key in the secrets file (None: the ssh agent), never a key."""
    segment: str
    client_domain: str
    sftp_host: str | None = None
    sftp_port: int = 22
    sftp_user: str | None = None
    sftp_folder: str = "/"
    known_hosts: str | None = None       # None: ~/.ssh/known_hosts
    sftp_key: str | None = None

    def table(self) -> dict[str, object]:
        """The keys that differ from their defaults, as the file writes them; what config_hash takes."""
        defaults = SegmentFileMapping(segment=self.segment, client_domain=self.client_domain)
        return {key: value for key, value in asdict(self).items()
                if key in ("segment", "client_domain") or value != getattr(defaults, key)}


@dataclass(frozen=True)
class SegmentMapping:
    """[destinations.NAME.segment] of a kind "segment" destination (segment_settings.py): the file's
    people are the members of one v2 segment. With external_id, the segment is the one Attentive
    knows by it (created with it and `name` when there is none); without, the one segment named
    `name` (created when there is none). description is written only when the segment is created."""
    name: str
    external_id: str | None = None
    description: str | None = None

    def table(self) -> dict[str, object]:
        """The keys that are set, as the file writes them; what config_hash takes."""
        return {key: value for key, value in asdict(self).items() if value is not None}


# Destination fields added after the first histories were written, with their unset values.
OPTIONAL_HASHED: dict[str, object] = {"constants": {}, "types": {}, "client_user_id": None, "custom_identifiers": {},
                                      "audience": None, "kind": "attributes", "event": None, "subscription": None,
                                      "segment_file": None, "segment": None}


@dataclass(frozen=True)
class Destination:
    name: str
    description: str
    credential: str
    primary_identifier: Literal["email", "phone"]
    endpoint: DestinationEndpoint = "bulk"
    admin_only: bool = False
    allow_restricted_pii: bool = True
    verbose_logging: bool = True
    phone_region: str = "US"
    rejection_threshold: float = 0.05
    rate_limit: float | None = None
    subscriptions: bool = False
    identifiers: dict[str, str] = field(default_factory=dict)   # "email"/"phone" -> source column
    attributes: dict[str, str] = field(default_factory=dict)    # custom attribute name -> source column
    constants: dict[str, str] = field(default_factory=dict)     # custom attribute name -> value sent on every profile
    types: dict[str, str] = field(default_factory=dict)         # attribute name -> string | number | boolean | date
    # Bulk only: identifiers sent beside the primary one (never instead of it).
    client_user_id: str | None = None                           # source column -> clientUserId
    custom_identifiers: dict[str, str] = field(default_factory=dict)  # identifier key -> source column
    # Audience membership: every profile of the file gets `audience` = true; confirmed members of the
    # last finished membership send that are absent now get false, unless more than
    # `audience_shrink_limit` of the members would leave (a truncated export) and --allow-shrink is not given.
    audience: str | None = None
    audience_shrink_limit: float = 0.5
    # Events (issue 13): the v1 event endpoints instead of attributes; `event` is set exactly then.
    kind: DestinationKind = "attributes"
    event: EventMapping | None = None
    subscription: SubscriptionMapping | None = None   # kind "subscription" (issue 14)
    segment_file: SegmentFileMapping | None = None     # kind "segment-file" (issue 14): files, no API endpoint
    segment: SegmentMapping | None = None              # kind "segment" (issue 14): v2 segment members

    @property
    def sends_events(self) -> bool:
        return self.kind in EVENT_KINDS

    @property
    def reads_back(self) -> bool:
        """Attributes can be read back after a test send; events, subscriptions and segment members cannot."""
        return self.kind == "attributes"

    @property
    def keeps_members(self) -> bool:
        """An audience attribute or a segment: a send adds the file's people and removes who left."""
        return self.audience is not None or self.kind == "segment"

    @property
    def sends_once(self) -> bool:
        """Events and subscriptions: each request is marked in the ledger before it leaves, never repeated."""
        return self.kind in SEND_ONCE_KINDS

    def config_hash(self) -> str:
        """Canonical hash of what decides the payloads; the credential name is excluded so a
        sandbox test send vouches for the same definition under production's credential."""
        body = asdict(self)
        body.pop("credential")
        body.pop("description")
        body.pop("audience_shrink_limit")  # a guard, not part of any payload
        for key, unset in OPTIONAL_HASHED.items():   # absent when unset: older definitions keep their hash
            if body[key] == unset:
                body.pop(key)
        if self.event is not None:
            body["event"] = self.event.table()
        if self.subscription is not None:
            body["subscription"] = self.subscription.table()
        if self.segment_file is not None:
            body["segment_file"] = self.segment_file.table()
        if self.segment is not None:
            body["segment"] = self.segment.table()
        if self.kind in KIND_ENDPOINTS:
            body.pop("endpoint")   # no attribute endpoint: its kind decides
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Environment:
    name: EnvironmentName
    path: Path
    api_url: str
    access: AccessPolicy = AccessPolicy()
    credentials: dict[str, Credential] = field(default_factory=dict)
    destinations: dict[str, Destination] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.api_url == EMBEDDED
