"""What the sections draw from: the session, the environments, the operator's rights, the connection
tests, the keys and the runs, as the app last knew them.

Attributes down, messages up: the app hands every section a new view whenever one of these changes,
and a section reads only its view (and its own workers' results), never the app's members.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tui.app.backend.edits import KeyView
from tui.app.backend.protocol import ConnectionReport, RunRow
from tui.app.session import Session
from tui.settings.access import Operator
from tui.settings.model import Credential, Environment

Mask = Callable[[str], str]


@dataclass(frozen=True)
class ConsoleView:
    session: Session
    operator: Operator
    environment: Environment | None = None      # the one the console shows
    sandbox: Environment | None = None          # promotion always reads sandbox -> production
    production: Environment | None = None
    connections: Mapping[str, ConnectionReport] = field(default_factory=dict)
    key_views: Mapping[str, KeyView] = field(default_factory=dict)
    runs: Sequence[RunRow] = ()                 # as History last loaded them

    @classmethod
    def first(cls, session: Session) -> ConsoleView:
        """Before the environment file is read: identifiers are masked until the operator's rights are known."""
        return cls(session, Operator(session.operator, False, True, session.read_only))

    @property
    def mask(self) -> Mask | None:
        """How identifiers are shown to this operator; None: as they are."""
        return self.operator.show if self.operator.restricted_pii else None

    def key_display(self, credential: Credential) -> str:
        """The key masked, after where it lives; never the key."""
        view = self.key_views.get(credential.name)
        if view is None:
            return credential.api_key_ref
        return f"{view.masked} ({view.reference})" if view.masked else f"NOT SET ({view.reference})"

    def last_run_text(self, destination: str) -> str:
        run = next((run for run in self.runs if run.destination == destination), None)
        return "-" if run is None else f"#{run.run_id} {run.status}"

    def connection_text(self) -> str:
        reports = list(self.connections.values())
        failed = [report.credential for report in reports if not report.ok]
        if failed:
            return f"NOT CONNECTED: {', '.join(failed)}"
        if not reports:
            return "not tested"
        return f"connected: {reports[0].summary}"
