"""Every list behaves as k9s and lazygit do (widgets/data_list.py): sort by a column (numbers as
numbers) and flip it, `/` narrows the rows as typed and `esc` clears it, j/k and g/G move, `y` copies
the row's key, and the cursor keeps its row across a sort, a filter and a reload. History: the runs
refresh while a send goes, enter/b/esc move between a run, its rejections and its jobs, v reads a run
back, and the run under the cursor shows its rejections by reason."""
from __future__ import annotations

from dataclasses import replace

from console_kit import JOB_RUN, FixedBackend, Run, make_app, sandbox_environment, settle, wait_until
from core_kit import core_app
from test_console_messages import Messages
from textual.widgets import ContentSwitcher

from tui.app.messages import RunProgressed, RunsLoaded, RunVerified, SendRequested
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen
from tui.app.widgets.data_list import DataList, ListRow, ListTable, sort_key
from tui.app.widgets.reason_chart import reason_chart
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.settings.model import Credential
from tui.sync.history import HistoryStore, Verification
from tui.sync.sample_audience import SAMPLE_PATH

NUMBERED_RUNS = [  # ids and counts whose text order is not their number order
    Run(9, "loyalty-attributes", "sandbox", "finished", "2025-11-27 09:20", 900, 880, 10, 10, 0),
    Run(100, "sms-optins", "sandbox", "cancelled", "2025-11-28 10:00", 10_000, 9_000, 500, 500, 0),
    Run(10, "loyalty-attributes", "sandbox", "finished", "2025-11-27 11:00", 50, 48, 1, 1, 0),
]


def keys(table: ListTable) -> list[str | None]:
    return [row.key.value for row in table.ordered_rows]


def header(table: ListTable) -> list[str]:
    return [column.label.plain for column in table.ordered_columns]


async def history(pilot) -> ListTable:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    return pilot.app.query_one("#runs-table", ListTable)


def test_numbers_sort_as_numbers_and_before_text():
    assert sorted(["10,000", "900", "#12", "50", "-", "abc"], key=sort_key) == ["#12", "50", "900", "10,000", "-", "abc"]
    assert sort_key("inf")[0] == 1 and sort_key("nan")[0] == 1  # words, though float() reads them


async def test_runs_sort_by_number_and_flip():
    app = make_app(backend=FixedBackend(run_rows=list(NUMBERED_RUNS)))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await history(pilot)
        assert keys(table) == ["100", "10", "9"] and header(table)[0] == "Run ▼"  # newest first
        await pilot.press("o")
        assert keys(table) == ["9", "10", "100"] and header(table)[0] == "Run ▲"
        await pilot.press(*">" * 6)  # Read
        assert header(table)[6] == "Read ▲" and header(table)[0] == "Run  "
        assert keys(table) == ["10", "9", "100"]  # 50, 900, 10,000 (as text: 10,000 < 50 < 900)
        await pilot.press("o")
        assert keys(table) == ["100", "9", "10"] and header(table)[6] == "Read ▼"
        await pilot.press("<")
        assert header(table)[5].startswith("Jobs ▲")


async def test_j_k_g_and_G_move_on_a_list(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await history(pilot)
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0


async def test_right_and_left_scroll_a_column_at_a_time_at_80_columns(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await history(pilot)
        starts = [0]
        for column in table.ordered_columns:
            starts.append(starts[-1] + column.get_render_width(table))
        assert table.max_scroll_x > 0  # the runs are wider than 80 columns
        await pilot.press("right")
        assert table.scroll_x == starts[1]
        await pilot.press("l", "l")
        assert table.scroll_x == min(starts[3], table.max_scroll_x)
        await pilot.press("left")
        assert table.scroll_x == starts[2]
        await pilot.press("h", "h", "h")
        assert table.scroll_x == 0
        for _ in table.ordered_columns:  # the last column (Read-back) in a few presses, not thirty
            await pilot.press("right")
        assert table.scroll_x == table.max_scroll_x


async def test_the_cursor_keeps_its_run_across_sort_filter_and_reload(tmp_path):
    backend = FixedBackend().with_history(tmp_path)
    app = make_app(backend=backend)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await history(pilot)
        await pilot.press("j")
        assert table.cursor_key == "2"
        await pilot.press("o")   # runs 1, 2, 3
        assert table.cursor_key == "2" and table.cursor_row == 1
        await pilot.press("slash", *"loyalty")
        assert keys(table) == ["2", "3"] and table.cursor_key == "2"
        await pilot.press("enter")   # keeps the filter, back on the list
        backend.run_rows.insert(0, replace(JOB_RUN, run_id=5, destination="loyalty-attributes"))
        await pilot.press("r")
        await settle(pilot)
        assert keys(table) == ["2", "3", "5"] and table.cursor_key == "2"
        await pilot.press("escape")  # clears the filter first
        assert keys(table) == ["1", "2", "3", "5"] and table.cursor_key == "2"
        assert app.query_one("#history-switcher", ContentSwitcher).current == "history-list"


async def test_slash_filters_the_runs_as_typed_and_esc_clears_it(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await history(pilot)
        box = app.query_one("#runs-table").parent
        assert isinstance(box, DataList) and not box.filtering
        await pilot.press("slash")
        assert box.filtering and app.focused is box.filter_input
        await pilot.press(*"CANC")   # case-insensitive, over every visible cell (Status here)
        assert keys(table) == ["1"]
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"sample")   # the Mode column
        assert keys(table) == ["2"]
        await pilot.press("escape")
        assert not box.filtering and box.filter_input.value == "" and keys(table) == ["3", "2", "1"]
        assert app.focused is table


async def test_slash_filters_destinations_and_credentials():
    environment = sandbox_environment()
    environment = replace(environment, credentials={
        **environment.credentials, "zz-other": Credential("zz-other", "Another company", "custom-attributes-api",
                                                          "demo:sandbox")})
    app = make_app(backend=FixedBackend(environments={"sandbox": environment,
                                                      "production": FixedBackend().environments["production"]}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        destinations = app.query_one("#destinations-table", ListTable)
        assert keys(destinations) == ["loyalty-attributes", "sms-optins"]
        await pilot.press("slash", *"PHONE")   # the Id column of sms-optins
        assert keys(destinations) == ["sms-optins"]
        await pilot.press("escape")
        assert keys(destinations) == ["loyalty-attributes", "sms-optins"]
        await pilot.press("2")
        credentials = app.query_one("#credentials-table", ListTable)
        assert app.focused is credentials and keys(credentials) == ["attentive-sandbox", "zz-other"]
        await pilot.press("slash", *"another")   # the Description column
        assert keys(credentials) == ["zz-other"]


async def test_slash_filters_a_runs_jobs_and_b_esc_comes_back(tmp_path):
    app = make_app(backend=FixedBackend().with_jobs(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await history(pilot)
        assert table.cursor_key == "4"   # the bulk send awaiting its jobs
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunJobsScreen) and screen.run.run_id == 4
        jobs = screen.query_one("#jobs-table", ListTable)
        assert keys(jobs) == ["1", "2", "3", "4"]
        await pilot.press("slash", *"pending")
        assert keys(jobs) == ["3", "4"]
        await pilot.press("escape")       # the filter first
        assert keys(jobs) == ["1", "2", "3", "4"] and app.screen is screen
        await pilot.press("y")
        assert app.clipboard == "9c8b7a6f-5e4d-4c3b-a2e1-0f9e8d7c6b5a"   # job 3 kept the cursor; its whole id
        await pilot.press("q")
        assert not isinstance(app.screen, RunJobsScreen)
        assert app.focused is table and table.cursor_key == "4"


async def test_slash_filters_the_ledger_and_y_copies_its_seq():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        ledger = app.query_one("#ledger-table", ListTable)
        ledger.focus()
        assert keys(ledger) == ["2", "1"]
        await pilot.press("slash", *"started", "enter")
        assert keys(ledger) == ["1"] and app.focused is ledger
        await pilot.press("y")
        assert app.clipboard == "1"


async def test_y_copies_the_key_under_the_cursor(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    copied: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.copy_to_clipboard = copied.append  # what would go out as OSC 52
        await settle(pilot)
        await pilot.press("j", "y")
        assert copied == ["sms-optins"]
        await pilot.press("2", "y")
        assert copied[-1] == "attentive-sandbox"
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("j", "y")
        assert copied[-1] == "2"
        assert any("Copied run id 2" in str(note.message) for note in app._notifications)


# -- History: enter, esc and q; v on a run ------------------------------------------------------------

async def test_enter_opens_a_runs_rejections_and_esc_or_q_comes_back_to_its_row(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await history(pilot)
        switcher = app.query_one("#history-switcher", ContentSwitcher)
        await pilot.press("j", "enter")
        await settle(pilot)
        assert switcher.current == "run-detail"
        await pilot.press("escape")
        assert switcher.current == "history-list" and app.focused is table and table.cursor_key == "2"
        await pilot.press("k", "enter")
        await settle(pilot)
        assert switcher.current == "run-detail"
        await pilot.press("q")
        assert switcher.current == "history-list" and table.cursor_key == "3"


class Verifying(FixedBackend):
    """Reads a run back as matched, or as mismatched for the runs named."""

    def __init__(self, *, mismatched: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.mismatched = mismatched
        self.verified: list[int] = []

    def verify_run(self, run_id):
        self.verified.append(run_id)
        bad = run_id in self.mismatched
        details = [{"row": 2, "problem": "differs", "attribute": "Points", "sent": "5", "got": "4"}] if bad else []
        return Verification(run_id, 0.0, 48, 48 - bad, int(bad), 0, not bad, details)


async def test_v_on_a_run_reads_it_back_from_the_list(tmp_path):
    backend = Verifying(mismatched=frozenset({3})).with_history(tmp_path)
    messages = Messages()
    app = make_app(backend=backend)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await history(pilot)
        await pilot.press("j", "v")
        await settle(pilot)
        assert backend.verified == [2]
        [verified] = messages.of(RunVerified)
        assert verified.run.run_id == 2
        assert any("48/48 profiles match" in str(note.message) for note in app._notifications)
        loads = len(messages.of(RunsLoaded))
        await pilot.press("k", "v")
        await settle(pilot)
        assert backend.verified == [2, 3] and isinstance(app.screen, MessageScreen)
        assert "read-back FAILED" in app.screen.title_text
        assert len(messages.of(RunsLoaded)) > loads   # the Read-back column again


# -- Credentials: D removes ------------------------------------------------------------------------

class Removing(FixedBackend):
    def __init__(self) -> None:
        super().__init__()
        self.removed: list[str] = []

    def removal_refusal(self, environment, name):
        return None

    def remove_credential(self, environment, name):
        self.removed.append(name)
        return f"removed {name}"


async def test_capital_d_removes_a_credential_after_the_typed_name():
    backend = Removing()
    app = make_app(backend=backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "d")
        await settle(pilot)
        assert not isinstance(app.screen, PromptScreen)   # d is no longer remove
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("#prompt-input").value = "attentive-sandbox"
        await pilot.press("enter")
        await settle(pilot)
        assert backend.removed == ["attentive-sandbox"]


# -- History: the rejections by reason of the run under the cursor ------------------------------------

def test_reason_chart_text():
    text = reason_chart(3, {"invalid_email": 14, "invalid_phone": 7, "attribute_type": 1}, rows=8, bar_width=8)
    assert text.splitlines() == [
        "run #3: 22 rejections by reason",
        "invalid_email  ████████ 14",
        "invalid_phone  ████      7",   # counts aligned on the right
        "attribute_type ▋         1",
    ]
    many = reason_chart(3, {f"reason_{n}": n for n in range(1, 6)}, rows=3, bar_width=5)
    assert many.splitlines()[1:] == ["reason_5 █████ 5", "reason_4 ████  4", "… 3 more reasons: 6"]
    assert reason_chart(2, {}, rows=3) == "run #2: no rejections"


def chart(app) -> str:
    return str(app.query_one("#run-reasons").render())


async def test_the_run_under_the_cursor_shows_its_rejections_by_reason(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await history(pilot)
        lines = chart(app).splitlines()
        assert lines[0] == "run #3: 210 rejections by reason"
        assert [line.split()[0] for line in lines[1:]] == ["invalid_email", "invalid_phone", "attribute_type",
                                                            "duplicate_identifier"]
        assert lines[1].endswith("█" * 24 + " 53") and lines[4].rstrip().endswith(" 52")
        await pilot.press("j")
        await settle(pilot)
        assert chart(app) == "run #2: no rejections"   # nothing of it in this history


async def test_at_80x24_the_chart_stays_small_and_the_list_usable(tmp_path):
    app = make_app(backend=FixedBackend().with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await history(pilot)
        lines = chart(app).splitlines()
        assert len(lines) == 4 and lines[-1] == "… 2 more reasons: 104"
        assert table.size.height >= 8


# -- History and Destinations while a send runs -------------------------------------------------------

def accepted(table: ListTable, run_id: int) -> int:
    row = next(row for row in table.source if row.key == str(run_id))
    return int(str(row.cells[7]).replace(",", ""))


async def test_history_and_last_run_refresh_while_a_send_runs(tmp_path, start_simulator):
    slow = await start_simulator(limits={"custom-attributes": 20})   # 3,000 rows at 20/s: minutes
    app = core_app(tmp_path, slow.url, endpoint="custom-attributes", rate_limit=20)
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        table = await history(pilot)
        await pilot.press("j")   # on an empty list: nothing to keep, nothing breaks
        app.post_message(SendRequested("loyalty-attributes", SAMPLE_PATH, None))
        await wait_until(pilot, lambda: app.run_handle is not None)
        await pilot.press("4")
        await wait_until(pilot, lambda: table.row_count == 1 and accepted(table, 1) > 0)
        first = accepted(table, 1)
        await wait_until(pilot, lambda: accepted(table, 1) > first)   # read again during the run
        destinations = app.query_one("#destinations-table", ListTable)
        assert str(destinations.source[0].cells[4]).startswith("#1 ")
        ticks, loads = len(messages.of(RunProgressed)), len(messages.of(RunsLoaded))
        assert 2 <= loads < ticks   # at most once a second, not every tick
        app.run_handle.cancel()
        await settle(pilot)
        with HistoryStore(app.session.data_dir, readonly=True) as store:
            run = store.list_runs()[0]
        assert run.status == "cancelled"
        assert accepted(table, 1) == run.accepted and str(destinations.source[0].cells[4]) == "#1 cancelled"


def test_list_rows_copy_their_key_unless_told():
    assert ListRow("3", ("3",)).copy is None and ListRow("1", ("1",), copy="job-uuid").copy == "job-uuid"
