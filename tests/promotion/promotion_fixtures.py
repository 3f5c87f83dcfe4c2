"""Small environment files and history rows shared by the promotion tests (imported, not collected)."""
from __future__ import annotations

import json
import time
from contextlib import closing
from pathlib import Path

from config_kit import destination_toml, environment_toml, write_config_folder

from tui.sync import history_schema

LOYALTY_OPTIONS = """\
admin_only = false
allow_restricted_pii = true
verbose_logging = true
phone_region = "US"
rejection_threshold = 0.05
rate_limit = 20
"""
SANDBOX_TOML = environment_toml(
    "embedded", key="demo:sandbox", description="Sandbox company",
    destinations=[destination_toml("loyalty", description="Loyalty tier and points", identifiers={"email": "email"},
                                   extra=LOYALTY_OPTIONS)])

# Literal, comments and all: a promotion must keep every byte of production.toml it does not change,
# and the tests compare the file byte for byte.
PRODUCTION_TOML = """\
# Production: reviewed in git. Every line here is read by a human.
api_url = "embedded"   # the embedded simulator's production company

[access]
# Only these logins may promote.
admins = ["alice"]
restricted_pii = ["bob"]   # masked identifiers

[credentials.attentive]
description = "Production company"
type = "custom-attributes-api"
# The key lives in the secrets file, never here.
api_key = "demo:production"

# Destinations below arrive by promotion.
[destinations.newsletter]
description = "Newsletter flags"   # keep short
credential = "attentive"
primary_identifier = "email"
endpoint = "custom-attributes"
admin_only = false
allow_restricted_pii = true
verbose_logging = false
phone_region = "US"
rejection_threshold = 0.01

[destinations.newsletter.identifiers]
email = "email"

[destinations.newsletter.attributes]
"Newsletter" = "newsletter"   # yes/no

# Trailing note: end of production.
"""


def write_config(config_dir: Path, *, sandbox: str = SANDBOX_TOML, production: str = PRODUCTION_TOML) -> Path:
    return write_config_folder(config_dir, sandbox, production)


def record_run(data_dir: Path, *, destination: str, config_hash: str, environment: str = "sandbox",
               mode: str = "sample", status: str = "finished", accepted: int = 48, rejected: int = 1,
               invalid: int = 1, failed: int = 0, sample_size: int | None = 50,
               verification: tuple[int, int, int] | None = (48, 0, 0)) -> int:
    """A run as the history store records it, with its read-back (checked, mismatched, missing)."""
    with closing(history_schema.connect(data_dir)) as conn:
        run_id = conn.execute(
            "INSERT INTO runs (operator, environment, destination, endpoint, config_hash, mode, sample_size,"
            " source_path, source_hash, source_format, started_at, finished_at, status, rows_read, accepted,"
            " rejected, invalid, failed) VALUES ('alice', ?, ?, 'bulk', ?, ?, ?, 'audience.csv', 'x', 'csv',"
            " ?, ?, ?, ?, ?, ?, ?, ?)",
            (environment, destination, config_hash, mode, sample_size, time.time(), time.time(), status,
             accepted + rejected + invalid + failed, accepted, rejected, invalid, failed),
        ).lastrowid
        if verification is not None:
            checked, mismatched, missing = verification
            conn.execute(
                "INSERT INTO verifications (run_id, checked_at, checked, matched, mismatched, missing, passed, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, time.time(), checked, checked - mismatched - missing, mismatched, missing,
                 int(mismatched == 0 and missing == 0), json.dumps([])),
            )
    return run_id
