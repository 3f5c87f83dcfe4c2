"""Promotion: the gates with their reasons, the diff, promote after typing the name; the ledger.
Plans, promotions and the ledger are read and written through the backend in this section's workers;
a promotion posts EnvironmentChanged, so the app reads the files again.

The section says one thing at a time: one status line drawn from one state (`status_line`: not
checked, checking, gates failing, ready, nothing to promote, promoted). The diff is the plan's, which
is of the text the promotion writes into production.toml (tui.core.promotion), so it shows only what
will be written; once a plan is shown the diff is scrolled into view."""
from __future__ import annotations

from functools import partial
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Select, Static

from tui.app.backend.protocol import ConsoleBackend
from tui.app.console_view import ConsoleView
from tui.app.messages import EnvironmentChanged, LedgerLoaded, LedgerVerified, PlanFailed, Promoted, PromotionPlanned
from tui.app.read_only import mutating
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen, must_type
from tui.app.sections.base import Section
from tui.app.widgets.data_list import DataList, ListRow, ListTable
from tui.app.workers import post_result, reported
from tui.core.promotion import PromotionPlan

LEDGER_ROWS = 50


# What the console offers for the gates an operator can clear from here.
CONSOLE_FIXES = {
    "test_send": "in the console: Send (3), this destination, m sends a sample of 50 and reads it back",
    "verification": "in the console: History (4), the sample run, v reads it back again",
}


NOT_CHECKED = "Choose a sandbox destination: its gates are checked at once (c checks again)."


def status_line(plan: PromotionPlan | None, promoted: tuple[str, int] | None = None) -> str:
    """The one thing the screen says about the promotion: from the plan shown (None: none yet) and
    the last promotion made here (destination, ledger entry)."""
    if plan is None:
        return NOT_CHECKED
    name = plan.destination.name
    if plan.diff.unchanged and plan.interrupted and plan.ok:
        return f"production already has {name}, from a promotion never recorded as done: P records it."
    if plan.diff.unchanged:
        if promoted is not None and promoted[0] == name:
            return f"{name} promoted (ledger entry #{promoted[1]}): nothing left to promote."
        return f"production already has this definition of {name}: nothing to promote."
    if not plan.ok:
        return (f"Promotion refused: {len(plan.failed)} of {len(plan.gates)} gates not passed (below); "
                "c checks again.")
    return f"Every gate passed: P promotes {name} (you type its name)."


def diff_view(plan: PromotionPlan) -> Text:
    """Exactly the lines the promotion writes into production.toml (nothing when it writes none)."""
    if plan.diff.unchanged:
        return Text("")
    heading = "new in production, as written:" if plan.diff.new_in_production else "changes production, as written:"
    return Text("\n".join([heading, *plan.diff.unified.splitlines()]))


def plan_view(plan: PromotionPlan) -> Group:
    """Gates as a two-column grid (the verdict, then title, reason and fix with a hanging indent).
    PASS, PENDING and FAIL are words, so they read without colour; the column fits the longest."""
    gates = Table.grid(padding=(0, 1), expand=True)
    gates.add_column(width=max(len(gate.verdict) for gate in plan.gates) if plan.gates else 4, no_wrap=True)
    gates.add_column(ratio=1)
    for gate in plan.gates:
        style = "bold green" if gate.passed else "bold yellow" if gate.pending else "bold red reverse"
        verdict = Text(gate.verdict, style=style)
        detail = Text(f"{gate.title}: ", style="bold")
        detail.append(gate.reason)
        if not gate.passed:
            for fix in filter(None, (CONSOLE_FIXES.get(gate.id), gate.fix)):
                detail.append(f"\nfix: {fix}", style="italic")
        gates.add_row(verdict, detail)
    return Group(gates)


class PromotionSection(Section):
    TITLE = "Promotion"
    DEFAULT_CSS = """
    #promotion-status {
        height: auto;
        padding: 0 1;
        text-style: bold;
    }
    """
    BINDINGS = [
        Binding("c", "plan", "Check gates", id="promotion.plan"),  # not g: g is "top of the list" everywhere
        Binding("P", "promote", "Promote", id="promotion.promote"),
        Binding("v", "verify_ledger", "Verify ledger", id="promotion.verify_ledger"),
    ]

    def __init__(self, backend: ConsoleBackend, view: ConsoleView, **kwargs: Any) -> None:
        super().__init__(backend, view, **kwargs)
        self.plan: PromotionPlan | None = None
        self.last_promoted: tuple[str, int] | None = None   # the last promotion made here: destination, ledger entry

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label("Destination", classes="form-label")
            yield Select[str]([], prompt="choose a sandbox destination", id="promotion-destination", compact=True,
                                      type_to_search=False)  # letters stay the section's keys (P, c)
        yield Static(NOT_CHECKED, id="promotion-status", markup=False)
        with VerticalScroll(id="promotion-plan-box"):
            yield Static("", id="promotion-plan", markup=False)
            yield Static("", id="promotion-diff", markup=False)
        yield Static("Audit ledger (newest first)", classes="section-summary")
        yield DataList(ListTable(("#", "When (UTC)", "Who", "Env", "Action", "Subject"), id="ledger-table",
                                 key_name="ledger entry", descending=True), noun="ledger entries", classes="-auto")

    def refresh_view(self) -> None:
        # promotion always goes sandbox -> production, whichever environment the console shows
        sandbox = self.view.sandbox
        names = list(sandbox.destinations) if sandbox else []
        select = self.query_one("#promotion-destination", Select)
        current = select.value
        select.set_options((name, name) for name in names)
        if current in names:
            select.value = current
        self.load_ledger()

    @work(thread=True, name="Load ledger", group="ledger", exclusive=True, exit_on_error=False)
    def load_ledger(self) -> None:
        with reported(self, "Load ledger"):
            post_result(self, LedgerLoaded(self.backend.ledger_entries(LEDGER_ROWS)))

    @on(LedgerLoaded)
    def show_ledger(self, message: LedgerLoaded) -> None:
        self.query_one("#ledger-table", ListTable).set_rows(  # a list as every list: widgets/data_list.py
            [ListRow(str(entry.seq), (str(entry.seq), entry.at[:19].replace("T", " "), entry.operator,
                                      entry.environment or "-", entry.action, entry.subject))
             for entry in message.entries])

    def focus_main(self) -> None:
        self.load_ledger()  # sends and promotions elsewhere add entries
        self.query_one("#promotion-destination", Select).focus()

    def select_destination(self, name: str) -> None:
        self.query_one("#promotion-destination", Select).value = name

    @on(Select.Changed, "#promotion-destination")
    def destination_chosen(self) -> None:
        self.action_plan()

    def action_plan(self) -> None:
        name = self.query_one("#promotion-destination", Select).value
        if not isinstance(name, str):
            return
        self.plan = None
        self.show_status(f"Checking the gates of {name}…")
        self.query_one("#promotion-plan", Static).update("")
        self.query_one("#promotion-diff", Static).update("")
        self.check_gates(name)

    def show_status(self, text: str) -> None:
        self.query_one("#promotion-status", Static).update(text)

    @work(thread=True, name="Promotion plan", group="promotion-plan", exclusive=True, exit_on_error=False)
    def check_gates(self, name: str) -> None:
        """Blocking: the plan tests the production credential."""
        with reported(self, f"Promotion plan of {name}", PlanFailed):
            post_result(self, PromotionPlanned(self.backend.plan_promotion(name)))

    @on(PlanFailed)
    def plan_failed(self, message: PlanFailed) -> None:
        self.show_status(f"{message.title} failed: {message.detail} (c checks again).")

    @on(PromotionPlanned)
    def show_plan(self, message: PromotionPlanned) -> None:
        self.plan = message.plan
        self.show_status(status_line(message.plan, self.last_promoted))
        self.query_one("#promotion-plan", Static).update(plan_view(message.plan))
        diff = self.query_one("#promotion-diff", Static)
        diff.update(diff_view(message.plan))
        if message.plan.ok and not message.plan.diff.unchanged:
            # What P would write, to review before pressing it: below the gates, at 80x24 below the
            # fold, so brought up once laid out (the status line says the gates passed). With a gate
            # failing, the gates and their fixes stay in view: they are what to act on.
            self.call_after_refresh(self.query_one("#promotion-plan-box", VerticalScroll).scroll_to_widget,
                                    diff, animate=False, top=True)

    @mutating
    def action_promote(self) -> None:
        plan = self.plan
        if plan is None:
            self.notify("Check the gates first (c).", severity="warning")
            return
        if not plan.ok:
            failed = ", ".join(gate.title for gate in plan.failed)
            self.notify(f"Promotion refused: {failed} failed. Fix them and check again (c).",
                        severity="error", timeout=10)
            return
        if plan.diff.unchanged and not plan.interrupted:
            self.notify(status_line(plan, self.last_promoted), severity="warning")
            return
        name = plan.destination.name
        self.app.push_screen(PromptScreen(
            f"!! PRODUCTION !! promote {name}",
            "Every gate passed. Type the destination's name to write it into production.toml:",
            check=must_type(name)), partial(self.promotion_confirmed, plan))

    def promotion_confirmed(self, plan: PromotionPlan, value: str | None) -> None:
        if value is not None:
            self.promote(plan)

    @work(thread=True, name="Promote", group="promote", exit_on_error=False)
    def promote(self, plan: PromotionPlan) -> None:
        with reported(self, f"Promote {plan.destination.name}"):
            post_result(self, Promoted(plan, self.backend.promote(plan)))

    @on(Promoted)
    def promoted(self, message: Promoted) -> None:
        result = message.result
        name = message.plan.destination.name
        self.last_promoted = (name, result.ledger_entry.seq)
        self.plan = None  # of the file before the promotion: the plan checked again replaces it
        self.show_status(f"{name} promoted (ledger entry #{result.ledger_entry.seq}): nothing left to promote.")
        self.notify(f"{name} promoted: {result.path} written, ledger entry #{result.ledger_entry.seq}")
        self.post_message(EnvironmentChanged())

    def action_verify_ledger(self) -> None:
        self.verify_ledger()

    @work(thread=True, name="Verify ledger", group="ledger-verify", exit_on_error=False)
    def verify_ledger(self) -> None:
        with reported(self, "Verify ledger"):
            post_result(self, LedgerVerified(self.backend.verify_ledger()))

    @on(LedgerVerified)
    def ledger_verified(self, message: LedgerVerified) -> None:
        result = message.result
        if result.ok and result.unfinished:
            self.app.push_screen(MessageScreen("Ledger: an UNFINISHED promotion",
                                               "\n".join(item.reason for item in result.unfinished)))
        elif result.ok:
            self.notify(f"Ledger intact: {result.checked} entries, head #{result.head_seq}")
        elif result.broken is not None:
            self.app.push_screen(MessageScreen("Ledger does NOT verify",
                                               f"entry {result.broken.seq}: {result.broken.reason}"))
