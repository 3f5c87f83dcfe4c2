"""The console's typed messages (Harlequin's pattern: the core stays Textual-free, blocking work runs
in named `@work` workers, and its results come back as messages handled with `@on`).

Requests go up: a section posts what the operator asked for and the app (or the section's parent)
acts on it. Results come back to the widget whose worker found them, and bubble on up. A failure is
a WorkFailed (the app shows it in a modal); its subclasses tell the owner what to restore.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual.message import Message

if TYPE_CHECKING:  # types only: the backend's module chain imports the workers, which import this
    from tui.app.backend.edits import KeyView
    from tui.app.backend.protocol import ConnectionReport, RunRow
    from tui.core.promotion import PromotionPlan, PromotionResult
    from tui.core.send_choice import SendChoice, SendSource
    from tui.core.send_preview import SendPreview
    from tui.settings.ledger import LedgerEntry, VerifyResult
    from tui.settings.model import Destination, Environment
    from tui.sync.engine import SendResult
    from tui.sync.history import Verification
    from tui.sync.job_store import JobLine, JobRecord
    from tui.sync.jobs import FollowProgress
    from tui.sync.membership import AudienceCounts
    from tui.sync.progress import Progress
    from tui.sync.rejections import Rejection, RejectionFilter

# -- what the operator asked for (sections -> app) -----------------------------------------------

@dataclass
class SendRequested(Message):
    """S (the whole file) or m (a sample) in Send; `rows_estimate` from its preview, for the confirmation.
    `source` a file, folder or glob (a Path) or a query; `constants` this send's NAME=VALUE items (`--set`).
    `allow_shrink` (`--allow-shrink`): the preview showed the shrink guard would refuse and the operator
    chose "Send anyway"; `audience` is that preview's counts, which the confirmation names."""
    destination: str
    source: SendSource
    sample: int | None
    rows_estimate: int | None = None
    constants: tuple[str, ...] = ()
    allow_shrink: bool = False
    audience: AudienceCounts | None = None


@dataclass
class ResendRequested(Message):
    """R in a run's detail, confirmed: a new run of only its rejected and failed rows (those `where`
    shows; None: all of them), `count` of them."""
    run: RunRow
    where: RejectionFilter | None = None
    count: int | None = None
    include_unknown: bool = False   # the filter chose the unknown events, and the operator confirmed it


RunOrder = SendRequested | ResendRequested   # what the app starts in Send, once it has checked and confirmed


@dataclass
class ConnectionTestRequested(Message):
    """t on a destination (its credential) or a credential."""
    credential: str


@dataclass
class DestinationPicked(Message):
    """s or p on a destination: open Send or Promotion with it chosen."""
    destination: str
    section: Literal["send", "promotion"]


@dataclass
class ConfigSaved(Message):
    """A change to an environment file was saved: the app says so and reads the files again."""
    summary: str


@dataclass
class EnvironmentChanged(Message):
    """The environment files changed (a promotion, an edit refused as stale): read them again."""


@dataclass
class UnexpectedError(Message):
    """A widget's handler failed: the app reports it and the console goes on."""
    error: Exception


# -- what workers found (worker -> the widget that started it, then up) -------------------------

@dataclass
class ConnectionChecked(Message):
    """A connection test finished (ok or not); its summary is what the operator reads."""
    report: ConnectionReport


@dataclass
class KeyViewsLoaded(Message):
    views: Mapping[str, KeyView]


@dataclass
class RunsLoaded(Message):
    """The environment's runs as the history holds them now."""
    runs: Sequence[RunRow]


@dataclass
class JobsFollowed(Message):
    """A round of following the environment's bulk jobs: its progress, or the error that stopped it."""
    progress: FollowProgress | None
    problem: str | None


@dataclass
class RunProgressed(Message):
    """The running send's progress, several times a second (posted from the send's thread)."""
    progress: Progress


@dataclass
class TailLoaded(Message):
    """The latest rejections of the running send, for the run panel."""
    rows: Sequence[Rejection]


@dataclass
class RunFinished(Message):
    """The send ended (finished, stopped, cancelled, awaiting results); not yet in the audit ledger."""
    result: SendResult
    destination: Destination


@dataclass
class RunRecorded(Message):
    """The end of the send is in the audit ledger, as the CLI writes it."""
    result: SendResult


@dataclass
class DryRunFinished(Message):
    result: SendResult


@dataclass
class SampleFound(Message):
    """The shipped sample audience to offer as the source, or None."""
    path: Path | None


@dataclass
class PreviewLoaded(Message):
    """The preview, and what the operator had chosen when it was asked for (S's question uses its counts
    only while the fields still say the same)."""
    preview: SendPreview
    choice: SendChoice | None = None


@dataclass
class DraftChecked(Message):
    """What the settings layer would refuse in the file with the form's destination in it."""
    draft: Destination
    problems: list[str]


@dataclass
class RemovalChecked(Message):
    """Why removing the credential would be refused, or None: then the operator confirms."""
    environment: Environment
    credential: str
    refusal: str | None


@dataclass
class LedgerLoaded(Message):
    entries: Sequence[LedgerEntry]


@dataclass
class LedgerVerified(Message):
    result: VerifyResult


@dataclass
class PromotionPlanned(Message):
    plan: PromotionPlan


@dataclass
class Promoted(Message):
    plan: PromotionPlan
    result: PromotionResult


@dataclass
class VerifyRequested(Message):
    """`v` on a run: read it back and compare (`attentive-console verify RUN_ID`)."""
    run: RunRow


@dataclass
class RunVerified(Message):
    """A run was read back and compared (`attentive-console verify RUN_ID`)."""
    run: RunRow
    verification: Verification


@dataclass
class RejectionsExported(Message):
    path: Path
    count: int
    masked: bool


@dataclass
class JobsLoaded(Message):
    """A run's bulk jobs as the history holds them."""
    jobs: Sequence[JobRecord]


@dataclass
class JobLinesLoaded(Message):
    """A job's result lines kept raw."""
    lines: Sequence[JobLine]


@dataclass
class ReasonsCounted(Message):
    """A run's rejections by reason (History's chart); `counted_at` is the run's (rejected, invalid,
    failed, unknown) when counted; `problem` says why they could not be counted."""
    run_id: int
    counted_at: tuple[int, ...]
    reasons: Mapping[str, int]
    problem: str | None = None


# -- failures: the app shows each in a modal; a subclass says what its owner restores ---------------

@dataclass
class WorkFailed(Message):
    """A worker caught an error; `detail` is its one-line reason (workers.describe_error)."""
    title: str
    detail: str


class SendRefused(WorkFailed):
    """The send ended before anything was sent (refused, a bad file): the send slot is free again."""


class RecordFailed(WorkFailed):
    """The end of a send could not be recorded: a cancel-and-quit stays open so it is read."""


class DryRunFailed(WorkFailed):
    """The dry run did not run: its status line is cleared."""


class PreviewFailed(WorkFailed):
    """The preview could not be read: Send shows its hint again."""


class SaveFailed(WorkFailed):
    """A form's save was refused: nothing was saved and the form can save again."""


class ConnectionTestFailed(WorkFailed):
    """A form's connection test could not run: its status line is cleared."""


class PlanFailed(WorkFailed):
    """The promotion's gates could not be checked: its status line says so."""
