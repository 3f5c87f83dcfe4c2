"""Helpers for the send tests: a destination like the shipped one, audience files, a send call, its
config files and the CLI on them (`cli_for`, a fixture: see conftest.py)."""
from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_kit import Cli, CliOn, cli_process
from config_kit import LOYALTY_ATTRIBUTES, destination_toml, environment_toml, write_config_folder
from simulator_fixtures import FULL_KEY
from virtual_clock import VirtualClock

from tui.attentive.secret import ApiKey
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
                 admins: tuple[str, ...] = ("tester",), restricted: tuple[str, ...] = (), extra: str = "",
                 names: tuple[str, ...] = ("loyalty-attributes",)) -> Path:
    """sandbox.toml with a destination like loyalty() of each name, the key read from an environment
    variable; production.toml with no credential and no destination."""
    destinations = [destination_toml(name, credential="test", endpoint=endpoint, extra=extra,
                                     attributes={**LOYALTY_ATTRIBUTES, "Phone Number": "phone"}) for name in names]
    sandbox = environment_toml(api_url, admins=admins, restricted=restricted, credential="test", key=f"env:{key_var}",
                               destinations=destinations)
    return write_config_folder(config_dir, sandbox, environment_toml(api_url, admins=admins, restricted=restricted,
                                                                     credential=None))


# The CLI follows jobs on the real clock: scaled down, a first check comes after 60 ms, not a minute.
POLL_SCALE = "0.001"


@pytest.fixture
def cli_for(tmp_path: Path, cli_on: CliOn, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Cli]:
    """cli_for(sim_url, **write_config options) -> a Cli as "tester" on write_config's files, its key
    FULL_KEY, jobs followed on the scaled-down schedule."""
    def make(sim_url: str, **config: Any) -> Cli:
        monkeypatch.setenv("SYNC_TEST_KEY", FULL_KEY)
        monkeypatch.setenv(SCALE_VARIABLE, POLL_SCALE)
        return cli_on(write_config(tmp_path / "config", sim_url, **config), operator="tester")

    return make


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


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def cli_until(args: list[str], env: dict[str, str], *, kill_when: Callable[[], bool] | None = None,
              deadline_s: float = 300) -> Ran:
    """Run the CLI as a process; SIGKILL it once kill_when() holds (None: let it finish). A process
    still running at the deadline is killed and fails the test instead of hanging it."""
    process = subprocess.Popen([*cli_process(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + deadline_s
    if kill_when is not None:
        while process.poll() is None and time.monotonic() < deadline:
            if kill_when():
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.005)  # polling the history database: the event we wait on
    try:
        out, err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"{' '.join(args)}: still running after {deadline_s:.0f}s") from None
    assert "Traceback" not in err, err
    return Ran(process.returncode, out, err)


def handed_over(data_dir: Path, at_least: int, run_id: int = 1) -> Callable[[], bool]:
    """A kill_when for cli_until: the run has handed at least this many rows to Attentive."""
    def check() -> bool:
        progress = run_progress(data_dir, run_id)
        return progress is not None and progress[1] >= at_least
    return check
