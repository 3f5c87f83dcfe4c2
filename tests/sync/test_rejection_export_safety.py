"""The rejection export is safe to open and safe to write: formula cells neutralised, no file
replaced without --force, no symbolic link followed, no half-written file, mode 0600."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sync_kit import write_config

from tui.sync import reasons
from tui.sync.history import HistoryStore, NewRun
from tui.sync.rejection_export import ExportRefused, export_csv, spreadsheet_safe
from tui.sync.rejection_index import write_rejections
from tui.sync.rejections import RejectionFilter, RejectionLog

FORMULAS = ["=1+2", "+12125550001", "-2+3", "@SUM(A1:A2)", "\t=1+2", "\r=1+2", '=HYPERLINK("http://x","y")']


def history(tmp_path: Path, rejections: list[tuple[str, str]]) -> Path:
    """A data directory whose run 1 has these (identifier, message) rejections, rows 2, 3, ..."""
    data = tmp_path / "data"
    with HistoryStore(data) as store:
        run_id = store.create_run(NewRun(
            operator="tester", environment="sandbox", destination="loyalty-attributes", endpoint="bulk",
            config_hash="c" * 64, mode="send", source_path="/tmp/a.csv", source_hash="h" * 64,
            source_format="csv", rows_estimate=len(rejections)))
        with store.connection:
            store.connection.execute("BEGIN IMMEDIATE")
            write_rejections(store.connection, [(run_id, row, reasons.INVALID_EMAIL, identifier, None, message)
                                                for row, (identifier, message) in enumerate(rejections, start=2)])
    return data


def export(data: Path, target: Path, **options) -> int:
    with HistoryStore(data, readonly=True) as store:
        return export_csv(target, RejectionLog(store.connection, 1), RejectionFilter(), masked=False, **options)


def test_cells_a_spreadsheet_would_run_get_a_quote_in_front_and_others_stay(tmp_path):
    data = history(tmp_path, [(value, value) for value in FORMULAS] + [("ann@example.com", "not valid")])
    target = tmp_path / "rejections.csv"
    assert export(data, target) == len(FORMULAS) + 1
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["identifier"], r["message"]) for r in rows] == [("'" + v, "'" + v) for v in FORMULAS] + [
        ("ann@example.com", "not valid")]
    assert spreadsheet_safe("a=b") == "a=b" and spreadsheet_safe("") == ""
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_an_existing_file_is_kept_unless_overwrite_is_asked(tmp_path):
    data = history(tmp_path, [("a@", "m")])
    target = tmp_path / "rejections.csv"
    target.write_text("precious\n")
    with pytest.raises(ExportRefused, match="rejections.csv already exists") as refused:
        export(data, target)
    assert "--force" in refused.value.fix and target.read_text() == "precious\n"
    assert export(data, target, overwrite=True) == 1
    assert "a@" in target.read_text() and oct(target.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "rejections.csv"]  # no temporary file left


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_symbolic_link_at_the_target_is_never_followed(tmp_path, overwrite):
    data = history(tmp_path, [("a@", "m")])
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "rejections.csv"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "created-through-the-link.csv")
    for target in (link, dangling):
        with pytest.raises(ExportRefused, match="is a symbolic link"):
            export(data, target, overwrite=overwrite)
    assert victim.read_text() == "keep me\n" and link.is_symlink()
    assert not (tmp_path / "created-through-the-link.csv").exists()


FILE_SIZE_LIMITED = """
import resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
from tui.sync.history import HistoryStore
from tui.sync.rejection_export import ExportRefused, export_csv
from tui.sync.rejections import RejectionFilter, RejectionLog
with HistoryStore(Path(sys.argv[1]), readonly=True) as store:
    try:
        export_csv(Path(sys.argv[2]), RejectionLog(store.connection, 1), RejectionFilter(), masked=False)
    except ExportRefused as exc:
        print(exc)
        sys.exit(2)
"""


def test_a_write_failing_midway_leaves_no_file(tmp_path):
    data = history(tmp_path, [(f"member{i}@example", "x" * 60) for i in range(2000)])  # about 190 kB of CSV
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMITED, str(data), str(out / "rejections.csv")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "cannot write" in done.stdout and "no file was written" in done.stdout
    assert list(out.iterdir()) == []


def test_the_cli_refuses_an_existing_file_with_exit_2_and_force_replaces_it(tmp_path, cli_on):
    data = history(tmp_path, [("=1+2", "m")])
    cli = cli_on(write_config(tmp_path / "config", "http://127.0.0.1:9"), data=data, operator="tester")
    target = tmp_path / "rejections.csv"
    target.write_text("precious\n")
    argv = ["rejections", "1", "--export", str(target)]
    code, _, err = cli(*argv)
    assert code == 2 and f"{target} already exists" in err and "--force" in err and target.read_text() == "precious\n"
    assert cli(*argv, "--force").code == 0
    assert "'=1+2" in target.read_text()
    os.unlink(target)
    target.symlink_to(tmp_path / "elsewhere.csv")
    code, _, err = cli(*argv, "--force")
    assert code == 2 and "symbolic link" in err and not (tmp_path / "elsewhere.csv").exists()
