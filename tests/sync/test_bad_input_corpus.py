"""A corpus of broken audience files, each generated here. Through the real CLI, every one gives a
clear message naming the file and the row or column (exit 2, nothing sent, no run recorded) or
per-row rejections; never a traceback; and the history store stays intact."""
from __future__ import annotations

import json
import random
import sqlite3

import pytest

from tui.settings.paths import history_path

HEAD = "email,phone,first_name,tier,points"
GOOD = "a@example.com,+12125550001,Ann,Gold,10"
GOOD2 = "b@example.com,+12125550002,Bob,Silver,20"

# name -> (file bytes, expected substring of the error) for files refused as a whole.
REFUSED: dict[str, tuple[bytes, str]] = {
    "empty.csv": (b"", "is empty"),
    "whitespace.csv": (b"  \n\n \t\n", "is empty"),
    "header_only.csv": (f"{HEAD}\n".encode(), "no data rows"),
    "header_then_blank_lines.csv": (f"{HEAD}\n\n\n".encode(), "no data rows"),
    "utf16.csv": (f"{HEAD}\n{GOOD}\n".encode("utf-16"), "UTF-16"),
    "latin1.csv": (f"{HEAD}\n{GOOD}\nc@example.com,+12125550003,Ren\xe9e,Gold,5\n".encode("latin-1"), "row 3 is not valid UTF-8"),
    "binary_garbage.csv": (random.Random(1).randbytes(4096), "not"),
    "nul_bytes.csv": (f"{HEAD}\n{GOOD}\n{GOOD2}\x00\n".encode(), "row 3 holds a NUL byte"),
    "truncated_utf8.csv": (f"{HEAD}\n{GOOD}\nc@example.com,,Zo\u00eb,Gold,1".encode()[:-5] + "\u00eb".encode()[:1], "UTF-8"),
    "duplicate_mapped_header.csv": (f"email,phone,email,tier,points\n{GOOD}\n".encode(), "'email' appears 2 times"),
    "missing_mapped_column.csv": (b"email,phone,first_name,tier\na@example.com,+12125550001,Ann,Gold\n",
                                  "mapped column 'points' is not in the header"),
    "misspelt_column.csv": (b"email,phone,first_name,tier,point\na@example.com,+12125550001,Ann,Gold,1\n", "did you mean 'point'"),
    "semicolon.csv": (b"email;phone;first_name;tier;points\na@example.com;+12125550001;Ann;Gold;10\n", "semicolon-delimited"),
    "header_unclosed_quote.csv": (b'"email,phone,first_name,tier,points\n', "header row has a quoted field that is never closed"),
}

# name -> (file bytes, {reason: count} of the rejections, accepted count)
PER_ROW: dict[str, tuple[bytes, dict[str, int], int]] = {
    "bom_crlf.csv": (f"\ufeff{HEAD}\r\n{GOOD}\r\n{GOOD2}\r\n".encode(), {}, 2),
    "quoted_newline.csv": (f'{HEAD}\n{GOOD}\nc@example.com,+12125550003,"Line\nBreak",Gold,3\n'.encode(), {}, 2),
    "ragged_short.csv": (f"{HEAD}\n{GOOD}\nc@example.com,+12125550003\n{GOOD2}\n".encode(), {"malformed_row": 1}, 2),
    "ragged_long.csv": (f"{HEAD}\n{GOOD},extra,fields\n{GOOD2}\n".encode(), {"malformed_row": 1}, 1),
    "unclosed_quote.csv": (f'{HEAD}\n{GOOD}\nc@example.com,+12125550003,"Ann,Gold,3\n{GOOD2}\n'.encode(), {"malformed_row": 1}, 1),
    "huge_field.csv": (f"{HEAD}\n{GOOD}\nc@example.com,+12125550003,\"{'x' * 200_000}\",Gold,3\n{GOOD2}\n".encode(),
                       {"malformed_row": 1}, 2),
    "duplicate_unmapped_header.csv": (b"email,phone,tier,tier2,points,tier2\n"
                                      b"a@example.com,+12125550001,Gold,x,1,y\n", {}, 1),
    "blank_lines_between.csv": (f"{HEAD}\n\n{GOOD}\n\n\n{GOOD2}\n".encode(), {}, 2),
    "no_final_newline.csv": (f"{HEAD}\n{GOOD}\n{GOOD2}".encode(), {}, 2),
    "audience.tsv": (f"{HEAD.replace(',', chr(9))}\n{GOOD.replace(',', chr(9))}\n"
                     f'd@example.com\t+12125550004\t5" tall\tGold\t4\n'.encode(), {}, 2),
    "non_object.jsonl": (b'{"email": "a@example.com", "points": 1}\n[1, 2, 3]\n"text"\n', {"malformed_row": 2}, 1),
    "bad_json.jsonl": (b'{"email": "a@example.com", "points": 1}\n{"email": "b@exa\n', {"malformed_row": 1}, 1),
    "nested_values.jsonl": (b'{"email": "a@example.com", "tier": {"name": "Gold"}}\n'
                            b'{"email": "b@example.com", "points": [1, 2]}\n{"email": "c@example.com", "points": 3}\n',
                            {"non_scalar_value": 2}, 1),
    "nan.jsonl": (b'{"email": "a@example.com", "points": NaN}\n{"email": "b@example.com", "points": 2}\n',
                  {"malformed_row": 1}, 1),
    "jsonl_with_bom_and_blank_lines.jsonl": ('\ufeff{"email": "a@example.com", "points": 1}\n\n\n'
                                             '{"email": "b@example.com", "points": 2}\n'.encode(), {}, 2),
    "missing_values.csv": (f"{HEAD}\n,,,,\nc@example.com,,,,\n{GOOD}\n".encode(),
                           {"missing_identifier": 1, "no_attributes": 1}, 1),
    "huge_jsonl_line.jsonl": (('{"email": "a@example.com", "tier": "' + "x" * 1_100_000 + '"}\n'
                               '{"email": "b@example.com", "points": 2}\n').encode(), {"malformed_row": 1}, 1),
}


def run_count(data_dir) -> int:
    path = history_path(data_dir)
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]


@pytest.fixture
def cli(sim_process, cli_for):
    return cli_for(sim_process.url)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_files_refused_whole_name_the_problem_and_record_nothing(cli, tmp_path, name):
    content, expected = REFUSED[name]
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = cli("send", "loyalty-attributes", str(path))
    assert code == 2
    assert str(path) in err and expected in err
    assert run_count(cli.data) == 0


@pytest.mark.parametrize("target", ["folder", "missing.csv"])
def test_an_empty_folder_or_a_missing_path_is_refused(cli, tmp_path, target):
    path = tmp_path / target
    if target == "folder":
        path.mkdir()
    code, _, err = cli("send", "loyalty-attributes", str(path))
    assert code == 2 and str(path) in err and ("holds no audience files" in err or "no such file" in err)


@pytest.mark.parametrize("name", sorted(PER_ROW))
def test_broken_rows_become_rejections_and_the_rest_is_sent(cli, tmp_path, name):
    content, expected_reasons, accepted = PER_ROW[name]
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = cli("send", "loyalty-attributes", str(path), "--json", "--wait")
    summary = json.loads(out)
    assert summary["status"] == "finished" and summary["accepted"] == accepted, err
    code, out, _ = cli("rejections", str(summary["run_id"]), "--json")
    log = json.loads(out)
    assert log["reasons"] == expected_reasons
    for item in log["rejections"]:
        assert item["message"] and "row" in item["message"] or item["reason"] != "malformed_row"
    with sqlite3.connect(history_path(cli.data)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM row_outcomes WHERE outcome = 0").fetchone()[0] == 0
