"""A real `promote` process killed with SIGKILL before and after it writes production.toml: the
ledger's pending entry says which, `ledger verify` reports it with the fix, and the next `promote`
closes it (recorded as done, or abandoned and promoted again). The process is stopped at each point
by the locks it has to take, held by the test: history.head's lock right after the pending entry,
the ledger's database before the completing entry."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import pytest
from cli_kit import Cli, CliOn
from promotion_fixtures import PRODUCTION_TOML, record_run, write_config

from tui.settings import ledger as ledger_module
from tui.settings.atomic import locked
from tui.settings.history_head import head_path
from tui.settings.ledger import Ledger
from tui.settings.ledger_promotions import PromisedFile
from tui.settings.loader import load_environment
from tui.settings.paths import history_path

DEADLINE_S = 60


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Path]:
    config = write_config(tmp_path / "config")
    data = tmp_path / "data"
    digest = load_environment(config, "sandbox").destinations["loyalty"].config_hash()
    record_run(data, destination="loyalty", config_hash=digest)  # a matching test send: every gate passes
    return {"config": config, "data": data, "secrets": tmp_path / "secrets.toml", "db": history_path(data),
            "production": config / "production.toml"}


@pytest.fixture
def cli(env, cli_on: CliOn) -> Cli:
    return cli_on(env["config"], data=env["data"], secrets=env["secrets"])


@pytest.fixture
def start_promote(cli: Cli) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts `promote loyalty --yes` in a process of its own; one a failed test left running is killed."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        started.append(subprocess.Popen(cli.process("promote", "loyalty", "--yes"),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            kill(process)


def wait_for(process: subprocess.Popen, condition: Callable[[], bool]) -> None:
    """The event we wait on, checked until it holds (the process must still be running meanwhile)."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the promoting process did not get there in time"
        time.sleep(0.005)


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=DEADLINE_S) == -signal.SIGKILL


def actions(env) -> list[str]:
    return [entry.action for entry in Ledger(env["db"]).entries()]


def announced(env) -> bool:
    return env["db"].exists() and "promotion.pending" in actions(env)


@contextmanager
def database_write_lock(db: Path) -> Iterator[None]:
    """The ledger database's write lock, as a writer that has begun and not committed holds it."""
    with closing(sqlite3.connect(db, isolation_level=None)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")


def verify(cli: Cli) -> tuple[int, str]:
    code, out, _ = cli("ledger", "verify")
    return code, out


def test_killed_after_writing_production_it_is_reported_and_promote_records_it(env, cli, start_promote):
    with ExitStack() as database:
        with locked(head_path(env["db"])):  # the process stops right after its pending entry
            process = start_promote()
            wait_for(process, lambda: announced(env))
            database.enter_context(database_write_lock(env["db"]))  # ... and, let go, before its completion
        with locked(env["production"]):  # the process lets go of production.toml once it is written
            written = env["production"].read_bytes()
        assert "loyalty" in load_environment(env["config"], "production").destinations
        kill(process)

    assert actions(env) == ["promotion.pending"]
    [unfinished] = Ledger(env["db"]).verify().unfinished
    assert unfinished.state is PromisedFile.WRITTEN and unfinished.entry.seq == 1
    code, out = verify(cli)
    assert code == 1
    assert "ledger OK: 1 entries, chain intact" in out  # the entries are sound; the promotion is not done
    assert "UNFINISHED promotion (written)" in out and "loyalty was promoted without its audit entry" in out
    assert "fix: run `attentive-console promote loyalty`: it records the promotion" in out

    # `promote` used to call this "nothing to promote"; now it records the promotion that happened
    code, out, _ = cli("promote", "loyalty", "--yes", "--json")
    report = json.loads(out)
    assert code == 0 and report["promoted"] is True and report["written"] is False and report["ledger_entry"] == 2
    assert "recorded the interrupted promotion of loyalty (ledger entry 1)" in report["message"]
    assert env["production"].read_bytes() == written
    pending, done = Ledger(env["db"]).entries()
    assert done.action == "promotion" and done.details == {**pending.details, "pending_seq": 1, "recorded_late": True}
    assert verify(cli)[0] == 0


def test_killed_before_writing_production_it_is_reported_and_promote_promotes_again(env, cli, start_promote):
    with locked(head_path(env["db"])):
        process = start_promote()
        wait_for(process, lambda: announced(env))
        kill(process)  # the pending entry is in, production.toml not yet written
    assert env["production"].read_text() == PRODUCTION_TOML

    code, out = verify(cli)
    assert code == 1
    assert "UNFINISHED promotion (not written)" in out
    assert "still has the content from before it: nothing was promoted" in out
    assert "fix: run `attentive-console promote loyalty` to promote it again" in out

    code, out, _ = cli("promote", "loyalty", "--yes")
    assert code == 0
    assert ("closed the interrupted promotion of ledger entry 1 with entry 2: production.toml did not have its "
            "content (not written)") in out
    assert "promoted loyalty to production" in out and "audit ledger entry 4" in out
    assert actions(env) == ["promotion.pending", "promotion.abandoned", "promotion.pending", "promotion"]
    assert Ledger(env["db"]).entries()[1].details == {"pending_seq": 1, "production": "not written"}
    assert "loyalty" in load_environment(env["config"], "production").destinations
    assert verify(cli)[0] == 0


def test_a_ledger_that_stays_locked_leaves_production_untouched(env, cli, monkeypatch):
    monkeypatch.setattr(ledger_module, "BUSY_TIMEOUT_S", 0.2)
    with database_write_lock(env["db"]):
        code, _, err = cli("promote", "loyalty", "--yes")
    assert code == 2
    assert "loyalty was not promoted, nothing was written to production.toml" in err
    assert "cannot write the audit ledger" in err and "database is locked" in err
    assert env["production"].read_text() == PRODUCTION_TOML


def test_verify_notes_production_edited_outside_the_ledger(env, cli):
    assert cli("promote", "loyalty", "--yes").code == 0
    code, out = verify(cli)
    assert code == 0 and "note:" not in out
    env["production"].write_text(env["production"].read_text().replace('"Loyalty tier and points"', '"by hand"'))
    code, out = verify(cli)
    assert code == 0  # a note: production.toml is often changed through git on purpose
    assert "note: " in out and "changed after ledger entry 2 (the promotion of loyalty)" in out
    # a change the ledger records (here through the CLI) is no longer unrecorded
    assert cli("destinations", "edit", "loyalty", "--env", "production", "--rate-limit", "10").code == 0
    assert "note:" not in verify(cli)[1]
