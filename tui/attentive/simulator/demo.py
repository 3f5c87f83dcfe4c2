"""The public demo keys of the embedded simulator (`api_key = "demo:sandbox"` / `"demo:production"`).

They are not secrets: they only open the simulator that runs inside this process on loopback.
Sandbox and production are two different simulated companies, so their profiles never mix.
"""
from __future__ import annotations

from pathlib import Path

from tui.attentive.simulator.config import KeySpec, SimulatorConfig

DEMO_KEYS: dict[str, str] = {
    "sandbox": "sim-demo-sandbox-7f3c9a1e",
    "production": "sim-demo-production-4b8d2e60",
}

DEMO_KEY_SPECS: dict[str, KeySpec] = {
    DEMO_KEYS["sandbox"]: KeySpec("Northwind Outfitters (Sandbox)", "attentive-console demo"),
    DEMO_KEYS["production"]: KeySpec("Northwind Outfitters", "attentive-console demo"),
}

# One enumerated attribute, as if defined in Attentive's UI, so demos can show that rejection.
DEMO_ENUM_ATTRIBUTES: dict[str, frozenset[str]] = {
    "Loyalty Tier": frozenset({"Bronze", "Silver", "Gold", "Platinum"}),
}


# The sample destination sends each member's phone as the "Phone Number" attribute. Attentive types an
# attribute by its first value, and "+14155550101" reads as a number, so the demo account declares it
# text, as an operator would in Attentive's UI before the first send (read-back would flag it otherwise).
DEMO_TEXT_ATTRIBUTES = frozenset({"Phone Number"})


def demo_config(state_file: Path | None = None) -> SimulatorConfig:
    return SimulatorConfig(keys=DEMO_KEY_SPECS, state_file=state_file, enum_attributes=DEMO_ENUM_ATTRIBUTES,
                           text_attributes=DEMO_TEXT_ATTRIBUTES)
