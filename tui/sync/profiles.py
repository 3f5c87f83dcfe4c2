"""One source row -> one profile to send, or a rejection: mapping, normalisation, validation.

- The primary identifier (email or phone) is required; the other identifier travels only as a custom
  attribute when the destination maps its column there, normalised the same way.
- Phones become E.164 with the destination's region (`phonenumbers`); values already in E.164 shape
  take a fast path and are sent as they are, and US numbers in a national shape are checked once per
  area code and exchange (the library costs about 50 us a number).
- Emails are trimmed and syntax-checked as `email-validator` does (no DNS). That library costs about
  20 us a call, too much at 25,600 profiles/s, so a strict regular expression accepts the plain ASCII
  addresses it would accept (and normalises them the same way: domain lower-cased); anything else
  goes to the library.
- Empty values are omitted, never sent as empty strings; values must be scalars.
- A destination's clientUserId and custom identifier columns travel beside the primary identifier,
  trimmed; one over 100 characters rejects the row, it never stands in for the primary.
"""
from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from tui.attentive.endpoints import IDENTIFIER_MAX
from tui.attentive.identifiers import is_e164
from tui.settings.access import mask_identifier
from tui.settings.attribute_types import NotConvertible, convert
from tui.settings.model import Destination
from tui.sync import reasons
from tui.sync.source_files import SourceChunk, SourceRow

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FAST_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
# Besides a row's values and the destination's definition, what its payload follows from: the rules of
# this module (raise the first number when they change) and the libraries that normalise identifiers.
NORMALISATION = f"1/phonenumbers {phonenumbers.__version__}/email-validator {email_validator.__version__}"


def normalize_email(value: str) -> str | None:
    """The address as email-validator normalises it, or None when it is not a valid address."""
    text = value.strip()
    match = _FAST_EMAIL.fullmatch(text)
    if match:
        local, domain = match.groups()
        tld = domain.rsplit(".", 1)[1].lower()
        if len(local) <= 64 and len(text) <= 254 and "--" not in domain and tld not in _SPECIAL_USE_TLDS:
            return f"{local}@{domain.lower()}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


# A US number in a national shape ("(212) 200-0000", "212.200.0000", "1-212-200-0000", "+1 212 200 0000"):
# its ten digits, else None (anything else goes to libphonenumber whole).
_US_SEPARATORS = str.maketrans("", "", " ()-.")
_US_NATIONAL = re.compile(r"(?:\+?1)?([2-9]\d{9})")


def _us_national(text: str) -> str | None:
    found = _US_NATIONAL.fullmatch(text.translate(_US_SEPARATORS))
    return found.group(1) if found else None


@functools.lru_cache(maxsize=1 << 16)
def _us_exchange_valid(npa_nxx: str) -> bool:
    """Whether US numbers starting with these six digits are valid: every pattern of libphonenumber's
    US metadata leaves the last four digits free (tests/sync/test_phone_fast_path.py checks it against
    the library), so one parse per area code and exchange stands for all ten thousand numbers."""
    return phonenumbers.is_valid_number(phonenumbers.parse(f"+1{npa_nxx}0000", None))


def normalize_phone(value: str, region: str) -> str | None:
    """E.164, or None when the number is not valid for the region (or as an international number)."""
    text = value.strip()
    if is_e164(text):
        return text
    if region == "US":
        national = _us_national(text)
        if national is not None:
            return f"+1{national}" if _us_exchange_valid(national[:6]) else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(slots=True)
class Profile:
    row: int
    identifier: str                 # the primary identifier, normalised
    attributes: dict[str, Any]      # custom attribute name -> scalar
    digest: bytes                   # hash of what is sent: the diff compares it with the last accepted one
    key: int                        # 64-bit key of the identifier (case-folded) for in-run duplicates
    # v1-shaped externalIdentifiers {clientUserId?, customIdentifiers?: [{name, value}]}, None without any
    external: dict[str, Any] | None = None
    raw: bytes | None = None        # ProfileBuilder.raw_digest of its source row; None for a leave

    def user(self, kind: str) -> dict[str, Any]:
        """The payloads' `user` ({kind: identifier}, external identifiers beside it) for either endpoint."""
        if self.external is None:
            return {kind: self.identifier}
        return {kind: self.identifier, "externalIdentifiers": self.external}


@dataclass(slots=True)
class Invalid:
    row: int
    reason: str
    message: str
    identifier: str | None = None


def _digest_from(keyed: Callable[[], Any], record: bytes) -> bytes:
    """The hash of `record` from a copy of a hasher keyed already: half the time of keying one anew
    (blake2b parsing its salt and person each time), the unchanged path's largest step."""
    hasher = keyed()
    hasher.update(record)
    return hasher.digest()


def identifier_key(identifier: str) -> int:
    return int.from_bytes(hashlib.blake2b(identifier.lower().encode(), digest_size=8).digest(), "big", signed=True)


def payload_digest(identifier: str, attributes: dict[str, Any], external: dict[str, Any] | None = None) -> bytes:
    # Without external identifiers the canonical form is the one older histories recorded.
    if external is None:
        canonical = repr((identifier, sorted(attributes.items())))
    else:
        customs = sorted((item["name"], item["value"]) for item in external.get("customIdentifiers", ()))
        canonical = repr((identifier, sorted(attributes.items()), external.get("clientUserId"), customs))
    return hashlib.blake2b(canonical.encode(), digest_size=16).digest()


class ProfileBuilder:
    """Builds profiles for one destination. `columns` are the source columns to read, in the order
    `build` expects their values."""

    def __init__(self, destination: Destination):
        self.destination = destination
        self.kind = destination.primary_identifier
        primary_column = destination.identifiers.get(self.kind)
        if not primary_column:
            raise ValueError(f"destination {destination.name!r} maps no column to its primary identifier {self.kind!r}")
        columns = [primary_column]
        self._attributes: list[tuple[str, int, str | None]] = []  # (name, value index, identifier kind)
        identifier_columns = {column: kind for kind, column in destination.identifiers.items() if column}
        for name, column in destination.attributes.items():
            if column not in columns:
                columns.append(column)
            self._attributes.append((name, columns.index(column), identifier_columns.get(column)))
        # (clientUserId or None for a custom identifier, custom identifier key, value index)
        self._external: list[tuple[str | None, str, int]] = []
        wanted = ([("clientUserId", "", destination.client_user_id)] if destination.client_user_id else [])
        for field, key, column in wanted + [(None, k, c) for k, c in destination.custom_identifiers.items()]:
            if column not in columns:
                columns.append(column)
            self._external.append((field, key, columns.index(column)))
        self.columns = tuple(columns)
        self.primary_column = primary_column
        # Chosen once: a destination without external identifiers pays nothing for them per row.
        self.build: Callable[[SourceRow], Profile | Invalid] = self._with_external if self._external else self._build
        self.types = dict(destination.types)
        self.constants: dict[str, Any] = {}
        for name, text in destination.constants.items():
            try:
                self.constants[name] = convert(text, self.types.get(name, "string"))
            except NotConvertible as err:
                raise ValueError(f"constant {name!r} = {text!r} is not a {self.types[name]}: {err}") from None
        if destination.audience:  # membership: every valid profile of the file is in it (a JSON boolean, digested)
            self.constants[destination.audience] = True
        self._raw_key = hashlib.blake2b(f"{destination.config_hash()}/{NORMALISATION}".encode(), digest_size=32).digest()
        self._record_digests: dict[bytes, Callable[[bytes], Any]] = {}  # chunk salt -> a record's hash

    def raw_digest(self, source: SourceRow) -> bytes:
        """A hash of the row's mapped values as read (repr keeps 1 and "1" apart), keyed by everything
        else its payload follows from: equal digests build equal payloads, so a row whose digest is the
        one last confirmed needs no normalising to be known unchanged."""
        return hashlib.blake2b(repr(source.values).encode(), digest_size=16, key=self._raw_key).digest()

    def raw_digests(self, chunk: SourceChunk, indexes: Sequence[int]) -> list[bytes]:
        """The raw digest of each of the chunk's rows at `indexes` (ascending). A text record's is the hash
        of its bytes (keyed as raw_digest is, and by the chunk's salt: its format and header), taken
        without parsing it; a parsed row's is raw_digest."""
        if chunk.records is None:
            return [self.raw_digest(chunk.row(index)) for index in indexes]
        digest = self._record_digests.get(chunk.salt)
        if digest is None:
            key = hashlib.blake2b(self._raw_key + chunk.salt, digest_size=32).digest()
            digest = self._record_digests[chunk.salt] = functools.partial(
                _digest_from, hashlib.blake2b(digest_size=16, salt=key[:16], person=key[16:]).copy)
        records = chunk.records
        picked = records if len(indexes) == len(records) else [records[index] for index in indexes]
        return list(map(digest, picked))

    def _build(self, source: SourceRow) -> Profile | Invalid:
        row = source.row
        if source.problem is not None:
            return Invalid(row, reasons.MALFORMED_ROW, f"row {row} {source.problem}")
        values = source.values
        raw = values[0]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return Invalid(row, reasons.MISSING_IDENTIFIER, f"{self.primary_column!r} ({self.kind}) is empty")
        if isinstance(raw, (list, dict)):
            return Invalid(row, reasons.NON_SCALAR_VALUE, f"{self.primary_column!r} holds a {_kind_of(raw)}, not an {self.kind}")
        text = raw if isinstance(raw, str) else str(raw)
        identifier, invalid = self._identifier(self.kind, self.primary_column, text, row)
        if invalid is not None:
            return invalid
        attributes: dict[str, Any] = {}
        for name, index, kind in self._attributes:
            value = values[index]
            if value is None:
                continue
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            elif isinstance(value, (list, dict)):
                return Invalid(
                    row, reasons.NON_SCALAR_VALUE,
                    f"{self.columns[index]!r} (attribute {name!r}) holds a {_kind_of(value)}; "
                    "attribute values must be text, numbers or true/false",
                    identifier,
                )
            if kind is not None:
                normalised, invalid = self._identifier(kind, self.columns[index], str(value), row, identifier)
                if invalid is not None:
                    return invalid
                value = normalised
            if name in self.types:
                try:
                    value = convert(value, self.types[name])
                except NotConvertible as err:
                    shown = mask_identifier(str(value)) if kind is not None else str(value)[:120]
                    return Invalid(row, reasons.ATTRIBUTE_TYPE_INVALID,
                                   f"{self.columns[index]!r} (attribute {name!r}) holds {shown!r}, which is not a "
                                   f"{self.types[name]}: {err}", identifier)
            attributes[name] = value
        attributes.update(self.constants)
        if not attributes:
            return Invalid(row, reasons.NO_ATTRIBUTES, "every mapped attribute is empty; nothing to send", identifier)
        return Profile(row, identifier, attributes, payload_digest(identifier, attributes), identifier_key(identifier))

    def _with_external(self, source: SourceRow) -> Profile | Invalid:
        built = self._build(source)
        if isinstance(built, Invalid):
            return built
        client: str | None = None
        customs: list[dict[str, str]] = []
        for field, key, index in self._external:
            value = source.values[index]
            if value is None:
                continue
            if isinstance(value, (list, dict)):
                return Invalid(built.row, reasons.NON_SCALAR_VALUE,
                               f"{self._what(field, key, index)} holds a {_kind_of(value)}, not an identifier",
                               built.identifier)
            text = (value if isinstance(value, str) else str(value)).strip()
            if not text:
                continue  # Attentive asks for absent identifiers to be omitted, never sent empty
            if len(text) > IDENTIFIER_MAX:
                return Invalid(built.row, reasons.IDENTIFIER_TOO_LONG,
                               f"{self._what(field, key, index)} is {len(text)} characters; Attentive allows "
                               f"{IDENTIFIER_MAX}", built.identifier)
            if field is None:
                customs.append({"name": key, "value": text})
            else:
                client = text
        if client is None and not customs:
            return built
        external: dict[str, Any] = {"clientUserId": client} if client is not None else {}
        if customs:
            external["customIdentifiers"] = customs
        built.external = external
        built.digest = payload_digest(built.identifier, built.attributes, external)
        return built

    def _what(self, field: str | None, key: str, index: int) -> str:
        return f"{self.columns[index]!r} ({field or f'custom identifier {key!r}'})"

    def key_of(self, source: SourceRow) -> int | None:
        """The identifier key `build` would give the row, or None when the row has no valid
        primary identifier; normalises the identifier only."""
        raw = source.values[0] if source.problem is None else None
        if raw is None or isinstance(raw, (list, dict)):
            return None
        text = raw if isinstance(raw, str) else str(raw)
        identifier, invalid = self._identifier(self.kind, self.primary_column, text, source.row)
        return None if invalid is not None else identifier_key(identifier)

    def _identifier(
        self, kind: str, column: str, text: str, row: int, primary: str | None = None
    ) -> tuple[str, Invalid | None]:
        value, reason, message = normalized_identifier(kind, column, text, self.destination.phone_region)
        if reason is not None:
            return "", Invalid(row, reason, message, primary or (value or text.strip())[:200])
        return value, None


def normalized_identifier(kind: str, column: str, text: str, region: str,
                          shown: Callable[[str], str] = str) -> tuple[str, str | None, str]:
    """An email or phone as Attentive gets it (normalize_email, normalize_phone in `region`): (value, None,
    "") or, refused, (the value or "", its reason code, a message naming `column` and quoting shown(text)).
    Profiles, event and subscription rows and segment files all read their identifier here."""
    if kind == "email":
        value = normalize_email(text)
        if value is None:
            return "", reasons.INVALID_EMAIL, f"{column!r} is not a valid email address: {shown(text.strip()[:120])!r}"
    else:
        value = normalize_phone(text, region)
        if value is None:
            return "", reasons.INVALID_PHONE, (f"{column!r} is not a valid phone number for region {region}: "
                                               f"{shown(text.strip()[:60])!r}")
    if len(value) > IDENTIFIER_MAX:
        return value, reasons.IDENTIFIER_TOO_LONG, f"{column!r} is {len(value)} characters; Attentive allows {IDENTIFIER_MAX}"
    return value, None, ""


def _kind_of(value: Any) -> str:
    return "list" if isinstance(value, list) else "nested object"
