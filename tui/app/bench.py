"""`attentive-console bench console`: time to first paint, and for a 1,000,000-rejection log the
time to open, to scroll a page and to apply a filter. Figures are printed, never asserted."""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from tui.app.history_source import StoreRejections
from tui.app.rejections import run_query
from tui.sync.history_schema import connect
from tui.sync.rejections import RejectionFilter

REASONS = ("invalid_email", "invalid_phone", "duplicate_identifier", "attribute_type")
TARGETS = {"first paint": 1.5, "filter": 0.150}


def build_log(data_dir: Path, rejections: int) -> None:
    connection: sqlite3.Connection = connect(data_dir)
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO runs (id, operator, environment, destination, endpoint, config_hash, mode, source_path,"
        " source_hash, source_format, started_at, status) VALUES (1, 'bench', 'sandbox', 'bench', 'bulk', 'h',"
        " 'send', 'bench.csv', 's', 'csv', 0, 'finished')")
    connection.executemany(
        "INSERT INTO rejections (run_id, row, reason, identifier, status, message) VALUES (1, ?, ?, ?, ?, ?)",
        ((index + 2, REASONS[index % 4], f"user{index:07d}@example.com", 400 if index % 4 == 3 else None,
          f"{REASONS[index % 4]} at row {index + 2}") for index in range(rejections)))
    connection.execute("COMMIT")
    connection.close()


async def first_paint() -> float:
    from tui.app.app import ConsoleApp
    from tui.app.core_backend import CoreBackend
    from tui.app.session import Session

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        session = Session("sandbox", "bench", Path.cwd() / "config", root, root / "secrets.toml")
        started = time.perf_counter()
        app = ConsoleApp(session, CoreBackend(session))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            return time.perf_counter() - started


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> int:
    parser = argparse.ArgumentParser(prog="attentive-console bench console", description=__doc__)
    parser.add_argument("--rejections", type=int, default=1_000_000, help="size of the rejection log")
    rows = parser.parse_args(getattr(args, "bench_args", [])).rejections
    figures = {"first paint": asyncio.run(first_paint())}
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        print(f"building a {rows:,}-rejection log…", flush=True)
        build_log(data_dir, rows)
        source = StoreRejections(data_dir, 1)
        figures["open (count, facets, first page)"] = timed(lambda: run_query(source, RejectionFilter()))
        figures["scroll a page (deep, offset)"] = timed(
            lambda: source.page(RejectionFilter(), limit=200, offset=rows - 200))
        figures["filter"] = timed(lambda: run_query(source, RejectionFilter(text="user0999")))
        figures["filter by reason"] = timed(lambda: run_query(source, RejectionFilter(reason="invalid_phone")))
    for name, seconds in figures.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"   target <= {target * 1000:.0f} ms: {'ok' if seconds <= target else 'MISSED'}"
        print(f"{name:<36} {seconds * 1000:9.1f} ms{verdict}")
    return 0
