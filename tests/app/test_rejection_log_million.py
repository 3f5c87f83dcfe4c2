"""The rejection log of a run with 1,000,000 rejections: open it, scroll to the end, filter with `/`,
and keep handling keys while a query runs. The log is written once per session through the history
store (tui.app.bench.build_log uses the writer's own insert-and-index step)."""
from __future__ import annotations

import threading

import pytest
from console_kit import FixedBackend, Run, make_app, open_run, settle
from textual.widgets import Input, Static

from tui.app.backend.rejection_source import StoreRejections
from tui.app.bench import build_log
from tui.sync.rejections import RejectionFilter

REJECTIONS = 1_000_000
pytestmark = pytest.mark.xdist_group("million-rejections")  # one worker builds the log, once
LAST_IDENTIFIER = f"user{REJECTIONS - 1:07d}@example.com"


@pytest.fixture(scope="session")
def million_log(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("million")
    return data_dir, build_log(data_dir, REJECTIONS)


class HeldSource:
    """The store's rejections, with text queries held at a gate the test opens, so the test can act
    while a query is running. Step one (first page, capped count) and step two (facets) have a gate each."""

    def __init__(self, inner: StoreRejections) -> None:
        self.inner = inner
        self.first_step = threading.Event()
        self.second_step = threading.Event()
        self.release()

    def hold(self) -> None:
        self.first_step.clear()
        self.second_step.clear()

    def release(self) -> None:
        self.first_step.set()
        self.second_step.set()

    def page(self, flt, *, limit, offset):
        if flt.text:
            self.first_step.wait(60)
        return self.inner.page(flt, limit=limit, offset=offset)

    def count(self, flt, *, limit=None):
        if flt.text:
            self.first_step.wait(60)
        return self.inner.count(flt, limit=limit)

    def facets(self, flt):
        if flt.text:
            self.second_step.wait(60)
        return self.inner.facets(flt)


class MillionBackend(FixedBackend):
    def __init__(self, source: HeldSource, run_id: int) -> None:
        super().__init__(run_rows=[Run(run_id, "loyalty-attributes", "sandbox", "finished", "2025-11-27 09:20",
                                       REJECTIONS, 0, REJECTIONS, 0, 0)])
        self.source = source

    def rejection_source(self, run_id):
        return self.source


def million_app(million_log):
    """The console over the million-rejection run, its text queries held until the test releases them."""
    data_dir, run_id = million_log
    source = HeldSource(StoreRejections(data_dir, run_id))
    return source, make_app(backend=MillionBackend(source, run_id))


def running(app, name: str) -> bool:
    return any(worker.name == name and not worker.is_finished for worker in app.workers)


def facets_line(app) -> str:
    return str(app.query_one("#run-facets", Static).render())


async def test_a_million_rejections_open_scroll_to_the_end_and_filter_while_keys_keep_working(million_log):
    source, app = million_app(million_log)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            log = await open_run(pilot)
            assert log.total == REJECTIONS and "counting…" not in facets_line(app)
            assert facets_line(app).startswith("1,000,000 shown (all)")

            await pilot.press("end")
            await pilot.wait_for_scheduled_animations()
            await settle(pilot)
            lines = log.visible_lines()
            assert LAST_IDENTIFIER in lines[-1] and f"{REJECTIONS + 1}" in lines[-1]

            source.hold()
            await pilot.press("slash", *"user0999", "enter")
            # the first step is held: the old lines stay, and keys are still handled
            assert running(app, "Filter rejections")
            at_end = log.cursor
            await pilot.press("up", "up")   # the row cursor moves while the query runs
            assert log.cursor == at_end - 2 == REJECTIONS - 3
            assert running(app, "Filter rejections") and log.where == RejectionFilter()

            source.first_step.set()  # the first page arrives; the count and facets are still held
            while log.where.text != "user0999":
                await pilot.pause()
            lines = log.visible_lines()
            assert lines and all("user0999" in line for line in lines)
            assert "counting…" in facets_line(app) and running(app, "Count rejections")
            await pilot.press("down")
            assert log.cursor == 1

            source.second_step.set()
            await settle(pilot)
            assert log.total == 1000 and "counting…" not in facets_line(app)
            assert facets_line(app).startswith('1,000 shown ("user0999")')
    finally:
        source.release()


async def test_the_newest_filter_wins_over_a_million_rejections(million_log):
    source, app = million_app(million_log)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            log = await open_run(pilot)
            source.hold()
            await pilot.press("slash", *"example", "enter")   # broad: every rejection matches
            await pilot.press("slash", *["backspace"] * len("example"), *"row 123456", "enter")
            assert app.query_one("#rejection-filter", Input).value == "row 123456"
            source.release()
            await settle(pilot)
            assert log.where.text == "row 123456"
            lines = log.visible_lines()
            assert lines and all("row 123456" in line for line in lines)
            assert log.total == sum(1 for row in range(2, REJECTIONS + 2) if "row 123456" in f"at row {row}")
    finally:
        source.release()
