"""What a simulator instance is: its keys, limits, rules, faults and where it keeps state."""
from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui.attentive import endpoints
from tui.attentive.endpoints import Permission
from tui.attentive.simulator.faults import FaultSpec

ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower()) or "company"


@dataclass(frozen=True)
class KeySpec:
    """One API key: the custom app it belongs to, that app's company and its permissions.

    Keys with the same company_id share one profile store, as two apps of one Attentive company do.
    """

    company_name: str
    application_name: str = "attentive-console"
    permissions: frozenset[Permission] = ALL_PERMISSIONS
    company_id: str = ""  # derived from the company name when empty

    @property
    def resolved_company_id(self) -> str:
        if self.company_id:
            return self.company_id
        # Attentive's ids look like base64("07:Company<number>"); derive a stable number from the name.
        number = zlib.crc32(self.company_name.encode()) % 1_000_000
        return base64.b64encode(f"07:Company{number}".encode()).decode().rstrip("=")

    @property
    def domain_name(self) -> str:
        return f"{_slug(self.company_name)}.attn.tv"

    @property
    def contact_email(self) -> str:
        return f"ops@{_slug(self.company_name)}.example.com"


def default_limits() -> dict[str, int]:
    return {spec.name: spec.limit_per_second for spec in endpoints.ALL}


@dataclass(frozen=True)
class SimulatorConfig:
    keys: Mapping[str, KeySpec]
    seed: int | None = None
    faults: FaultSpec = field(default_factory=FaultSpec)
    state_file: Path | None = None
    # How long a bulk job takes, submission to COMPLETED: bulk_job_delay_s, or uniform in
    # [bulk_job_delay_s, bulk_job_delay_max_s] per job, drawn from the seeded job stream.
    bulk_job_delay_s: float = 0.2
    bulk_job_delay_max_s: float | None = None
    # Monotonic seconds for job time (None: time.monotonic); tests pass a virtual clock.
    clock: Callable[[], float] | None = None
    rate_limits: bool = True
    # Attribute name -> the only values it accepts (like an enumeration defined in Attentive's UI);
    # applies to every company of this simulator.
    enum_attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Attributes declared as text in Attentive's UI before their first value: never typed a Number
    # or a Boolean by what is sent first (a phone number "+1415..." sent as an attribute would be).
    text_attributes: frozenset[str] = frozenset()
    limits: Mapping[str, int] = field(default_factory=default_limits)
    # Bulk job results kept in memory, counted in records; the oldest jobs are forgotten first.
    job_retention_records: int = 2_000_000
    # How often (seconds) pending profile changes are flushed to the state journal.
    flush_interval_s: float = 0.5

    def __post_init__(self) -> None:
        low, high = self.bulk_job_delay_range_s
        if not 0 <= low <= high:
            raise ValueError(f"bulk job delay {low:g}s..{high:g}s: give delays >= 0, the shorter first")

    @property
    def bulk_job_delay_range_s(self) -> tuple[float, float]:
        high = self.bulk_job_delay_s if self.bulk_job_delay_max_s is None else self.bulk_job_delay_max_s
        return self.bulk_job_delay_s, high

    def limit_for(self, endpoint_name: str) -> int:
        return self.limits.get(endpoint_name, endpoints.BY_NAME[endpoint_name].limit_per_second)
