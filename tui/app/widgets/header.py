"""The header: environment (calm or loud, in colour and in words), operator and role, READ-ONLY,
the connection and the running send (or the bulk jobs pending). Two lines, fitted to the width: at
80 columns the tabs shorten the titles of the sections not shown before the run's state is cut, and
the first line drops the application's name, then ends in `…` only where the company's does not fit."""
from __future__ import annotations

import re

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.app.session import Session
from tui.sync.progress import Progress

SECTION_TITLES = ("Destinations", "Credentials", "Send", "History", "Promotion")
SHORT_TITLES = ("Dest", "Cred", "Send", "Hist", "Prom")
DESIGN_WIDTH = 80
TRAILING_BRACKETS = re.compile(r" \([^()]*\)$")  # "Company (application)": the application


def run_state_text(progress: Progress | None, jobs_pending: int) -> str:
    """The running send; with none, the bulk jobs still at Attentive (the nav line has no room for both)."""
    if progress is None:
        return f"{jobs_pending:,} job{'s' if jobs_pending != 1 else ''} pending" if jobs_pending else "no send running"
    fraction = progress.fraction
    done = f"{fraction:.0%}" if fraction is not None else f"{progress.done_rows:,} rows"
    return f"run #{progress.run_id} {progress.state} {done}"


def tab_line(section: int, state: str, width: int) -> Text:
    """The section tabs (the current one reversed, readable without colour) and, right-aligned, the
    run's state; the tabs not shown shorten when both do not fit."""
    short = tuple(full if index == section else abbreviation
                  for index, (full, abbreviation) in enumerate(zip(SECTION_TITLES, SHORT_TITLES, strict=True)))
    nav = Text()
    for titles in (SECTION_TITLES, short):
        nav = Text(no_wrap=True, overflow="ellipsis")
        for index, title in enumerate(titles):
            nav.append(f" {index + 1} {title} ", style="bold reverse" if index == section else "")
        if nav.cell_len + 2 + len(state) <= width:
            break
    nav.append(" " * max(2, width - nav.cell_len - len(state)) + state)
    return nav


class ConsoleHeader(Widget):
    """Renders from the session plus the reactives the app updates."""

    connection: reactive[str] = reactive("connecting…")
    progress: reactive[Progress | None] = reactive(None)
    section: reactive[int] = reactive(0)
    role: reactive[str] = reactive("operator")
    jobs_pending: reactive[int] = reactive(0)

    def __init__(self, session: Session, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.set_class(session.production, "-production")

    def render(self) -> Text:
        session = self.session
        line = Text(no_wrap=True, overflow="ellipsis")
        if session.production:
            line.append(" !! PRODUCTION !! ", style="bold reverse")
        else:
            line.append(" SANDBOX ", style="bold")
        line.append(f" {session.operator} ({self.role})")
        if session.read_only:
            line.append("  READ-ONLY", style="bold")
        width = self.size.width or DESIGN_WIDTH
        connection = self.connection
        if line.cell_len + 2 + len(connection) > width:  # the application's name in brackets goes first
            connection = TRAILING_BRACKETS.sub("", connection)
        line.append(f"  {connection}")
        nav = tab_line(self.section, run_state_text(self.progress, self.jobs_pending), self.size.width or DESIGN_WIDTH)
        return Text("\n", no_wrap=True, overflow="ellipsis").join([line, nav])
