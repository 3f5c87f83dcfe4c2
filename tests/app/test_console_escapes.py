"""Data holding terminal controls is drawn escaped: the rejection log, the run panel's tail, a run's
detail and its jobs view. What reaches the terminal is checked, not only the text of the widgets."""
from __future__ import annotations

import dataclasses

from console_kit import FixedBackend, make_app, open_run, settle
from core_kit import screen_text

from tui.app.app import ConsoleApp
from tui.app.sections.send import SendSection
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.app.widgets.run_panel import RunPanel
from tui.sync.history_schema import connect
from tui.sync.progress import Progress
from tui.sync.rejections import Rejection

CLEAR = "\x1b[2J\x1b[H"                  # erase the screen, cursor home: the top lines went blank
TITLE = "\x1b]0;pwned\x07"              # retitle the terminal window
EVIL_ID = f"eve{CLEAR}@example.com"
SHOWN_ID = r"eve\x1b[2J\x1b[H@example.com"   # escaped, whole: the identifier column holds it


def terminal_output(app: ConsoleApp) -> str:
    """What the console writes to the terminal for the whole screen (Textual's own cursor moves and
    colours; data must add nothing the terminal would act on)."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def assert_nothing_acts_on_the_terminal(app: ConsoleApp) -> None:
    output = terminal_output(app)
    assert CLEAR not in output and "\x1b[2J" not in output and TITLE not in output and "\x07" not in output


def add_rejection(data_dir, run_id: int, identifier: str, message: str) -> None:
    connection = connect(data_dir)
    with connection:
        connection.execute("INSERT INTO rejections (run_id, row, reason, identifier, status, message)"
                           " VALUES (?, 5, 'invalid_email', ?, 400, ?)", (run_id, identifier, message))
    connection.close()


async def test_an_identifier_with_escape_sequences_is_shown_as_text_and_the_screen_stays(tmp_path):
    backend = FixedBackend().with_history(tmp_path, rejections=3)
    add_rejection(tmp_path, 3, EVIL_ID, f"bad address {TITLE}")
    app = make_app(backend=backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        top = screen_text(app).splitlines()[:2]   # the header
        log = await open_run(pilot)
        assert log.total == 4
        row = log.visible_lines()[3]  # written last
        assert row.split()[:2] == ["5", SHOWN_ID] and r"bad address \x1b]0;pwned\x07" in row
        text = screen_text(app)
        assert SHOWN_ID in text and "\x1b" not in text
        assert text.splitlines()[:2] == top
        assert_nothing_acts_on_the_terminal(app)


async def test_the_filter_shown_with_the_facets_is_escaped(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path, rejections=3))
    async with app.run_test(size=(100, 24)) as pilot:
        log = await open_run(pilot)
        app.query_one("RunDetail").apply(dataclasses.replace(log.where, text="\x1b[2J"))
        await settle(pilot)
        assert r'("\x1b[2J")' in screen_text(app)
        assert_nothing_acts_on_the_terminal(app)


async def test_the_run_panels_tail_is_escaped(tmp_path):
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        app.query_one(SendSection).running = True
        app.query_one(SendSection).show_run()
        app.query_one(RunPanel).progress = Progress(run_id=9)
        app.query_one(SendSection).show_tail([Rejection(1, 14, "invalid_email", EVIL_ID, None, f"no {TITLE}")])
        await settle(pilot)
        text = screen_text(app)
        assert SHOWN_ID in text and r"no \x1b]0;pwned\x07" in text
        assert_nothing_acts_on_the_terminal(app)


async def test_the_jobs_view_escapes_attentives_id_status_and_message(tmp_path):
    backend = FixedBackend().with_jobs(tmp_path)
    backend.jobs[0] = dataclasses.replace(backend.jobs[0], job_id=f"j{CLEAR}1", status=f"DONE{TITLE}",
                                          message=f"see {CLEAR}")
    app = make_app(backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, RunJobsScreen)
        text = screen_text(app)
        assert r"Attentive job j\x1b[2J\x1b[H1" in text and r"status DONE\x1b]0;pwned\x07" in text
        assert r"message: see \x1b[2J\x1b[H" in text
        assert_nothing_acts_on_the_terminal(app)
