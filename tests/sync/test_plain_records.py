"""The delimited reader takes plain records without the csv module and parses them only when asked
(delimited_records.DelimitedChunks). What it yields must be what csv.reader over a newline="" text stream
makes of the same file, row for row: numbers, values and problems, across quotes, fields over several
lines, CRLF and lone CR ends, blank lines, a BOM and blocks cut anywhere. The reference below is that
reading, as the reader did it before."""
from __future__ import annotations

import csv
import gzip
import io
import random
from pathlib import Path

import pytest

from tui.sync import delimited_records, text_source
from tui.sync.source_files import SourceRow
from tui.sync.sources import SourceReader, inspect_source

HEADER = "email,tier,note"
TRICKY_LINES = [
    'a@example.com,Gold,"quoted, with a comma"',
    'b@example.com,Silver,"over\ntwo lines"',
    'c@example.com,Bronze,"over\r\nCRLF lines"',
    'd@example.com,Gold,plain',
    '',
    '   ',
    '\t',
    'e@example.com,Gold',            # a field short
    'f@example.com,Gold,x,y',        # a field over
    'g@example.com,Gold,mid"quote',  # a quote inside an unquoted field
    'h@example.com,"Gold"x,bad',     # text after a closing quote (strict: an error)
    'i@example.com,Gold,lone\rcr',   # a lone CR ends a line for a newline="" stream
    'j@example.com,Gold,"lone\rcr in quotes"',
    'k@example.com,Gold,  spaced  ',
    'l@example.com,Gold,trailing space ',
    '\x0c',
    'm@example.com,Gold,ünïcödé',
]


def reference(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list, str | None]]:
    """The csv module's reading, as the reader did it before it took plain records itself."""
    header = None
    rows = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return rows
            except csv.Error as exc:
                rows.append((start, [None] * len(columns), text_source.csv_problem(str(exc), reader.line_num, start)))
                continue
            if not record:
                continue
            if header is None:
                header = record
                indexes = [header.index(c) for c in columns]
                continue
            if len(record) != len(header):
                if len(record) == 1 and not record[0].strip():
                    continue
                rows.append((start, [None] * len(columns), f"has {len(record)} fields, the header has {len(header)}"))
                continue
            rows.append((start, [record[i] for i in indexes], None))


def read(path: Path, columns: tuple[str, ...], chunk: int) -> list[tuple[int, list, str | None]]:
    rows: list[SourceRow] = [row for rows in SourceReader(inspect_source(path), columns).chunks(chunk) for row in rows]
    return [(row.row, row.values, row.problem) for row in rows]


def audience(lines: list[str], *, crlf: bool = False, bom: bool = False) -> bytes:
    end = "\r\n" if crlf else "\n"
    text = HEADER + end + "".join(line + end for line in lines)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
@pytest.mark.parametrize("crlf", [False, True])
def test_every_tricky_record_reads_as_the_csv_module_reads_it(tmp_path, monkeypatch, block, crlf):
    monkeypatch.setattr(delimited_records, "READ_BLOCK", block)  # blocks cut inside records, quotes and CRLFs
    lines = [f"p{i}@example.com,Gold,plain {i}" for i in range(40)]
    for at, tricky in enumerate(TRICKY_LINES):
        lines.insert(2 + at * 2, tricky)
    path = tmp_path / "audience.csv"
    path.write_bytes(audience(lines, crlf=crlf, bom=True))
    expected = reference(path, ("email", "note"))
    assert any(problem for _, _, problem in expected) and len(expected) > 40  # the corpus does reach the odd paths
    for chunk in (1, 5, 1000):
        assert read(path, ("email", "note"), chunk) == expected


def test_random_files_read_as_the_csv_module_reads_them(tmp_path, monkeypatch):
    monkeypatch.setattr(delimited_records, "READ_BLOCK", 97)
    pieces = ["a", "b,c", '"', '""', ",", "\n", "\r\n", "\r", " ", "\t", "x@y.com"]
    randomly = random.Random(15)
    for attempt in range(60):
        body = "".join(randomly.choice(pieces) for _ in range(randomly.randrange(5, 400)))
        path = tmp_path / f"random-{attempt}.csv"
        path.write_bytes(f"{HEADER}\n{body}".encode())
        expected = reference(path, ("email", "tier"))
        assert read(path, ("email", "tier"), 3) == expected, body


def test_a_gzip_part_and_a_tsv_part_read_as_the_csv_module_reads_them(tmp_path):
    lines = [f"p{i}@example.com,Gold,plain {i}" for i in range(30)] + TRICKY_LINES
    packed = tmp_path / "audience.csv.gz"
    packed.write_bytes(gzip.compress(audience(lines)))
    assert read(packed, ("email", "note"), 4) == reference(packed, ("email", "note"))
    tsv = tmp_path / "audience.tsv"
    tsv.write_text('email\ttier\nq@example.com\t"Gold\nr@example.com\tSilver, "fine"\n\n s \n')
    assert read(tsv, ("email", "tier"), 2) == [
        (2, ["q@example.com", '"Gold'], None), (3, ["r@example.com", 'Silver, "fine"'], None),
        (5, [None, None], "has 1 fields, the header has 2")]
