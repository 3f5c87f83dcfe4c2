"""The console and the CLI make the same decisions, because both call the headless core for them:
a read-only session may not record a verification, a restricted-PII operator sees identifiers
masked, an export is audited in one shape, and a rate stops at the endpoint's published limit.
Each test drives both front ends over the same files."""
from __future__ import annotations

from console_kit import build_history, open_run, settle, wait_until
from core_kit import core_app, core_session, screen_text
from test_console_export import type_export_path

from tui.app.app import ConsoleApp
from tui.app.backend.core import CoreBackend
from tui.app.session import Session
from tui.cli import main
from tui.settings.access import mask_identifier
from tui.settings.ledger import Ledger
from tui.sync.history import HistoryStore
from tui.sync.history_schema import connect

HIDDEN = "maya.murphy2167@example.com"
MASKED = mask_identifier(HIDDEN)


def cli(session: Session, capsys, *argv: str, operator: str | None = None) -> tuple[int, str, str]:
    code = main(["--config", str(session.config_dir), "--data-dir", str(session.data_dir),
                 "--secrets", str(session.secrets_file), *argv], operator=operator or session.operator)
    out, err = capsys.readouterr()
    return code, out, err


def verifications(session: Session) -> int:
    with HistoryStore(session.data_dir, readonly=True) as store:
        return store.connection.execute("SELECT count(*) FROM verifications").fetchone()[0]


async def test_a_read_only_session_records_no_verification_in_either_front_end(tmp_path, simulator, capsys):
    session = core_session(tmp_path, simulator.url, read_only=True)
    build_history(session.data_dir, 1, 3)
    code, _, err = cli(session, capsys, "--read-only", "verify", "1")
    assert code == 2 and "read-only" in err
    app = ConsoleApp(session, CoreBackend(session))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(pilot)
        await pilot.press("v")
        await settle(pilot)
        await wait_until(pilot, lambda: "read-only" in screen_text(app))
    assert verifications(session) == 0


def add_rejection_quoting(session: Session, identifier: str) -> None:
    connection = connect(session.data_dir)
    with connection:
        connection.execute("INSERT INTO rejections (run_id, row, reason, identifier, status, message) "
                           "VALUES (1, 99, 'attribute_type', ?, 400, ?)",
                           (identifier, f"Attentive refused {identifier}: Points is a Number"))
    connection.close()


async def test_a_restricted_pii_operator_sees_identifiers_masked_in_both_front_ends(tmp_path, simulator, capsys):
    session = core_session(tmp_path, simulator.url, operator="bob")  # restricted_pii = ["bob"]
    build_history(session.data_dir, 1, 3)
    add_rejection_quoting(session, HIDDEN)
    code, out, _ = cli(session, capsys, "rejections", "1")
    assert code == 0 and "maya.murphy2167" not in out and MASKED in out
    app = ConsoleApp(session, CoreBackend(session))
    async with app.run_test(size=(160, 40)) as pilot:
        await open_run(pilot)
        screen = screen_text(app)
        assert "maya.murphy2167" not in screen and MASKED in screen
        assert "user0000000@example.com" not in screen  # the other identifiers too
    # The send preview: an invalid row quotes its identifier in the reason; bob reads it masked too.
    preview = app.backend.preview(app.backend.load_environment("sandbox"), "loyalty-attributes", bad_audience(tmp_path))
    shown = " ".join(f"{row.identifier} {row.message} {' '.join(row.attributes.values())}" for row in preview.rows)
    assert "maya.murphy2167" not in shown and "2125550199" not in shown and MASKED in shown


def bad_audience(tmp_path):
    path = tmp_path / "audience.csv"
    path.write_text("email,phone,tier,points\n"
                    f"{HIDDEN},+12125550199,Gold,10\n"
                    "maya.murphy2167@@example.com,+12125550198,Gold,11\n")
    return path


async def test_an_export_is_audited_in_one_shape_whichever_front_end_made_it(tmp_path, simulator, capsys):
    app = core_app(tmp_path, simulator.url)
    session = app.session
    build_history(session.data_dir, 1, 5)
    code, _, _ = cli(session, capsys, "rejections", "1", "--export", str(tmp_path / "from-cli.csv"))
    assert code == 0
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot)
        await type_export_path(pilot, tmp_path / "from-console.csv")
    from_cli, from_console = Ledger(session.history_file).entries(action="rejections.exported")
    assert (from_cli.subject, from_cli.environment) == (from_console.subject, from_console.environment) == (
        "loyalty-attributes", "sandbox")
    assert from_cli.details.keys() == from_console.details.keys()
    assert {k: v for k, v in from_cli.details.items() if k != "file"} == {
        k: v for k, v in from_console.details.items() if k != "file"}
    assert from_console.details["file"] == str(tmp_path / "from-console.csv")


async def test_a_rate_stops_at_the_published_limit_in_both_front_ends(tmp_path, simulator, capsys):
    app = core_app(tmp_path, simulator.url, rate_limit=60)
    audience = tmp_path / "big.csv"  # 400 bulk calls: 7 s at 60/s, paused long before its end
    audience.write_text("email,phone,tier,points\n" + "".join(
        f"member{i}@example.com,,Gold,{i}\n" for i in range(102_400)))
    for rate in ("195", "0"):
        code, _, err = cli(app.session, capsys, "send", "loyalty-attributes", str(audience), "--rate", rate)
        assert code == 2 and "at most 100 requests per second" in err, err
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        app.query_one("#send-source").value = str(audience)
        app.query_one("#send-source").focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("S", "y", "space")  # paused at once: the rate is steered while nothing more leaves
        try:
            await wait_until(pilot, lambda: app.progress is not None and app.progress.rate_limit == 60)
            for expected in (100, 100):  # the next step above 60 is 100, the bulk endpoint's limit: held there
                await pilot.press("plus")
                await wait_until(pilot, lambda: app.progress.rate_limit == expected)
        finally:  # a paused send left running would hold the test's event loop open for ever
            await pilot.press("C", "y")
            await settle(pilot)
