"""Audience files that are not what they seem: a FIFO or a device (refused at once, the send lock
free again), a quoted field of 10 MB over 10,000 lines (read as the one record it is), and a file
written to while it is read (the read stops with the file named; a resume refuses it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from simulator_fixtures import FULL_KEY
from sync_kit import loyalty, valid_row, write_config, write_csv

from tui.attentive.secret import ApiKey
from tui.sync.control import SendControl
from tui.sync.engine import SendRefused, SendRequest, run_send
from tui.sync.history import HistoryStore
from tui.sync.lock import SendLock
from tui.sync.sources import SourceError, SourceReader, inspect_source
from tui.sync.text_source import FIELD_LIMIT, PARSER_FIELD_CAP

COLUMNS = ("email", "phone", "tier", "points")


def rows_of(path: Path, chunk: int = 1000) -> list:
    return [row for rows in SourceReader(inspect_source(path), COLUMNS).chunks(chunk) for row in rows]


def test_a_fifo_is_refused_at_once_with_the_fix_and_the_send_lock_is_free(tmp_path):
    fifo = tmp_path / "audience.csv"
    os.mkfifo(fifo)
    config = write_config(tmp_path / "config", "http://127.0.0.1:9")  # refused before any connection
    data = tmp_path / "data"
    # A process of its own: should the FIFO block again, the timeout fails the test instead of hanging it.
    done = subprocess.run([sys.executable, "-c", "from tui.cli import entry; entry()", "--config", str(config),
                           "--data-dir", str(data), "send", "loyalty-attributes", str(fifo)],
                          env={**os.environ, "SYNC_TEST_KEY": FULL_KEY}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert f"{fifo}: is a FIFO (named pipe)" in done.stderr and "copy it to a file first" in done.stderr
    lock = SendLock(data, "loyalty-attributes", "sandbox")
    lock.acquire()  # SendLocked if the refused send had kept it
    lock.release()


def test_a_device_or_an_empty_folder_is_not_an_audience(tmp_path):
    with pytest.raises(SourceError, match="not a regular file"):
        inspect_source(Path("/dev/null"))
    (tmp_path / "_SUCCESS").write_text("")  # a folder of parts, but none an audience file
    with pytest.raises(SourceError, match="the folder holds no audience files"):
        inspect_source(tmp_path)


def test_a_10_mb_quoted_field_over_10000_lines_is_one_malformed_record(tmp_path, cli_on):
    good = [f"member{i}@example.com,+1212555{i:04d},Gold,{i}\n" for i in range(10)]
    field = ("x" * 1000 + "\n") * 10_000  # 10 MB, 10,000 lines, inside one pair of quotes
    source = tmp_path / "audience.csv"
    source.write_text("email,phone,tier,points\n" + "".join(good[:5]) + f'big@example.com,+12125559999,"{field}",1\n'
                      + "".join(good[5:]), encoding="utf-8")
    rows = rows_of(source)
    assert len(rows) == 11
    assert [row.row for row in rows] == [2, 3, 4, 5, 6, 7, 10_008, 10_009, 10_010, 10_011, 10_012]
    assert [row.problem for row in rows].count(None) == 10
    assert rows[5].problem == f"has a field longer than {FIELD_LIMIT:,} characters"
    assert rows[6].values == ["member5@example.com", "+12125550005", "Gold", "5"]
    # and so a send counts it: 11 rows read, the big one malformed
    cli = cli_on(write_config(tmp_path / "config", "http://127.0.0.1:9"), operator="tester")
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--dry-run", "--json")
    summary = json.loads(out)
    assert code == 1 and (summary["rows_read"], summary["invalid"]) == (11, 1)


def test_a_field_the_parser_cannot_hold_stops_the_read_instead_of_desynchronising(tmp_path):
    source = tmp_path / "audience.csv"
    source.write_text(f'email,phone,tier,points\na@example.com,+12125550001,Gold,1\nb@example.com,"{"x" * PARSER_FIELD_CAP}'
                      '\nc@example.com,+12125550003,Gold,3\n', encoding="utf-8")
    with pytest.raises(SourceError, match=f"{source}: row 3 has a field running past"):
        rows_of(source)


def big_audience(path: Path, rows: int = 40_000) -> Path:
    return write_csv(path, [valid_row(i) for i in range(rows)])  # about 2.5 MB: several reads of a 1 MB buffer


def test_a_file_that_grows_while_it_is_read_stops_the_read(tmp_path):
    source = big_audience(tmp_path / "audience.csv")
    chunks = SourceReader(inspect_source(source), COLUMNS).chunks(100)
    assert len(next(chunks)) == 100
    with source.open("a") as handle:
        handle.write("late@example.com,+12125550000,Late,Gold,1\n")
    with pytest.raises(SourceError, match=f"{source}: was written to while being read"):
        list(chunks)


def test_a_file_changed_after_it_was_hashed_is_never_read(tmp_path):
    source = big_audience(tmp_path / "audience.csv", rows=10)
    info = inspect_source(source)
    source.write_text(source.read_text().replace("member1@", "member9@"))
    with pytest.raises(SourceError, match="was written to while being read"):
        next(SourceReader(info, COLUMNS).chunks())


def test_same_size_other_bytes_with_the_old_mtime_are_caught_by_the_hash(tmp_path):
    source = big_audience(tmp_path / "audience.csv")
    info = inspect_source(source)
    before = source.stat()
    with source.open("r+b") as handle:  # same length, one byte different, and the old mtime put back
        handle.seek(-3, os.SEEK_END)
        handle.write(b"7")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(SourceError, match="its content changed while being read"):
        list(SourceReader(info, COLUMNS).chunks())


async def test_a_send_whose_file_grows_fails_naming_it_and_resume_refuses_it(simulator, tmp_path):
    source = big_audience(tmp_path / "audience.csv", rows=3000)
    data = tmp_path / "data"
    request = SendRequest(environment="sandbox", destination=loyalty(), source=source, operator="tester",
                          data_dir=data, base_url=simulator.url, api_key=ApiKey(simulator.full_key))
    control = SendControl()
    control.pause()  # held before its first request; the first progress tick appends a row, then resumes

    def on_progress(_progress) -> None:
        if control.paused:
            with source.open("a") as handle:
                handle.write("late@example.com,+12125550000,Late,Gold,1\n")
            control.resume()

    with pytest.raises(SourceError, match=f"{source}: was written to while being read"):
        await run_send(request, control=control, on_progress=on_progress)
    with HistoryStore(data, readonly=True) as store:
        [run] = store.list_runs()
    assert run.status == "failed" and "was written to while being read" in (run.message or "")
    assert (run.accepted, run.submitted) == (0, 0)
    with pytest.raises(SendRefused, match="changed since run 1"):
        await run_send(SendRequest(**{**request.__dict__, "resume_run_id": run.id}))
