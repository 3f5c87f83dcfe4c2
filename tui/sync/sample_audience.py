"""The shipped sample audience (tui/sync/sample/loyalty-audience.csv), generated deterministically.

Regenerate with `python -m tui.sync.sample_audience` (the same seed gives the same bytes). Most rows
are valid; about one in forty is deliberately bad so the rejection log has something to show:
invalid emails and phones, a missing email, duplicate emails, and a points value that is text
(Attentive rejects it: Points is a number attribute).
"""
from __future__ import annotations

import csv
import io
import random
import sys
from datetime import date, timedelta
from pathlib import Path

import phonenumbers

SAMPLE_PATH = Path(__file__).resolve().parent / "sample" / "loyalty-audience.csv"
COLUMNS = ("email", "phone", "first_name", "tier", "points", "member_since")
SEED = 20240611

_FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kira", "Liam",
          "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe")
_LAST = ("Okafor", "Smith", "Garcia", "Chen", "Novak", "Haddad", "Kim", "Silva", "Ivanova", "Patel", "Murphy", "Rossi")
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
_AREAS = ("212", "312", "415", "617", "206", "305", "512", "720")
_TIERS = ("Bronze", "Silver", "Gold", "Platinum")
_BAD_EMAILS = ("jane.doe@", "no-at-sign.example.com", "two..dots@example.com", "spaces in@example.com", "trailing@example")
_BAD_PHONES = ("555-01", "12345", "+1 (000) 000-0000", "call me", "+999 1234")


def _phone(rng: random.Random) -> str:
    while True:
        area, exchange, line = rng.choice(_AREAS), rng.randint(201, 989), rng.randint(0, 9999)
        digits = f"{area}{exchange:03d}{line:04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(digits, "US")):
            break
    style = rng.randrange(4)
    if style == 0:
        return f"+1{digits}"
    if style == 1:
        return f"({area}) {exchange:03d}-{line:04d}"
    if style == 2:
        return f"{area}-{exchange:03d}-{line:04d}"
    return f"{area}.{exchange:03d}.{line:04d}"


def sample_rows(count: int = 3000, seed: int = SEED) -> list[list[str]]:
    rng = random.Random(seed)
    rows: list[list[str]] = []
    for index in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first.lower()}.{last.lower()}{index}@{rng.choice(_DOMAINS)}"
        since = date(2015, 1, 1) + timedelta(days=rng.randrange(3500))
        row = [email, _phone(rng), first, rng.choice(_TIERS), str(rng.randrange(0, 20000)), since.isoformat()]
        if index >= 100 and index % 40 == 7:  # the first hundred rows stay clean for a quick look
            kind = (index // 40) % 5
            if kind == 0:
                row[0] = rng.choice(_BAD_EMAILS)
            elif kind == 1:
                row[1] = rng.choice(_BAD_PHONES)
            elif kind == 2:
                row[0] = ""
            elif kind == 3:
                row[0] = rows[index - 50][0]
            elif index > count // 2:
                row[4] = "lots"
        rows.append(row)
    return rows


def render(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    target = Path((argv or sys.argv[1:] or [str(SAMPLE_PATH)])[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(sample_rows()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
