"""Custom attribute names that would carry sensitive personal data (CCPA/CPRA special categories).

Attentive's terms forbid these in custom attributes (see ATTENTIVE.md "Data rules"). Names are
split into lower-case words ("creditCardNumber" -> credit card number) and matched word by word,
so "Race" is caught but "Embrace Date" is not. A keyword ending in "*" matches any word it starts.
"""
from __future__ import annotations

import re

CATEGORIES: dict[str, tuple[str, ...]] = {
    "health": (
        "health", "medical", "diagnosis", "disease", "illness", "medication*", "prescription*",
        "pregnan*", "disability", "disabled", "allergy", "allergies", "blood type", "mental",
        "hiv", "cancer", "diabetes", "diabetic", "therapy", "patient", "symptom*",
    ),
    "precise geolocation": (
        "latitude", "longitude", "lat long", "latlong", "geolocation", "geo location", "gps",
        "coordinates", "precise location",
    ),
    "racial or ethnic origin": ("race", "racial", "ethnic", "ethnicity"),
    "religion": ("religion", "religious", "faith", "church", "mosque", "synagogue"),
    "sexual orientation": (
        "sexual orientation", "sexuality", "sex life", "gay", "lesbian", "bisexual", "lgbt*",
    ),
    "union membership": ("union member*", "trade union", "labor union", "labour union"),
    "government identifiers": (
        "ssn", "social security", "passport", "driver license", "driver licence",
        "drivers license", "drivers licence", "driving licence", "driving license", "national id",
        "tax id", "itin", "sin number",
    ),
    "financial account or card numbers": (
        "credit card", "creditcard", "debit card", "card number", "cc number", "iban",
        "bank account", "financial account", "routing number", "cvv", "cvc", "sort code",
    ),
    "passwords": ("password*", "passwd", "passcode", "pin number", "security answer"),
    "biometric or genetic data": (
        "biometric*", "fingerprint*", "face id", "faceprint", "retina*", "iris scan", "voiceprint",
        "dna", "genetic*", "genome",
    ),
    "citizenship or immigration status": (
        "citizenship", "immigration", "immigrant", "visa status", "green card",
        "residency status",
    ),
    "criminal history": (
        "criminal", "conviction*", "convicted", "arrest*", "felony", "felonies", "offender",
        "offence*", "offense*",
    ),
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    # "driver's" -> "drivers" so possessives match the plain keyword.
    return _WORD.findall(_CAMEL.sub(" ", text.replace("'", "").replace("\u2019", "")).lower())


_KEYWORDS: list[tuple[list[str], str]] = [
    (_words(keyword) if not keyword.endswith("*") else _words(keyword[:-1]) + ["*"], category)
    for category, keywords in CATEGORIES.items()
    for keyword in keywords
]


def _matches_at(words: list[str], start: int, pattern: list[str]) -> bool:
    prefix = pattern[-1] == "*"
    needed = pattern[:-1] if prefix else pattern
    if start + len(needed) > len(words):
        return False
    for offset, expected in enumerate(needed):
        word = words[start + offset]
        last = offset == len(needed) - 1
        if not (word == expected or (prefix and last and word.startswith(expected))):
            return False
    return True


def sensitive_category(name: str) -> str | None:
    """The sensitive-data category an attribute name falls into, or None."""
    words = _words(name)
    for pattern, category in _KEYWORDS:
        if any(_matches_at(words, start, pattern) for start in range(len(words))):
            return category
    return None
