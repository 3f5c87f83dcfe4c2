"""One audience, many shapes of file: CSV, CSV.gz, a one-file zip, Parquet, the three parts of an
export (a folder, a glob, a list) and standard input all send the same profiles with the same
counts, and read back the same; every bad shape is refused naming the file, exit 2, nothing sent;
a multi-part send killed with SIGKILL resumes across its parts."""
from __future__ import annotations

import gzip
import io
import json
import os
import signal
import sqlite3
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import (
    HEADER,
    POLL_SCALE,
    cli_until,
    handed_over,
    loyalty,
    send,
    stored_custom,
    valid_row,
    write_config,
    write_csv,
)

from tui.attentive.secret import ApiKey
from tui.settings.paths import history_path
from tui.sync.history import HistoryStore
from tui.sync.job_schedule import SCALE_VARIABLE
from tui.sync.source_spool import spool
from tui.sync.sources import SourceError, SourceReader, inspect_source
from tui.sync.verify import verify_run

ROWS = 30
BAD_ROW = 17  # its email is broken: one invalid row in every shape


def audience_rows() -> list[dict[str, str]]:
    rows = [valid_row(i) for i in range(ROWS)]
    rows[BAD_ROW]["email"] = "not-an-email"
    return rows


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    write_csv_to(buffer, rows)
    return buffer.getvalue().encode()


def write_csv_to(buffer: io.StringIO, rows: list[dict[str, str]]) -> None:
    import csv
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def write_parquet(path: Path, rows: list[dict[str, str]], row_group_size: int = 7) -> Path:
    table = pa.table({column: [row[column] for row in rows] for column in HEADER})
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def thirds(rows: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    return [rows[:10], rows[10:20], rows[20:]]


def make_source(kind: str, folder: Path, data_dir: Path) -> Path | list[Path]:
    rows = audience_rows()
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        return write_csv(folder / "a.csv", rows)
    if kind == "csv.gz":
        path = folder / "a.csv.gz"
        path.write_bytes(gzip.compress(csv_bytes(rows)))
        return path
    if kind == "zip":
        path = folder / "a.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("export/a.csv", csv_bytes(rows))
        return path
    if kind == "parquet":
        return write_parquet(folder / "a.parquet", rows)
    if kind == "parts-folder":  # as Spark writes them: numbered parts, a _SUCCESS marker, a hidden checksum
        parts = folder / "export"
        parts.mkdir()
        for n, chunk in enumerate(thirds(rows)):
            write_csv(parts / f"part-{n}.csv", chunk)
        (parts / "_SUCCESS").write_text("")
        (parts / ".part-0.csv.crc").write_text("x")
        return parts
    if kind == "parts-glob":
        for n, chunk in enumerate(thirds(rows)):
            (folder / f"part-{n:02d}.csv.gz").write_bytes(gzip.compress(csv_bytes(chunk)))
        return folder / "part-*.csv.gz"
    if kind == "parts-parquet-list":
        return [write_parquet(folder / f"p{n}.parquet", chunk, 4) for n, chunk in enumerate(thirds(rows))]
    if kind == "stdin":
        return spool(io.BytesIO(gzip.compress(csv_bytes(rows))), data_dir)
    raise AssertionError(kind)


KINDS = ["csv", "csv.gz", "zip", "parquet", "parts-folder", "parts-glob", "parts-parquet-list", "stdin"]


@pytest.mark.parametrize("kind", KINDS)
async def test_every_shape_of_the_audience_sends_and_reads_back_the_same(start_simulator, tmp_path, kind):
    simulator = await start_simulator()
    data = tmp_path / "data"
    source = make_source(kind, tmp_path / "files", data)
    destination = loyalty()
    sent = await send(simulator, data, destination, source)
    run = sent.run
    assert (run.status, run.rows_read, run.accepted, run.invalid) == ("finished", ROWS, ROWS - 1, 1)
    for i in range(ROWS):
        custom = stored_custom(simulator, f"member{i}@example.com")
        if i == BAD_ROW:
            assert custom is None
        else:
            assert custom == {"Loyalty Tier": valid_row(i)["tier"], "Points": 100 + i,
                              "Phone Number": valid_row(i)["phone"]}
    # The read-back rebuilds the rows from the run's own record of its source: every part again.
    with HistoryStore(data) as store:
        verification = await verify_run(store, run, destination, simulator.url, ApiKey(simulator.full_key), limit=ROWS)
    assert verification.passed and verification.checked == ROWS - 1
    if kind.startswith("parts"):
        assert run.source_parts is not None and len(json.loads(run.source_parts)) == 3


def test_rows_are_numbered_once_across_parts_and_located_back(tmp_path):
    rows = audience_rows()
    paths = [write_csv(tmp_path / f"part-{n}.csv", chunk) for n, chunk in enumerate(thirds(rows))]
    info = inspect_source(paths)
    read = [row for chunk in SourceReader(info, ("email",)).chunks(8) for row in chunk]
    # Each part has 11 lines (a header and 10 rows): part 2's first data row is its line 2, row 13.
    assert [row.row for row in read] == [*range(2, 12), *range(13, 23), *range(24, 34)]
    assert [row.values[0] for row in read] == [row["email"] for row in rows]
    part, line = info.locate(13)
    assert (part.path.name, line) == ("part-1.csv", 2)
    assert info.describe_row(24) == "row 24 (part-2.csv line 2)"


def test_a_part_with_only_a_header_is_an_empty_partition_but_a_lone_empty_file_is_refused(tmp_path):
    write_csv(tmp_path / "part-0.csv", audience_rows()[:3])
    write_csv(tmp_path / "part-1.csv", [])
    assert inspect_source(tmp_path).rows_estimate == 3
    with pytest.raises(SourceError, match="part-1.csv: has a header row but no data rows"):
        inspect_source(tmp_path / "part-1.csv")


def bad_source(kind: str, folder: Path) -> tuple[list[str], str]:
    """(the send's source arguments, what the message must say besides the file's name)"""
    folder.mkdir(parents=True, exist_ok=True)
    whole = csv_bytes(audience_rows())
    if kind == "truncated-gzip":
        path = folder / "a.csv.gz"
        path.write_bytes(gzip.compress(whole * 50)[:-200])
        return [str(path)], "the gzip data ends early"
    if kind == "not-gzip":
        path = folder / "a.csv.gz"
        path.write_bytes(whole)
        return [str(path)], "is not valid gzip data"
    if kind == "zip-of-several":
        path = folder / "a.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a.csv", whole)
            archive.writestr("b.csv", whole)
        return [str(path)], "the zip holds 2 files (a.csv, b.csv)"
    if kind == "not-parquet":
        path = folder / "a.parquet"
        path.write_bytes(whole)
        return [str(path)], "is not a Parquet file"
    if kind == "truncated-parquet":
        path = write_parquet(folder / "a.parquet", audience_rows())
        path.write_bytes(path.read_bytes()[:-100])
        return [str(path)], "Parquet"
    if kind == "headers-differ":
        first = write_csv(folder / "part-0.csv", audience_rows()[:5])
        second = folder / "part-1.csv"
        second.write_text(whole.decode().replace("first_name", "given_name", 1))
        return [str(first), str(second)], "its header differs from part-0.csv's at column 3 ('given_name' there"
    if kind == "glob-matches-nothing":
        return [str(folder / "nothing-*.csv")], "matches no files"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated-gzip", "not-gzip", "zip-of-several", "not-parquet", "truncated-parquet",
                                  "headers-differ", "glob-matches-nothing"])
def test_a_bad_source_is_refused_naming_the_file_exit_2_nothing_sent(cli_for, tmp_path, kind):
    cli = cli_for("http://127.0.0.1:9")  # nothing listens: a send that got as far as Attentive would exit 3
    arguments, said = bad_source(kind, tmp_path / "files")
    code, out, err = cli("send", "loyalty-attributes", *arguments)
    assert code == 2, err
    assert said in err and (tmp_path / "files").name in err and "Traceback" not in err
    assert not history_path(tmp_path / "data").exists() or _runs(tmp_path / "data") == 0


def _runs(data: Path) -> int:
    with sqlite3.connect(history_path(data)) as db:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]


def test_standard_input_is_spooled_privately_and_named_for_what_it_holds(tmp_path):
    data = tmp_path / "data"
    path = spool(io.BytesIO(b"PAR1...."), data)
    assert path.suffix == ".parquet" and path.parent == data / "spool"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".partial")]
    with pytest.raises(SourceError, match="standard input is empty"):
        spool(io.BytesIO(b""), data)
    with pytest.raises(SourceError, match="standard input is a terminal"):
        spool(io.BytesIO(b"x"), data, is_terminal=True)


def test_send_dash_reads_standard_input_and_a_resume_reads_the_spooled_copy(cli_for, sim_process, tmp_path):
    cli = cli_for(sim_process.url)
    stdin = io.TextIOWrapper(io.BytesIO(gzip.compress(csv_bytes(audience_rows()))))
    code, out, err = cli("send", "loyalty-attributes", "-", "--json", stdin=stdin)
    summary = json.loads(out)
    assert code == 0, err
    assert (summary["rows_read"], summary["invalid"], summary["submitted"]) == (ROWS, 1, ROWS - 1)
    with HistoryStore(tmp_path / "data", readonly=True) as store:
        run = store.get_run(summary["run_id"])
    assert run is not None and Path(run.source_path).parent == tmp_path / "data" / "spool"
    assert run.source_format == "csv.gz"


def test_a_multi_part_send_killed_with_sigkill_resumes_across_its_parts(tmp_path):
    rows = [valid_row(i) for i in range(30_000)]
    folder = tmp_path / "export"
    folder.mkdir()
    for n in range(3):
        (folder / f"part-{n}.csv.gz").write_bytes(gzip.compress(csv_bytes(rows[n * 10_000:(n + 1) * 10_000])))
    with simulator_process(job_delay="0.05") as sim:
        config = write_config(tmp_path / "config", sim.url)
        data = tmp_path / "data"
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: POLL_SCALE}
        common = ["--config", str(config), "--data-dir", str(data), "send", "loyalty-attributes"]
        # into the second part; --rate 20 (5,120 rows a second) so that the kill lands before the end
        killed = cli_until([*common, str(folder), "--rate", "20"], env, kill_when=handed_over(data, 12_000))
        assert killed.code == -signal.SIGKILL
        # The resume names no source: it reads the parts the run recorded.
        done = cli_until([*common, "--resume", "1", "--json"], env)
        assert done.code == 0
    summary = json.loads(done.out)
    assert (summary["rows_read"], summary["invalid"]) == (30_000, 0)
    with sqlite3.connect(history_path(data)) as db:
        numbered = [r for (r,) in db.execute("SELECT row FROM row_outcomes WHERE run_id = 1 ORDER BY row")]
    # 10,001 lines a part: part n's data rows are rows n*10,001 + 2 .. (n+1)*10,001
    assert numbered == [n * 10_001 + line for n in range(3) for line in range(2, 10_002)]
