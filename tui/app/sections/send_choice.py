"""What the Send section says about the operator's choice: the fields' placeholders and hint, the
preview's summary (constants, an audience's joins, stays and leaves, the refusal a send would meet)
and its table. No worker and no state here: send.py keeps those."""
from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Select

from tui.app.widgets.path_suggester import PathSuggester
from tui.core.send_choice import CONSTANTS_EXAMPLE, shrink_refused
from tui.core.send_preview import SendPreview
from tui.sync.engine import SendRefused as EngineRefused
from tui.sync.engine import SendResult, ShrinkRefused
from tui.sync.membership import AudienceCounts

SOURCE_PLACEHOLDER = "a file, folder, glob (exports/part-*.csv) or SELECT … query"
CONSTANTS_PLACEHOLDER = f"optional, this send only: {CONSTANTS_EXAMPLE}"
# one line at 80 columns (78 inside the padding)
HINT = "enter previews; the source: a file, folder, glob or SELECT query; then d, m, S"
KEYS = "Keys: d dry run (sends nothing), m sample of 50, S send the whole file."
SHRINK_KEYS = "Keys: d dry run, m sample of 50, S asks to send anyway (too many would leave)."


def choice_fields() -> ComposeResult:
    """Destination, source (tab completes a path) and this send's constants, one line each."""
    with Vertical(classes="section-fields"):
        with Horizontal(classes="form-row"):
            yield Label("Destination", classes="form-label")
            yield Select[str]([], prompt="choose", id="send-destination", allow_blank=True, compact=True,
                                  type_to_search=False)
        with Horizontal(classes="form-row"):
            yield Label("Source", classes="form-label")
            yield Input(placeholder=SOURCE_PLACEHOLDER, suggester=PathSuggester(), id="send-source", compact=True)
        with Horizontal(classes="form-row"):
            yield Label("Constants", classes="form-label")
            yield Input(placeholder=CONSTANTS_PLACEHOLDER, id="send-constants", compact=True)


def audience_line(counts: AudienceCounts) -> str:
    return (f"{counts.label}: {counts.members:,} members; {counts.joins:,} join, {counts.stays:,} stay, "
            f"{counts.leaves:,} leave ({counts.leave_share:.0%}; limit {counts.limit:.0%})")


def preview_summary(preview: SendPreview) -> Text:
    lines = [f"First {len(preview.rows)} of ~{preview.rows_estimate:,} rows ({preview.format}) as sent to "
             f"{preview.destination}: {preview.invalid} invalid"]
    if preview.constants:
        lines.append("constants on every profile: "
                     + ", ".join(f"{name} = {value!r}" for name, value in preview.constants))
    if preview.audience is not None:
        lines.append(audience_line(preview.audience))
        if shrink_refused(preview.audience):  # the numbers are on the line above; S's question repeats them
            lines.append("a send would be refused: more members would leave than the limit allows")
        elif preview.audience.awaiting_run is not None:  # short enough for the summary's five lines at 80 columns
            lines.append(f"a send would be refused until run {preview.audience.awaiting_run}'s bulk jobs finish at "
                         "Attentive (4 History follows them)")
        elif preview.audience.refusal is not None:
            lines.append(f"a send would be refused: {preview.audience.refusal}")
    lines += [f"warning: {warning}" for warning in preview.warnings]
    return Text("\n".join(lines))


def dry_run_text(result: SendResult) -> str:
    run = result.run
    text = (f"Dry run: read {run.rows_read:,}: would send {run.not_sent:,}, invalid {run.invalid:,}, "
            f"unchanged {run.skipped_unchanged:,}"
            + (f", already sent {run.skipped_already_sent:,}" if run.skipped_already_sent else "")
            + (f", unknown (held back) {run.unknown:,}" if run.unknown else "") + ". Nothing was sent.")
    if run.stale_events:
        text += (f"\n{run.stale_events:,} events are over 12 hours old: Attentive records them, but they trigger "
                 "no journeys")
    if (counts := result.audience) is not None:
        text += (f"\nAudience: {counts.joins:,} would join, {counts.stays:,} stay, {counts.leaves:,} leave"
                 + ("; a send would be refused" if counts.refusal is not None else ""))
    return text


CONSOLE_SHRINK_OVERRIDE = 'preview it (enter), then S asks whether to "Send anyway"'


def console_refusal(error: EngineRefused) -> EngineRefused:
    """The engine's refusal; the shrink guard's with the console's way past it."""
    if isinstance(error, ShrinkRefused):
        return EngineRefused(f"{error}: {CONSOLE_SHRINK_OVERRIDE}")
    return error


def preview_keys(preview: SendPreview) -> str:
    """The status line under the fields once a preview is shown."""
    return SHRINK_KEYS if shrink_refused(preview.audience) else KEYS


def fill_table(table: DataTable, preview: SendPreview, mask: Callable[[str], str] | None) -> None:
    table.clear(columns=True)
    table.add_columns("Row", preview.identifier_kind, *preview.attribute_names, "Problem")
    for row in preview.rows:
        identifier = mask(row.identifier) if mask and row.identifier else row.identifier
        values = [row.attributes.get(name, "") for name in preview.attribute_names]
        problem = f"{row.reason}: {row.message}" if row.reason else ""
        table.add_row(str(row.row), identifier or "-", *values, problem)
