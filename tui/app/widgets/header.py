"""The header: environment (calm or loud, in colour and in words), operator and role, READ-ONLY,
the connection and the running send (or the bulk jobs pending). Two lines, so it fits 80 columns."""
from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.app.session import Session
from tui.sync.progress import Progress

SECTION_TITLES = ("Destinations", "Credentials", "Send", "History", "Promotion")


def run_state_text(progress: Progress | None, jobs_pending: int) -> str:
    """The running send; with none, the bulk jobs still at Attentive (the nav line has no room for both)."""
    if progress is None:
        return f"{jobs_pending:,} job{'s' if jobs_pending != 1 else ''} pending" if jobs_pending else "no send running"
    fraction = progress.fraction
    done = f"{fraction:.0%}" if fraction is not None else f"{progress.done_rows:,} rows"
    return f"run #{progress.run_id} {progress.state} {done}"


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
        line.append(f"  {self.connection}")
        nav = Text(no_wrap=True, overflow="ellipsis")
        for index, title in enumerate(SECTION_TITLES):
            label = f" {index + 1} {title} "
            nav.append(label, style="bold reverse" if index == self.section else "")
        nav.append(f"  {run_state_text(self.progress, self.jobs_pending)}")
        return Text("\n", no_wrap=True, overflow="ellipsis").join([line, nav])
