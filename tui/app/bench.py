"""`attentive-console bench console`: time to first paint, and for a 1,000,000-rejection log the
time to open, to scroll a page and to apply filters. A filter has two steps (tui/core/rejection_pages.py): the
first page on screen, then the exact count and the facets; both are printed, the target is for the
first. Figures are printed, never asserted."""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tui.app.backend.rejection_source import StoreRejections
from tui.core.rejection_pages import PAGE_SIZE, counts, first_page
from tui.sync.history import HistoryStore, NewRun, RunMode
from tui.sync.rejection_index import write_rejections
from tui.sync.rejections import RejectionFilter

REASONS = ("invalid_email", "invalid_phone", "duplicate_identifier", "attribute_type")
BATCH = 50_000   # rejections per transaction, as the send's writer flushes them
TARGETS = {"first paint": 1.5, "filter": 0.150}
FILTERS = {
    "filter (selective text)": RejectionFilter(text="user0999"),
    "filter (broad text)": RejectionFilter(text="example"),
    "filter by reason": RejectionFilter(reason="invalid_phone"),
}


def rejection_rows(run_id: int, start: int, stop: int) -> Iterator[tuple]:
    for index in range(start, stop):
        reason = REASONS[index % 4]
        yield (run_id, index + 2, reason, f"user{index:07d}@example.com", 400 if index % 4 == 3 else None,
               f"{reason.replace('_', ' ')} at row {index + 2}")


def build_log(data_dir: Path, rejections: int) -> int:
    """A finished run with `rejections` rejections, written through the history store. Its run id."""
    with HistoryStore(data_dir) as store:
        run_id = store.create_run(NewRun("bench", "sandbox", "bench", "bulk", "h" * 64, RunMode.SEND, "bench.csv",
                                         "s" * 64, "csv", rejections))
        connection = store.connection
        for start in range(0, rejections, BATCH):
            connection.execute("BEGIN IMMEDIATE")
            write_rejections(connection, rejection_rows(run_id, start, min(rejections, start + BATCH)))
            connection.execute("COMMIT")
        store.set_status(run_id, "finished")
    return run_id


async def first_paint() -> float:
    from tui.app.app import ConsoleApp
    from tui.app.backend.core import CoreBackend
    from tui.app.session import Session

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        session = Session(environment="sandbox", operator="bench", config_dir=Path.cwd() / "config", data_dir=root,
                          secrets_file=root / "secrets.toml")
        started = time.perf_counter()
        app = ConsoleApp(session, CoreBackend(session))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            return time.perf_counter() - started


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def log_figures(source: StoreRejections, rows: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    everything = RejectionFilter()
    figures["open: first page shown"] = timed(lambda: first_page(source, everything))
    figures["open: count and facets"] = timed(lambda: counts(source, everything))
    figures["scroll a page (to the end)"] = timed(
        lambda: source.page(everything, limit=PAGE_SIZE, offset=max(0, rows - PAGE_SIZE)))
    for name, where in FILTERS.items():
        figures[f"{name}: first page shown"] = timed(lambda: first_page(source, where))
        figures[f"{name}: count and facets"] = timed(lambda: counts(source, where))
    return figures


def target_of(name: str) -> float | None:
    if name == "first paint":
        return TARGETS["first paint"]
    return TARGETS["filter"] if name.startswith("filter") and name.endswith("first page shown") else None


def run(args: argparse.Namespace) -> int:
    parser = argparse.ArgumentParser(prog="attentive-console bench console", description=__doc__)
    parser.add_argument("--rejections", type=int, default=1_000_000, help="size of the rejection log")
    rows = parser.parse_args(getattr(args, "bench_args", [])).rejections
    figures = {"first paint": asyncio.run(first_paint())}
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        print(f"building a {rows:,}-rejection log through the history store…", flush=True)
        started = time.perf_counter()
        run_id = build_log(data_dir, rows)
        print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
        figures.update(log_figures(StoreRejections(data_dir, run_id), rows))
    for name, seconds in figures.items():
        target = target_of(name)
        verdict = "" if target is None else f"   target <= {target * 1000:.0f} ms: {'ok' if seconds <= target else 'MISSED'}"
        print(f"{name:<44} {seconds * 1000:9.1f} ms{verdict}")
    return 0
