"""Helpers for the send tests: a destination like the shipped one, audience files, a send call."""
from __future__ import annotations

import csv
import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from virtual_clock import VirtualClock

from tui.attentive.secret import ApiKey
from tui.attentive.simulator.process import start_simulator_process
from tui.settings.model import Destination
from tui.sync.engine import SendRequest, run_send
from tui.sync.history import HistoryStore, RunRecord, Verification
from tui.sync.job_schedule import SCALE_VARIABLE
from tui.sync.jobs import FollowResult, FollowTarget, JobFollower
from tui.sync.tally import Stop

HEADER = ("email", "phone", "first_name", "tier", "points")


def loyalty(endpoint: str = "bulk", **overrides: Any) -> Destination:
    fields: dict[str, Any] = dict(
        name="loyalty-attributes", description="test", credential="test", primary_identifier="email",
        endpoint=endpoint, identifiers={"email": "email", "phone": "phone"},
        attributes={"Loyalty Tier": "tier", "Points": "points", "Phone Number": "phone"},
    )
    fields.update(overrides)
    return Destination(**fields)


def valid_row(i: int) -> dict[str, Any]:
    return {"email": f"member{i}@example.com", "phone": f"+1212555{i:04d}", "first_name": f"M{i}",
            "tier": ["Bronze", "Silver", "Gold"][i % 3], "points": str(100 + i)}


def write_csv(path: Path, rows: list[dict[str, Any]], header: tuple[str, ...] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Sent:
    run: RunRecord                    # after following its jobs (when follow=True)
    stop: Stop | None
    verification: Verification | None
    submitted: RunRecord              # as the send itself left it


async def send(sim: Any, data_dir: Path, destination: Destination, source: Path | None, *, key: str | None = None,
               follow: bool = True, clock: Any = None, **options: Any) -> Sent:
    """run_send, then (follow=True) a JobFollower on a virtual clock until its jobs and read-back
    are done: the minutes Attentive takes pass at once."""
    request = SendRequest(
        environment="sandbox", destination=destination, source=source, operator="tester", data_dir=data_dir,
        base_url=sim.url, api_key=ApiKey(key or sim.full_key), **options,
    )
    result = await run_send(request)
    if not follow or result.stop is not None:
        return Sent(result.run, result.stop, None, result.run)
    followed = await follow_jobs(sim, data_dir, destination, run_ids=[result.run.id], key=key, clock=clock)
    with HistoryStore(data_dir, readonly=True) as store:
        run = store.get_run(result.run.id)
    assert run is not None
    return Sent(run, result.stop, followed.verifications.get(run.id), result.run)


async def follow_jobs(sim: Any, data_dir: Path, destination: Destination, *, run_ids: list[int] | None = None,
                      key: str | None = None, clock: Any = None, timeout_s: float | None = None,
                      wait_read_backs: bool = True) -> FollowResult:
    target = FollowTarget(sim.url, ApiKey(key or sim.full_key), destination)
    async with JobFollower(data_dir, lambda run: target, run_ids=run_ids,
                           clock=clock or VirtualClock(wall_start=time.time())) as follower:
        return await follower.follow(timeout_s=timeout_s, wait_read_backs=wait_read_backs)


def stored_custom(sim: Any, email: str) -> dict[str, Any] | None:
    for company in sim.sim.state.companies.values():
        profile = company.find("email", email)
        if profile is not None:
            return dict(profile.custom)
    return None


def write_config(config_dir: Path, api_url: str, *, key_var: str = "SYNC_TEST_KEY", endpoint: str = "bulk",
                 admins: tuple[str, ...] = ("tester",), restricted: tuple[str, ...] = (),
                 extra: str = "") -> Path:
    """sandbox.toml and production.toml for the CLI, the key read from an environment variable."""
    config_dir.mkdir(parents=True, exist_ok=True)
    access = f"[access]\nadmins = {list(admins)!r}\nrestricted_pii = {list(restricted)!r}\n".replace("'", '"')
    sandbox = f'''api_url = "{api_url}"

{access}
[credentials.test]
description = "test"
type = "custom-attributes-api"
api_key = "env:{key_var}"

[destinations.loyalty-attributes]
description = "test"
credential = "test"
primary_identifier = "email"
endpoint = "{endpoint}"
{extra}
[destinations.loyalty-attributes.identifiers]
email = "email"
phone = "phone"

[destinations.loyalty-attributes.attributes]
"Loyalty Tier" = "tier"
"Points" = "points"
"Phone Number" = "phone"
'''
    (config_dir / "sandbox.toml").write_text(sandbox, encoding="utf-8")
    (config_dir / "production.toml").write_text(f'api_url = "{api_url}"\n\n{access}', encoding="utf-8")
    return config_dir


CLI_KEY = "sync-cli-test-key-0001"


@pytest.fixture(scope="module")
def sim_process():
    """The simulator in its own process, for tests that drive the CLI (it runs its own event loop)."""
    with start_simulator_process(["--key", CLI_KEY, "--text-attribute", "Phone Number", "--job-delay", "0"]) as sim:
        yield sim


@dataclass
class Cli:
    config: Path
    data: Path
    capsys: Any

    def __call__(self, *argv: str, operator: str = "tester", read_only: bool = False) -> tuple[int, str, str]:
        from tui.cli import main  # here, so the engine-only tests do not load every command group

        prefix = ["--config", str(self.config), "--data-dir", str(self.data)] + (["--read-only"] if read_only else [])
        code = main([*prefix, *argv], operator=operator)
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err


# The CLI follows jobs on the real clock: scaled down, a first check comes after 60 ms, not a minute.
POLL_SCALE = "0.001"


def cli_for(tmp_path: Path, sim_url: str, capsys: Any, monkeypatch: Any, **config: Any) -> Cli:
    monkeypatch.setenv("SYNC_TEST_KEY", CLI_KEY)
    monkeypatch.setenv(SCALE_VARIABLE, POLL_SCALE)
    return Cli(write_config(tmp_path / "config", sim_url, **config), tmp_path / "data", capsys)


def run_progress(data_dir: Path, run_id: int = 1) -> tuple[int, int] | None:
    """(rows_read, rows handed to Attentive: accepted or submitted) of a run as last flushed, or None
    before it exists: what the subprocess tests wait on."""
    path = data_dir / "history.sqlite3"
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("SELECT rows_read, accepted + submitted FROM runs WHERE id = ?", (run_id,)).fetchone()
    except sqlite3.OperationalError:
        return None  # created, tables not yet
