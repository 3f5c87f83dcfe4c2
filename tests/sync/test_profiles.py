"""Mapping, normalisation and validation of one row, and the email fast path's parity with
email-validator."""
from __future__ import annotations

import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email
from sync_kit import loyalty

from tui.sync import reasons
from tui.sync.profiles import Invalid, Profile, ProfileBuilder, normalize_email, normalize_phone
from tui.sync.sources import SourceRow


def build(values: dict, **destination) -> Profile | Invalid:
    builder = ProfileBuilder(loyalty(**destination))
    return builder.build(SourceRow(7, [values.get(column) for column in builder.columns]))


def library(text: str) -> str | None:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def test_the_email_fast_path_agrees_with_email_validator():
    rng = random.Random(3)
    alphabet = string.ascii_letters + string.digits + ".-_+@!#'" + " "
    samples = ["Jane.Doe@Example.COM", " a@b.co ", "x@test", "x@y.test", "x@localhost", "a..b@c.com", ".a@c.com",
               "a.@c.com", "a@-c.com", "a@c-.com", "a@xn--nxasmq6b.com", "a@c.123", "a@c.c0m", "a" * 65 + "@c.com",
               "a@" + "c" * 64 + ".com", "a@b.onion", "\u00e9@example.com", "a@b"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(3, 24))) for _ in range(3000)]
    samples += [f"{rng.choice(['j', 'J.d', 'a+b', 'x_y'])}@{rng.choice(['ex.com', 'Ex-Am.org', 'a.b.io', 'q.test'])}"
                for _ in range(300)]
    for text in samples:
        assert normalize_email(text) == library(text), text


@pytest.mark.parametrize(("raw", "expected"), [
    ("+12125550134", "+12125550134"), ("(212) 555-0134", "+12125550134"), ("212.555.0134", "+12125550134"),
    ("1 212 555 0134", "+12125550134"), ("+44 20 7946 0958", "+442079460958"), ("555-01", None), ("call me", None),
])
def test_phones_become_e164_with_the_destination_region(raw, expected):
    assert normalize_phone(raw, "US") == expected


def test_a_valid_row_maps_identifier_and_attributes_and_omits_empties():
    profile = build({"email": " Jane@Example.com ", "phone": "(212) 555-0134", "tier": " Gold ", "points": ""})
    assert isinstance(profile, Profile)
    assert profile.identifier == "Jane@example.com"
    # The phone travels only as an attribute, normalised; the empty points value is not sent at all.
    assert profile.attributes == {"Loyalty Tier": "Gold", "Phone Number": "+12125550134"}


def test_phone_primary_destinations_use_the_phone_and_carry_the_email_as_an_attribute():
    profile = build({"email": "j@example.com", "phone": "212-555-0134", "tier": "Gold"}, primary_identifier="phone",
                    attributes={"Loyalty Tier": "tier", "Email": "email"})
    assert (profile.identifier, profile.attributes) == ("+12125550134", {"Loyalty Tier": "Gold", "Email": "j@example.com"})


@pytest.mark.parametrize(("values", "reason"), [
    ({"email": "", "tier": "Gold"}, reasons.MISSING_IDENTIFIER),
    ({"email": None, "tier": "Gold"}, reasons.MISSING_IDENTIFIER),
    ({"email": "nope", "tier": "Gold"}, reasons.INVALID_EMAIL),
    ({"email": "a@example.com", "phone": "12", "tier": "Gold"}, reasons.INVALID_PHONE),
    ({"email": "a@example.com", "tier": ["Gold"]}, reasons.NON_SCALAR_VALUE),
    ({"email": "a@example.com", "tier": {"level": 1}}, reasons.NON_SCALAR_VALUE),
    ({"email": ["a@example.com"], "tier": "Gold"}, reasons.NON_SCALAR_VALUE),
    ({"email": "a" * 60 + "@" + "b" * 50 + ".com", "tier": "Gold"}, reasons.IDENTIFIER_TOO_LONG),
    ({"email": "a@example.com", "tier": " ", "points": None}, reasons.NO_ATTRIBUTES),
])
def test_bad_rows_get_their_reason_code_and_row(values, reason):
    invalid = build(values)
    assert isinstance(invalid, Invalid) and (invalid.reason, invalid.row) == (reason, 7)


def test_json_scalars_keep_their_type_and_the_digest_follows_the_payload():
    a = build({"email": "a@example.com", "points": 12, "tier": True})
    b = build({"email": "a@example.com", "points": "12", "tier": True})
    assert a.attributes == {"Points": 12, "Loyalty Tier": True}
    assert a.digest != b.digest and a.key == b.key
    assert build({"email": "A@example.com", "points": 12}).key == a.key  # duplicates ignore case
