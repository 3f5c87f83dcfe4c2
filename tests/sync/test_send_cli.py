"""The headless commands: send (JSON summary, exit codes, lock, access), runs, rejections (masking,
export), retry, verify; and a SIGTERM that cancels, drains, records and exits 130."""
from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
from cli_kit import cli_process
from simulator_fixtures import FULL_KEY
from sync_kit import run_progress, valid_row, write_config, write_csv

from tui.settings.paths import history_path
from tui.sync.history import HistoryStore, NewRun
from tui.sync.lock import SendLock

SUMMARY_KEYS = {"run_id", "destination", "environment", "status", "rows_read", "accepted", "rejected", "invalid",
                "skipped_unchanged", "duration_s", "submitted", "jobs_pending", "skipped_pending", "unconfirmed"}


def audience(tmp_path, bad: int = 0, good: int = 40):
    rows = [valid_row(i) for i in range(good)] + [{**valid_row(500 + i), "email": f"broken{i}"} for i in range(bad)]
    return write_csv(tmp_path / "audience.csv", rows)


@pytest.fixture
def cli(sim_process, cli_for):
    return cli_for(sim_process.url, restricted=("rita",))


def test_send_submits_jobs_follows_them_and_a_later_send_skips_everything(cli, tmp_path):
    source = audience(tmp_path)
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--json")
    first = json.loads(out)
    assert code == 0 and SUMMARY_KEYS <= set(first)
    assert (first["status"], first["rows_read"], first["submitted"], first["accepted"], first["jobs_pending"]) == (
        "awaiting_results", 40, 40, 0, 1)
    # Submitted and not yet confirmed: the same payloads are not posted again.
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--json")
    second = json.loads(out)
    assert code == 0 and (second["skipped_pending"], second["submitted"], second["status"]) == (40, 0, "finished")
    code, out, _ = cli("jobs", "--wait", "--json")
    followed = json.loads(out)
    assert code == 0 and followed["pending"] == 0 and [job["state"] for job in followed["jobs"]] == ["completed"]
    assert [(r["run_id"], r["status"], r["accepted"], r["submitted"]) for r in followed["runs"]] == [
        (1, "finished", 40, 0)]
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--json")
    assert code == 0 and json.loads(out)["skipped_unchanged"] == 40
    code, out, _ = cli("runs", "--json")
    assert [r["id"] for r in json.loads(out)] == [3, 2, 1]
    code, out, _ = cli("runs")
    assert "finished" in out and "loyalty-attributes" in out


def test_rejections_above_the_threshold_exit_1_and_the_log_filters(cli, tmp_path):
    code, out, err = cli("send", "loyalty-attributes", str(audience(tmp_path, bad=5, good=20)), "--json")
    assert code == 1 and json.loads(out)["invalid"] == 5
    code, out, _ = cli("rejections", "1", "--reason", "invalid_email", "--search", "broken3", "--json")
    log = json.loads(out)
    assert log["total"] == 1 and log["rejections"][0]["identifier"] == "broken3"
    code, out, _ = cli("rejections", "1")
    assert code == 0 and "5 rejections match" in out and "broken0" in out


def test_restricted_operators_see_masked_identifiers_and_cannot_export_them_unmasked(cli, tmp_path):
    rows = [valid_row(1), {**valid_row(2), "phone": "12"}]
    cli("send", "loyalty-attributes", str(write_csv(tmp_path / "a.csv", rows)))
    code, out, _ = cli("rejections", "1", "--json", operator="rita")
    [item] = json.loads(out)["rejections"]
    assert item["identifier"] == "m***@e***.com" and "member2@" not in out
    export = tmp_path / "rejections.csv"
    code, _, err = cli("rejections", "1", "--export", str(export), operator="rita")
    assert code == 2 and "unmasked" in err and not export.exists()
    code, _, _ = cli("rejections", "1", "--export", str(export), "--masked", operator="rita")
    assert code == 0 and "m***@e***.com" in export.read_text()
    code, _, _ = cli("rejections", "1", "--export", str(export), "--force")  # replacing the masked export
    rows = list(csv.DictReader(export.open()))
    assert code == 0 and rows[0]["identifier"] == "member2@example.com" and rows[0]["reason"] == "invalid_phone"
    assert oct(export.stat().st_mode & 0o777) == "0o600"


def test_a_second_send_of_the_same_destination_is_refused_with_the_running_run(cli, tmp_path):
    lock = SendLock(cli.data, "loyalty-attributes", "sandbox")
    lock.acquire()
    try:
        lock.record_run(41)
        code, _, err = cli("send", "loyalty-attributes", str(audience(tmp_path)))
    finally:
        lock.release()
    assert code == 2 and "run 41" in err
    code, _, _ = cli("send", "loyalty-attributes", str(audience(tmp_path)))
    assert code == 0


def test_usage_errors_exit_2(cli, tmp_path):
    source = str(audience(tmp_path))
    assert cli("send", "loyalty-attributez", source)[0] == 2
    code, _, err = cli("send", "loyalty-attributes", source, "--rate", "500")
    assert code == 2 and "at most 100" in err
    code, _, err = cli("send", "loyalty-attributes", source, "--sample", "5")
    assert code == 2 and "10 to 100" in err
    code, _, err = cli("send", "loyalty-attributes", source, read_only=True)
    assert code == 2 and "read-only" in err
    code, _, err = cli("send", "loyalty-attributes", "--resume", "9")
    assert code == 2 and "no run 9" in err


def test_a_wrong_key_exits_3_with_the_reason(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNC_TEST_KEY", "wrong-key-0000")
    code, out, err = cli("send", "loyalty-attributes", str(audience(tmp_path)))
    assert code == 3 and "401" in out


def test_admin_only_destinations_refuse_other_operators(tmp_path, sim_process, cli_for):
    cli = cli_for(sim_process.url, extra="admin_only = true\n")
    code, _, err = cli("send", "loyalty-attributes", str(audience(tmp_path)), operator="mallory")
    assert code == 2 and "admin-only" in err
    assert cli("send", "loyalty-attributes", str(audience(tmp_path)), operator="tester")[0] == 0


def test_sample_send_verifies_and_verify_reads_back_again(cli, tmp_path):
    source = audience(tmp_path, good=300)
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--sample", "20", "--wait", "--json")
    summary = json.loads(out)
    assert code == 0 and (summary["rows_read"], summary["accepted"], summary["status"]) == (20, 20, "finished")
    assert summary["verification"]["state"] == "matched"
    code, out, _ = cli("verify", str(summary["run_id"]), "--json")
    assert code == 0 and json.loads(out) == {"run_id": 1, "state": "matched", "passed": True, "checked": 20,
                                             "matched": 20, "mismatched": 0, "missing": 0, "details": []}


def test_retry_resends_only_the_rejected_rows(cli, tmp_path):
    source = audience(tmp_path, bad=3, good=30)
    cli("send", "loyalty-attributes", str(source), "--wait")
    fixed = [valid_row(i) for i in range(30)] + [valid_row(500 + i) for i in range(3)]
    write_csv(source, fixed)
    code, out, _ = cli("retry", "1", "--wait", "--json")
    summary = json.loads(out)
    assert code == 0 and (summary["rows_read"], summary["accepted"], summary["invalid"]) == (3, 3, 0)


def test_sigterm_cancels_drains_records_and_exits_130(tmp_path, sim_process):
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(400)])
    config = write_config(tmp_path / "config", sim_process.url, endpoint="custom-attributes")
    data = tmp_path / "data"
    env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY}
    args = [*cli_process(), "--config", str(config), "--data-dir", str(data), "send", "loyalty-attributes"]
    process = subprocess.Popen([*args, str(source), "--rate", "20", "--json"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        state = run_progress(data)
        if state and state[1] >= 5:
            process.send_signal(signal.SIGTERM)
            break
        time.sleep(0.01)  # polling the history database: the event we wait on
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    summary = json.loads(out)
    assert summary["status"] == "cancelled" and 5 <= summary["accepted"] < 400
    with sqlite3.connect(history_path(data)) as db:
        outcomes = dict(db.execute("SELECT outcome, count(*) FROM row_outcomes WHERE run_id = 1 GROUP BY outcome"))
    # Accepted rows are recorded; rows queued for the workers stay pending (never sent) for the resume.
    assert outcomes[1] == summary["accepted"] and set(outcomes) <= {0, 1}
    resumed = subprocess.run([*args, "--resume", "1", "--json"], env=env,
                             capture_output=True, text=True, timeout=120)
    final = json.loads(resumed.stdout)
    assert resumed.returncode == 0 and (final["status"], final["accepted"], final["rows_read"]) == ("finished", 400, 400)


def test_runs_shows_a_killed_run_as_interrupted(cli, tmp_path):
    with HistoryStore(cli.data) as store:
        store.create_run(NewRun("tester", "sandbox", "loyalty-attributes", "bulk", "c" * 64, "send", "/tmp/a.csv",
                                "h" * 64, "csv", 10))
    code, out, _ = cli("runs", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "interrupted"


def test_a_destination_with_subscriptions_on_is_refused_not_silently_ignored(tmp_path, sim_process, cli_for):
    cli = cli_for(sim_process.url, extra="subscriptions = true\n")
    code, out, err = cli("send", "loyalty-attributes", str(audience(tmp_path)))
    assert code == 2 and "subscriptions = true" in err and out == ""
    assert cli("send", "loyalty-attributes", str(audience(tmp_path)), "--dry-run")[0] == 0
