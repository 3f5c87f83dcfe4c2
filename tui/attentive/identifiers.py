"""What Attentive takes as a phone identifier, for the tool (tui.sync.profiles) and the simulator alike."""
from __future__ import annotations

import re

# E.164: "+", a country code that does not start with 0, at most 15 digits in all. At least 7: no
# real number with its country code is shorter, and a shorter one is a typo or an extension.
# [0-9], not \d: \d also matches other scripts' digits ("+١٢٣..."), which no API takes.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def is_e164(text: str) -> bool:
    return E164.fullmatch(text) is not None
