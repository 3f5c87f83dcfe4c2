"""send --query: a DuckDB query over Parquet parts is the audience; its result is spooled once, so a
resume after SIGKILL sends the same rows even when the files changed meanwhile."""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import HEADER, POLL_SCALE, cli_until, handed_over, valid_row, write_config

from tui.attentive.simulator.state import SimulatorState
from tui.sync.history import HistoryStore
from tui.sync.job_schedule import SCALE_VARIABLE


def write_parts(folder: Path, count: int, *, tiers: tuple[str, ...] = ("Bronze", "Silver", "Gold")) -> set[str]:
    """Three Parquet parts of `count` rows in all; returns the emails of the Gold rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{**valid_row(i), "tier": tiers[i % len(tiers)]} for i in range(count)]
    third = count // 3
    for n in range(3):
        chunk = rows[n * third:(n + 1) * third if n < 2 else count]
        pq.write_table(pa.table({c: [r[c] for r in chunk] for c in HEADER}), folder / f"part-{n}.parquet")
    return {r["email"] for r in rows if r["tier"] == "Gold"}


def test_a_query_over_parquet_parts_sends_the_rows_it_selects_and_the_run_records_it(cli_for, sim_process, tmp_path):
    gold = write_parts(tmp_path / "parts", 30)
    cli = cli_for(sim_process.url)
    query = f"SELECT * FROM '{tmp_path / 'parts'}/*.parquet' WHERE tier = 'Gold';"
    code, out, err = cli("send", "loyalty-attributes", "--query", query, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["rows_read"], summary["submitted"], summary["invalid"]) == (len(gold), len(gold), 0)
    with HistoryStore(tmp_path / "data", readonly=True) as store:
        run = store.get_run(summary["run_id"])
    assert run is not None and run.source_query == query and run.source_format == "parquet"
    spooled = Path(run.source_path)
    assert spooled.parent == tmp_path / "data" / "spool" and oct(spooled.stat().st_mode & 0o777) == "0o600"


def test_a_bad_query_or_a_missing_duckdb_is_refused_with_the_fix(cli_for, tmp_path, monkeypatch):
    cli = cli_for("http://127.0.0.1:9")
    code, _, err = cli("send", "loyalty-attributes", "--query", "SELEC nothing")
    assert code == 2 and "--query: DuckDB refused it" in err and "fix the query" in err
    code, _, err = cli("send", "loyalty-attributes", "--query", f"SELECT * FROM '{tmp_path}/none-*.parquet'")
    assert code == 2 and "--query: DuckDB refused it" in err
    code, _, err = cli("send", "loyalty-attributes", "--query", "SELECT 'a@example.com' AS email WHERE false")
    assert code == 2 and "selected no rows" in err
    code, _, err = cli("send", "loyalty-attributes", "a.csv", "--query", "SELECT 1")
    assert code == 2 and "give no SOURCE" in err
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as on a machine without the extra
    code, _, err = cli("send", "loyalty-attributes", "--query", "SELECT 1")
    assert code == 2 and "pip install 'attentive-console[query]'" in err
    assert not list((tmp_path / "data" / "spool").glob("*.partial")) if (tmp_path / "data" / "spool").exists() else True


def test_a_query_send_killed_with_sigkill_resumes_with_the_same_rows_after_the_files_changed(tmp_path):
    parts = tmp_path / "parts"
    gold = write_parts(parts, 30_000)
    state_file = tmp_path / "simulator-state.json"
    with simulator_process("--state", str(state_file), job_delay="0.05") as sim:
        config = write_config(tmp_path / "config", sim.url)
        data = tmp_path / "data"
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: POLL_SCALE}
        base = ["--config", str(config), "--data-dir", str(data)]
        query = f"SELECT * FROM '{parts}/*.parquet' WHERE tier = 'Gold'"
        # --rate 5: 1,280 rows a second, so the kill lands mid-send, not after the last batch
        killed = cli_until([*base, "send", "loyalty-attributes", "--query", query, "--rate", "5"], env,
                           kill_when=handed_over(data, 2_000))
        assert killed.code == -signal.SIGKILL
        write_parts(parts, 30_000, tiers=("Gold",))  # the query would now select every row
        done = cli_until([*base, "send", "loyalty-attributes", "--resume", "1", "--json"], env)
        assert done.code == 0
        assert cli_until([*base, "jobs", "--wait"], env).code == 0
    summary = json.loads(done.out)
    assert (summary["rows_read"], summary["invalid"]) == (len(gold), 0)
    [company] = SimulatorState.load(state_file).companies.values()
    stored = {email for email in (valid_row(i)["email"] for i in range(30_000)) if company.find("email", email)}
    assert stored == gold
