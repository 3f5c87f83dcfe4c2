"""The console's flows as typed messages (Harlequin's message_hook style): what a key asks for, what
the workers found, and a failing worker as a message the console survives, its state restored."""
from __future__ import annotations

import ast
from pathlib import Path

from console_kit import FixedBackend, make_app, open_run, open_send, settle, wait_until
from core_kit import core_app
from textual.message import Message

import tui.app
from tui.app.messages import (
    ConnectionChecked,
    ConnectionTestRequested,
    ResendRequested,
    RunFinished,
    RunProgressed,
    RunRecorded,
    RunsLoaded,
    SendRefused,
    SendRequested,
    WorkFailed,
)
from tui.app.screens.message import MessageScreen
from tui.app.sections.send import SendSection
from tui.settings.errors import AccessDenied
from tui.sync.sample_audience import SAMPLE_PATH

REFUSAL = "send: refused, destination 'loyalty-attributes' is admin-only and 'bob' is not an admin"


class Messages:
    """Every message the console's pumps dispatched, once each (a bubbling message reaches several)."""

    def __init__(self) -> None:
        self.seen: list[Message] = []   # kept: their ids stay unique

    def __call__(self, message: Message) -> None:
        if not any(message is seen for seen in self.seen):
            self.seen.append(message)

    def of(self, kind: type[Message]) -> list:
        return [message for message in self.seen if isinstance(message, kind)]

    def index(self, kind: type[Message]) -> int:
        return next(index for index, message in enumerate(self.seen) if isinstance(message, kind))


class Refusing(FixedBackend):
    """The core refuses every send and re-send before anything is sent, as it does an operator without access."""

    def send_request(self, environment, destination, source, *, sample, dry_run, constants=(), allow_shrink=False):
        raise AccessDenied(REFUSAL)

    def retry_request(self, run_id, where=None):
        raise AccessDenied(REFUSAL)


async def preview_sample(pilot) -> None:
    """Send (3), the first of the fixed destinations and the shipped sample audience, previewed."""
    await settle(pilot)
    await pilot.press("3")
    pilot.app.query_one("#send-destination").value = "loyalty-attributes"
    await open_send(pilot)


async def test_s_asks_for_a_send_and_the_run_comes_back_as_messages(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    messages = Messages()
    async with app.run_test(size=(120, 40), message_hook=messages) as pilot:
        await open_send(pilot)
        await pilot.press("S", "y")
        await wait_until(pilot, lambda: bool(messages.of(RunRecorded)))
        await settle(pilot)
    [asked] = messages.of(SendRequested)
    assert (asked.destination, asked.source, asked.sample) == ("loyalty-attributes", SAMPLE_PATH, None)
    [finished] = messages.of(RunFinished)
    [recorded] = messages.of(RunRecorded)
    assert recorded.result is finished.result and finished.destination.name == "loyalty-attributes"
    assert messages.index(SendRequested) < messages.index(RunProgressed) < messages.index(RunFinished) \
        < messages.index(RunRecorded)
    assert any(run.run_id == finished.result.run.id for run in messages.of(RunsLoaded)[-1].runs)  # History reloaded
    assert not messages.of(WorkFailed)


async def test_a_refused_send_is_a_message_and_the_send_slot_is_free_again():
    app = make_app(operator="bob", backend=Refusing())
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await preview_sample(pilot)
        await pilot.press("S", "y")
        await settle(pilot)
        [refused] = messages.of(SendRefused)
        assert (refused.title, refused.detail) == ("Send", REFUSAL)   # describe_error's wording of a core error
        assert isinstance(app.screen, MessageScreen) and app.screen.detail == REFUSAL
        await pilot.press("escape")
        send = app.query_one(SendSection)
        assert app.run_handle is None and not send.running and str(send.query_one("#send-status").render()) == ""
        assert "send.send" in {row[2] for row in app.visible_bindings()}
        await pilot.press("S", "y")  # the slot is free: the same request goes out again, and is refused again
        await settle(pilot)
        assert len(messages.of(SendRequested)) == len(messages.of(SendRefused)) == 2


async def test_re_send_from_a_runs_detail_asks_the_app(tmp_path):
    app = make_app(backend=Refusing().with_history(tmp_path))
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await open_run(pilot)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")  # yes to the confirmation that names the count
        await settle(pilot)
        [asked] = messages.of(ResendRequested)
        assert asked.run.run_id == 3 and app.query_one("#sections").current == "send"
        assert messages.of(SendRefused) and app.run_handle is None


async def test_a_failing_worker_posts_work_failed_and_the_console_goes_on():
    class Broken(FixedBackend):
        def runs(self, environment):
            raise OSError("disk I/O error")

    app = make_app(backend=Broken())
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await settle(pilot)
        failed = messages.of(WorkFailed)
        assert failed and {(message.title, message.detail) for message in failed} == {
            ("Load runs", "OSError: disk I/O error")}  # not a core error: its type is named
        assert isinstance(app.screen, MessageScreen) and app.is_running
        while isinstance(app.screen, MessageScreen):
            await pilot.press("escape")
        await pilot.press("2")
        assert app.query_one("#sections").current == "credentials"


async def test_t_asks_for_a_connection_test_and_its_result_comes_back():
    app = make_app()
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await settle(pilot)
        before = len(messages.of(ConnectionChecked))
        await pilot.press("t")
        await settle(pilot)
    assert [message.credential for message in messages.of(ConnectionTestRequested)] == ["attentive-sandbox"]
    checked = messages.of(ConnectionChecked)[before:]
    assert [(message.report.credential, message.report.ok) for message in checked] == [("attentive-sandbox", True)]


def test_sections_widgets_screens_and_forms_use_only_textuals_app():
    """No `self.app.<member>` of ours below the app: what they need comes down at construction or in
    messages, and what they ask for goes up as messages."""
    textual_api = {"push_screen", "post_message", "get_key_display", "copy_to_clipboard"}
    package = Path(tui.app.__file__).parent
    reached = set()
    for folder in ("sections", "widgets", "screens", "forms"):
        for path in (package / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                        and node.value.attr == "app" and isinstance(node.value.value, ast.Name)
                        and node.value.value.id == "self" and node.attr not in textual_api):
                    reached.add(f"{path.name}: self.app.{node.attr}")
            assert "type: ignore" not in path.read_text(), path
    assert not reached
