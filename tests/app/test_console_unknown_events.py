"""Unknown events from the console: a send to a custom-event destination whose answers all leave the
events' fate open (the simulator records each event, then answers 500) stops with them recorded as
event_unknown. The run's detail in History says how many; R on the whole log never re-sends them, R on
the event_unknown facet does, once the operator has read that any that arrived will arrive twice.
Over the real core, the simulator on loopback and real TOML and CSV files in tmp_path."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from config_kit import destination_toml, environment_toml, visits_toml
from console_kit import open_run, settle, wait_until
from core_kit import Seen, core_app, screen_text
from textual.widgets import OptionList, Static

from tui.app.forms.facet_picker import FacetPicker
from tui.app.messages import ResendRequested, RunRecorded
from tui.app.screens.yes_no import YesNoScreen
from tui.app.widgets.run_detail import RunDetail
from tui.attentive.simulator.faults import parse_fault_spec
from tui.sync.event_ledger import event_id
from tui.sync.history import HistoryStore, RunRecord
from tui.sync.reasons import EVENT_UNKNOWN
from tui.sync.rejections import RejectionFilter

VISITS = 30


def stamp(hours_ago: float) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_visits(path: Path) -> Path:
    """30 valid visits an hour old: row r (from 2) is visit V{r-2:05d}."""
    lines = ["email,visit_id,store,visited_at,kind"]
    lines += [f"visitor{index}@example.com,V{index:05d},Store {index % 3},{stamp(1)},In-store visit"
              for index in range(VISITS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def event_config(app, url: str) -> None:
    loyalty = destination_toml(description="Loyalty tier and points")
    text = environment_toml(url, restricted=("bob",), description="Test company", destinations=[loyalty, visits_toml("attentive")])
    (app.session.config_dir / "sandbox.toml").write_text(text)


def runs(app) -> list[RunRecord]:
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        return store.list_runs()


def unknown_rows(app, run_id: int) -> set[int]:
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        return {row for (row,) in store.connection.execute(
            "SELECT row FROM rejections WHERE run_id = ? AND reason = ?", (run_id, EVENT_UNKNOWN))}


def notes(app) -> list[str]:
    return [str(note.message) for note in app._notifications]


def visit_event(row: int) -> str:
    return event_id("store-visits", (f"V{row - 2:05d}",))


async def send_file(pilot, source: Path, seen: Seen) -> None:
    """Send (3) with store-visits and the file, previewed; S, yes; then the run to its record."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    app.query_one("#send-destination").value = "store-visits"
    app.query_one("#send-source").value = str(source)
    app.query_one("#send-source").focus()
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("S")
    assert isinstance(app.screen, YesNoScreen)
    await pilot.press("y")
    await wait_until(pilot, lambda: len(seen.of(RunRecorded)) == 1)
    await settle(pilot)


async def test_unknown_events_are_re_sent_only_from_their_facet_after_the_arrive_twice_question(
        tmp_path, start_simulator):
    simulator = await start_simulator(faults=parse_fault_spec("500after=1"))
    source = write_visits(tmp_path / "visits.csv")
    app = core_app(tmp_path, simulator.url)
    event_config(app, simulator.url)
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        # 1. The send: every answer a 500 after the event went in; 3 in a row stop the run.
        await send_file(pilot, source, seen)
        [first] = runs(app)
        unknown = unknown_rows(app, first.id)
        assert first.status == "failed", first.message
        assert first.unknown == len(unknown) and 3 <= len(unknown) < VISITS, (first.unknown, unknown)
        assert first.accepted == 0
        arrived = simulator.sim.state.events.counts("custom-events")
        assert {visit_event(row) for row in unknown} <= set(arrived)
        assert all(arrived[visit_event(row)] == 1 for row in unknown)
        before = sum(arrived.values())

        # 2. History: the run's detail counts them on its third summary line, whole at 80 columns.
        log = await open_run(pilot)
        detail = app.query_one(RunDetail)
        assert detail.run.run_id == first.id and detail.run.unknown == len(unknown)
        summary = str(app.query_one("#run-summary", Static).render())
        line = f"already sent 0  UNKNOWN {len(unknown)}: f picks event_unknown, R re-sends"
        assert line in summary.splitlines()
        assert line in screen_text(app)   # whole at 80 columns
        assert log.total == len(unknown)   # the log holds only the unknown events (the rest were never sent)

        # 3. R on the whole log: the unknown events are not among what a re-send sends, so nothing is.
        await pilot.press("R")
        await settle(pilot)
        assert not isinstance(app.screen, YesNoScreen)
        assert any(note.startswith("Nothing to re-send") and f"The {len(unknown)} unknown events go again only from "
                   "the event_unknown facet (f)." in note for note in notes(app)), notes(app)
        assert not seen.of(ResendRequested) and len(runs(app)) == 1

        # 4. f: the facet picker offers event_unknown with its count; picked, the log shows it.
        await pilot.press("f")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, FacetPicker)
        options = picker.query_one("#facet-options", OptionList)
        labels = [str(options.get_option_at_index(index).prompt) for index in range(options.option_count)]
        index = labels.index(f"reason {EVENT_UNKNOWN}  ({len(unknown)})")
        await pilot.press(*["down"] * index, "enter")
        await settle(pilot)
        assert log.where.reason == EVENT_UNKNOWN and log.total == len(unknown)

        # R now counts the unknown events and asks, saying they may arrive twice.
        await pilot.press("R")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, YesNoScreen)
        rows = f"{len(unknown)} rows"
        assert f"Re-send {rows} (reason={EVENT_UNKNOWN}) to store-visits in sandbox?" in question.explanation
        assert "arrive twice" in question.explanation
        await pilot.press("escape")   # not yet: nothing is sent
        await settle(pilot)
        assert not seen.of(ResendRequested) and len(runs(app)) == 1

        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, YesNoScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(seen.of(RunRecorded)) == 2)
        await settle(pilot)
        [order] = seen.of(ResendRequested)
        assert order.include_unknown and order.count == len(unknown)
        assert order.where == RejectionFilter(reason=EVENT_UNKNOWN)

        # The retry: a new run of exactly those rows; each of their events arrived a second time (the
        # faults are still on, so its own answers leave them unknown again, which is for a later R).
        retry = runs(app)[0]
        assert retry.id != first.id and retry.parent_run_id == first.id
        assert retry.rows_read == len(unknown) and retry.include_unknown
        with HistoryStore(app.session.data_dir, readonly=True) as store:
            assert store.get_run(retry.id).rows_read == len(unknown)
            sent = {row for (row,) in store.connection.execute(
                "SELECT row FROM row_outcomes WHERE run_id = ?", (retry.id,))}
        assert sent == unknown
        arrived = simulator.sim.state.events.counts("custom-events")
        assert {row: arrived[visit_event(row)] for row in unknown} == {row: 2 for row in unknown}
        assert sum(arrived.values()) == before + len(unknown)   # no other event went again
