"""Send offers what `attentive-console send` offers: a folder or a glob of an export's parts, a
SELECT query (spooled by the backend), this send's constants typed as the shell would, and an
audience destination's counts, whose shrink guard S's question names ("Send anyway" allows it).
Over the real core, the simulator and real files in tmp_path."""
from __future__ import annotations

from pathlib import Path

import pytest
from config_kit import destination_toml, environment_toml
from console_kit import settle, wait_until
from core_kit import Seen, core_app, screen_text
from textual.widgets import DataTable, Input, Static

from tui.app.messages import RunRecorded, SendRefused, SendRequested
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen
from tui.app.screens.yes_no import YesNoScreen
from tui.core.send_choice import SourceQuery, read_source, shrink_refused, split_constants
from tui.settings.errors import SettingsError
from tui.sync.history import HistoryStore, RunRecord
from tui.sync.run_inputs import run_constants

HEADER = "email,phone,tier,points\n"


def rows(start: int, stop: int) -> str:
    return "".join(f"user{index}@example.com,+1212555{index:04d},{'Gold' if index % 2 else 'Silver'},{index * 10}\n"
                   for index in range(start, stop))


def write_parts(folder: Path) -> Path:
    """An export of three parts (12 rows) and a marker file a folder source skips."""
    folder.mkdir()
    for part, (start, stop) in enumerate([(0, 4), (4, 8), (8, 12)], start=1):
        (folder / f"part-{part}.csv").write_text(HEADER + rows(start, stop))
    (folder / "_SUCCESS").write_text("")
    return folder


async def choose(pilot, source: str, constants: str = "") -> None:
    """Send (3) with the fields typed, then enter: the preview."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("3")
    app.query_one("#send-source", Input).value = source
    app.query_one("#send-constants", Input).value = constants
    app.query_one("#send-source", Input).focus()
    await pilot.press("enter")
    await settle(pilot)


def summary(app) -> str:
    return str(app.query_one("#preview-summary", Static).render())


def last_run(app) -> RunRecord:
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        return store.list_runs()[0]


def test_the_source_and_the_constants_as_typed():
    assert read_source("  ") is None
    assert read_source("exports/part-*.csv") == Path("exports/part-*.csv")
    assert read_source("select * from 'a.csv'") == SourceQuery("select * from 'a.csv'")
    assert read_source("With t AS (SELECT 1) SELECT * FROM t") == SourceQuery("With t AS (SELECT 1) SELECT * FROM t")
    assert isinstance(read_source("select.csv"), Path) and isinstance(read_source("without.csv"), Path)
    assert split_constants('Campaign="Winter 2026" Wave=3') == ("Campaign=Winter 2026", "Wave=3")
    with pytest.raises(SettingsError, match="Constants: No closing quotation"):
        split_constants('Campaign="Winter 2026 Wave=3')
    assert not shrink_refused(None)


@pytest.mark.parametrize("kind", ["glob", "folder"])
async def test_a_glob_or_a_folder_of_parts_previews_and_sends(tmp_path, simulator, kind):
    folder = write_parts(tmp_path / "export")
    source = str(folder / "part-*.csv") if kind == "glob" else str(folder)
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot, source)
        assert app.query_one("#preview-table", DataTable).row_count == 12
        assert "First 12 of ~12 rows (csv)" in summary(app)
        await pilot.press("S")
        assert isinstance(app.screen, YesNoScreen) and "Rows: ~12" in app.screen.explanation
        await pilot.press("y")
        await settle(pilot)
        run = last_run(app)
    assert (run.rows_read, run.invalid) == (12, 0) and run.status in ("finished", "awaiting_results")


async def test_a_select_source_previews_and_its_send_records_the_query(tmp_path, simulator):
    folder = write_parts(tmp_path / "export")
    query = f"SELECT * FROM read_csv('{folder}/part-*.csv', all_varchar = true) WHERE tier = 'Gold'"
    app = core_app(tmp_path, simulator.url)
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        await choose(pilot, query.lower().replace("gold", "Gold"))   # select, any case
        table = app.query_one("#preview-table", DataTable)
        assert table.row_count == 6 and "(parquet)" in summary(app)
        assert not list((app.session.data_dir / "spool").glob("*.parquet"))  # the preview's result is gone again
        await pilot.press("d")
        await wait_until(pilot, lambda: "would send 6" in str(app.query_one("#send-status", Static).render()))
        await pilot.press("S", "y")
        await wait_until(pilot, lambda: bool(seen.of(RunRecorded)))
        await settle(pilot)
        run = last_run(app)
    [asked] = seen.of(SendRequested)
    assert isinstance(asked.source, SourceQuery)
    assert run.rows_read == 6 and run.source_query == query.lower().replace("gold", "Gold")


async def test_constants_typed_go_to_the_preview_the_dry_run_and_the_send(tmp_path, simulator):
    folder = write_parts(tmp_path / "export")
    app = core_app(tmp_path, simulator.url)
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        await choose(pilot, str(folder), 'Campaign="Winter 2026" Wave=3')
        assert "constants on every profile: Campaign = 'Winter 2026', Wave = '3'" in summary(app)
        table = app.query_one("#preview-table", DataTable)
        assert [str(column.label) for column in table.columns.values()][-3:] == ["Campaign", "Wave", "Problem"]
        assert "Winter 2026" in table.get_row_at(0)
        await pilot.press("d")
        await wait_until(pilot, lambda: "would send 12" in str(app.query_one("#send-status", Static).render()))
        assert run_constants(last_run(app)) == {"Campaign": "Winter 2026", "Wave": "3"}  # the dry run's
        await pilot.press("S")
        assert "Constants: Campaign=Winter 2026 Wave=3" in app.screen.explanation
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(seen.of(RunRecorded)))
        await settle(pilot)
        run = last_run(app)
    [asked] = seen.of(SendRequested)
    assert asked.constants == ("Campaign=Winter 2026", "Wave=3")
    assert run.mode == "send" and run_constants(run) == {"Campaign": "Winter 2026", "Wave": "3"}


async def test_constants_that_cannot_be_read_or_are_refused_are_named(tmp_path, simulator):
    folder = write_parts(tmp_path / "export")
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot, str(folder), 'Campaign="Winter 2026')   # an open quote: a warning, nothing asked
        assert not isinstance(app.screen, MessageScreen)
        assert any("No closing quotation" in str(note.message) for note in app._notifications)
        app.query_one("#send-constants", Input).value = "Points=5 Wave"  # clashes with a mapped attribute; no =
        app.query_one("#send-constants", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen) and app.screen.title_text == "Preview"
        assert "Constants: 'Points'" in app.screen.detail and "Wave" in app.screen.detail
        assert "--set" not in app.screen.detail and 'Constants: \'Wave\' has no "="' in app.screen.detail


def audience_config(app, url: str, *, production: bool = False) -> None:
    """loyalty-attributes on v1 (a member is confirmed by the answer) keeps audience "Winter VIP"."""
    destination = destination_toml(description="Loyalty", endpoint="custom-attributes", extra='audience = "Winter VIP"\n')
    text = environment_toml(url, restricted=("bob",), description="Test company", destinations=[destination])
    (app.session.config_dir / ("production.toml" if production else "sandbox.toml")).write_text(text)


async def send_all(pilot, source: Path, production: bool) -> None:
    app = pilot.app
    await choose(pilot, str(source))
    await pilot.press("S")
    if production:
        app.screen.query_one("#prompt-input", Input).value = "loyalty-attributes"
        await pilot.press("enter")
    else:
        await pilot.press("y")
    await settle(pilot)


@pytest.mark.parametrize("environment", ["sandbox", "production"])
async def test_an_audience_preview_counts_and_its_refusal_makes_s_ask_send_anyway(tmp_path, simulator, environment):
    production = environment == "production"
    app = core_app(tmp_path, simulator.url, environment=environment)
    audience_config(app, simulator.url, production=production)
    everyone, fewer = tmp_path / "everyone.csv", tmp_path / "fewer.csv"
    everyone.write_text(HEADER + rows(0, 10))
    fewer.write_text(HEADER + rows(7, 12))   # 3 stay, 2 join, 7 of 10 leave: above the 50% limit
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        await send_all(pilot, everyone, production)
        assert last_run(app).accepted == 10

        await choose(pilot, str(fewer))
        text = summary(app)
        assert "audience 'Winter VIP': 10 members; 2 join, 3 stay, 7 leave (70%; limit 50%)" in text
        assert "a send would be refused" in text
        assert "S asks to send anyway" in str(app.query_one("#send-status", Static).render())
        assert "7 leave" in screen_text(app)   # on screen at 80x24, not cut off
        await pilot.press("S")
        if production:
            assert isinstance(app.screen, PromptScreen) and "anyway" in app.screen.title_text
            assert "7 of the 10 members of audience 'Winter VIP' would leave (70%" in app.screen.explanation
            app.screen.query_one("#prompt-input", Input).value = "loyalty-attributes"
            await pilot.press("enter")
        else:
            assert isinstance(app.screen, YesNoScreen) and app.screen.yes == "Send anyway"
            assert app.screen.title_text == "Send the whole file to loyalty-attributes anyway?"
            assert "7 of the 10 members of audience 'Winter VIP' would leave (70%" in app.screen.explanation
            await pilot.press("y")
        await wait_until(pilot, lambda: len(seen.of(RunRecorded)) == 2)
        await settle(pilot)
        run = last_run(app)
    asked = seen.of(SendRequested)[-1]
    assert asked.allow_shrink and asked.audience is not None and asked.audience.leaves == 7
    assert run.audience_left == 7 and run.rows_read == 5 + 7


async def test_without_a_preview_of_the_refusal_the_engine_refuses(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    audience_config(app, simulator.url)
    everyone, fewer = tmp_path / "everyone.csv", tmp_path / "fewer.csv"
    everyone.write_text(HEADER + rows(0, 10))
    fewer.write_text(HEADER + rows(7, 12))
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        await send_all(pilot, everyone, False)
        app.query_one("#send-source", Input).value = str(fewer)   # changed after the preview: not previewed
        app.query_one("RunPanel").focus()   # where the last send left the operator
        await pilot.press("S")
        assert isinstance(app.screen, YesNoScreen) and app.screen.yes == "Send"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen) and "would leave" in app.screen.detail
        assert '"Send anyway"' in app.screen.detail and "--allow-shrink" not in app.screen.detail
        assert not seen.of(SendRequested)[-1].allow_shrink and seen.of(SendRefused)
        with HistoryStore(app.session.data_dir, readonly=True) as store:
            assert len(store.list_runs()) == 1

