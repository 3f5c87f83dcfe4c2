"""Shared text for the settings tests: a valid environment file (written with config_kit's
write_config_folder; the CLI on it is cli_kit's `cli_on`)."""
from __future__ import annotations

from config_kit import destination_toml, environment_toml

# alice an admin, bob restricted; credential "main" on the sandbox demo key; destination "loyalty".
VALID = environment_toml(
    "embedded", restricted=("bob",), credential="main", key="demo:sandbox", description="test key",
    destinations=[destination_toml("loyalty", credential="main", description="Loyalty", identifiers={"email": "email"},
                                   attributes={"Loyalty Tier": "tier"})])
