"""The US national-format fast path of normalize_phone gives exactly what libphonenumber gives: the
same E.164 or the same refusal, for numbers in every shape a warehouse holds, valid or not, and the
assumption it rests on (validity follows from the first six digits) holds for the library's US
metadata."""
from __future__ import annotations

import random

import phonenumbers
import pytest

from tui.sync.profiles import normalize_phone

SHAPES = ("({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "{a}{b}{c}", "1-{a}-{b}-{c}", "+1 {a} {b} {c}", "1{a}{b}{c}",
          " {a} {b} {c} ")


def library(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text.strip(), "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_the_fast_path_agrees_with_libphonenumber_on_random_numbers():
    rng = random.Random(15)
    for _ in range(5000):
        digits = f"{rng.randrange(10**9, 10**10):010d}"
        text = rng.choice(SHAPES).format(a=digits[:3], b=digits[3:6], c=digits[6:])
        assert normalize_phone(text, "US") == library(text), text


@pytest.mark.parametrize("text", ["(212) 200-0000", "911", "212-200-000", "212 200 00000", "+44 20 7946 0000",
                                  "(099) 200-0000", "212-100-0000", "212 200 0000 x12", "2122000000#"])
def test_edge_shapes_agree_with_libphonenumber(text):
    assert normalize_phone(text, "US") == library(text)


def test_validity_follows_from_the_first_six_digits():
    rng = random.Random(16)
    for _ in range(2000):
        npa_nxx = f"{rng.randrange(200, 1000)}{rng.randrange(0, 1000):03d}"
        verdicts = {phonenumbers.is_valid_number(phonenumbers.parse(f"+1{npa_nxx}{line:04d}", None))
                    for line in rng.sample(range(10_000), 20)}
        assert len(verdicts) == 1, npa_nxx
