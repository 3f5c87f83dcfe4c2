"""SVG snapshots of the console (stored under snapshots/ by tests/conftest.py): every section at
80x24 and 120x40 in sandbox and production, in colour and with NO_COLOR; the live run mid-send, the
rejection log filtered, a rejection's detail, help, and the too-small notice."""
from __future__ import annotations

import time

import pytest
from console_kit import FixedBackend, make_app, open_run, settle
from textual.widgets import Input

from tui.app.sections.send import SendSection
from tui.app.widgets.header import ConsoleHeader
from tui.app.widgets.run_panel import RunPanel
from tui.sync.progress import Progress

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
ENVIRONMENTS = pytest.mark.parametrize("environment", ["sandbox", "production"])
COLOURS = pytest.mark.parametrize("colour", ["colour", "no_color"])


async def steady(pilot) -> None:
    """Settled, with every input's cursor shown steadily: a blinking cursor is in either phase when the
    snapshot is taken (a loaded machine caught the other one), and a snapshot must not depend on that."""
    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


def colour_mode(monkeypatch, colour: str) -> None:
    """NO_COLOR as an operator sets it; Textual reads (and removes) it when the app is built."""
    if colour == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")

# A bulk send half way: its batches are submitted, none of their jobs' results is in yet.
MID_SEND = Progress(run_id=7, state="running", rows_read=1_200, invalid=31, skipped_unchanged=140,
                    in_flight=256, submitted=744, rejected=29, retrying=3, rows_per_s=812.0,
                    requests_per_s=3.2, rate_limit=100.0, ratelimit_remaining=61,
                    total_rows_estimate=2_400, eta_s=92.0, elapsed_s=74.0,
                    endpoint_limit=100.0)
TAIL = ("      14 user0000012@example.com   invalid_email           -  invalid email at row 14",
        "      19 +1555010019               invalid_phone           -  not a phone number")


@COLOURS
@ENVIRONMENTS
@SIZES
def test_first_screen(snap_compare, monkeypatch, environment, size, colour):
    colour_mode(monkeypatch, colour)
    assert snap_compare(make_app(environment), terminal_size=size, run_before=steady)


@COLOURS
@ENVIRONMENTS
@SIZES
@pytest.mark.parametrize("section", ["2", "3", "4", "5"], ids=["credentials", "send", "history", "promotion"])
def test_section(snap_compare, tmp_path, monkeypatch, environment, size, section, colour):
    colour_mode(monkeypatch, colour)
    app = make_app(environment, backend=FixedBackend().with_history(tmp_path))

    async def open_section(pilot):
        await steady(pilot)
        await pilot.press(section)
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_section)


@ENVIRONMENTS
@SIZES
def test_live_run_mid_send(snap_compare, environment, size):
    app = make_app(environment)

    async def mid_send(pilot):
        await steady(pilot)
        await pilot.press("3")
        pilot.app.query_one(SendSection).running = True  # a send in progress: the footer offers its keys
        pilot.app.query_one(SendSection).show_run()
        pilot.app.refresh_bindings()
        panel = pilot.app.query_one(RunPanel)
        panel.destination = "loyalty-attributes"
        panel.progress = MID_SEND
        panel.tail = TAIL
        pilot.app.query_one(ConsoleHeader).progress = MID_SEND
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=mid_send)


@SIZES
def test_rejection_log_filtered(snap_compare, tmp_path, size):
    app = make_app(backend=FixedBackend().with_history(tmp_path))

    async def filtered(pilot):
        await steady(pilot)
        await pilot.press("4")
        await steady(pilot)
        await pilot.press("enter")
        await steady(pilot)
        await pilot.press("slash", *"row 1", "enter")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=filtered)


@SIZES
def test_history_with_jobs_pending(snap_compare, tmp_path, size):
    app = make_app(backend=FixedBackend().with_jobs(tmp_path))

    async def history(pilot):
        await steady(pilot)
        await pilot.press("4")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=history)


@SIZES
def test_run_jobs(snap_compare, tmp_path, monkeypatch, size):
    monkeypatch.setenv("TZ", "UTC")  # the view shows local times
    time.tzset()
    app = make_app(backend=FixedBackend().with_jobs(tmp_path))

    async def jobs(pilot):
        await open_run(pilot)
        await pilot.press("b")
        await steady(pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=jobs)
    finally:
        monkeypatch.undo()
        time.tzset()


@SIZES
def test_promotion_gates(snap_compare, size):
    app = make_app()

    async def gates(pilot):
        await steady(pilot)
        await pilot.press("5")
        await steady(pilot)
        pilot.app.query_one("#promotion-destination").value = "loyalty-attributes"
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=gates)


AUDIENCE = ("email,phone,tier,points\n"
            + "".join(f"user{index}@example.com,+1212555{index:04d},Gold,{index * 10}\n" for index in range(8))
            + "not-an-email,+12125550100,Silver,5\n,+12125550101,Bronze,1\n")


@ENVIRONMENTS
@SIZES
def test_send_preview(snap_compare, tmp_path, monkeypatch, environment, size):
    (tmp_path / "audience.csv").write_text(AUDIENCE)
    monkeypatch.chdir(tmp_path)  # the path on screen is the same on every machine
    app = make_app(environment)

    async def preview(pilot):
        await steady(pilot)
        await pilot.press("3")
        pilot.app.query_one("#send-destination").value = "loyalty-attributes"
        pilot.app.query_one("#send-source").value = "audience.csv"
        pilot.app.query_one("#send-source").focus()
        await pilot.press("enter")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=preview)


@SIZES
def test_destination_form(snap_compare, size):
    async def edit(pilot):
        await steady(pilot)
        await pilot.press("e")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=edit)


@COLOURS
@SIZES
def test_rejection_detail(snap_compare, tmp_path, monkeypatch, size, colour):
    colour_mode(monkeypatch, colour)
    app = make_app(backend=FixedBackend().with_history(tmp_path))

    async def detail(pilot):
        await open_run(pilot)
        await pilot.press("j", "j", "enter")  # the third rejection
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=detail)


@COLOURS
@SIZES
def test_help(snap_compare, monkeypatch, size, colour):
    colour_mode(monkeypatch, colour)

    async def help_screen(pilot):
        await steady(pilot)
        await pilot.press("question_mark")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=help_screen)


@COLOURS
def test_too_small_notice(snap_compare, monkeypatch, colour):
    colour_mode(monkeypatch, colour)
    assert snap_compare(make_app(), terminal_size=(60, 20), run_before=steady)
