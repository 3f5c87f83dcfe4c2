"""The live run: progress bar, counts, rates, rate-limit headroom, ETA and a tail of rejections,
all drawn from one `Progress` value, so a snapshot with fixed data shows exactly this screen."""
from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.attentive.durations import format_clock
from tui.sync.progress import Progress

BAR_WIDTH = 40


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    if fraction is None:
        return "[" + "?" * width + "]"
    filled = round(fraction * width)
    return "[" + "#" * filled + "." * (width - filled) + f"] {fraction:4.0%}"


def headroom(progress: Progress) -> str:
    if progress.rate_limit is None:
        return "rate: unlimited"
    remaining = "?" if progress.ratelimit_remaining is None else f"{progress.ratelimit_remaining}"
    return f"rate limit {progress.rate_limit:g}/s  remaining in window {remaining}"


def fit(line: str, width: int) -> str:
    """One screen line: cut with an ellipsis rather than wrapped onto the next."""
    return line if len(line) <= width else line[:max(0, width - 1)] + "…"


def rare_counts(progress: Progress) -> str:
    """Counts most runs never have, shown only when they do (the line keeps to 80 columns)."""
    counts = (("failed", progress.failed), ("unconfirmed", progress.unconfirmed),
              ("unchanged (job pending)", progress.skipped_pending))
    return "".join(f"   {name} {count:,}" for name, count in counts if count)


def progress_text(progress: Progress, destination: str, tail: Sequence[str], width: int) -> Text:
    total = f"/{progress.total_rows_estimate:,}" if progress.total_rows_estimate else ""
    lines = [
        f"run #{progress.run_id} -> {destination}   {progress.state.upper()}",
        bar(progress.fraction),
        f"read {progress.rows_read:,}{total}   invalid {progress.invalid:,}   "
        f"unchanged {progress.skipped_unchanged:,}" + rare_counts(progress),
        f"in flight {progress.in_flight:,}   submitted {progress.submitted:,}   accepted {progress.accepted:,}   "
        f"rejected {progress.rejected:,}   retrying {progress.retrying:,}",
        f"{progress.rows_per_s:,.0f} rows/s   {progress.requests_per_s:,.1f} requests/s   {headroom(progress)}",
        f"elapsed {format_clock(progress.elapsed_s)}   ETA {format_clock(progress.eta_s)}",
        "",
        "latest rejections:" if tail else "no rejections yet",
        *tail,
    ]
    return Text("\n".join(fit(line, width) for line in lines), no_wrap=True)


class RunPanel(Widget, can_focus=True):
    """Focusable so the run keys (pause, resume, rate, cancel) work while it is on screen."""

    progress: reactive[Progress | None] = reactive(None, layout=True)
    tail: reactive[tuple[str, ...]] = reactive((), layout=True)

    def __init__(self, destination: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.destination = destination

    def render(self) -> Text:
        if self.progress is None:
            return Text("No send running. Choose a destination and a file above, then s to send "
                        "or m for a sample.")
        return progress_text(self.progress, self.destination, self.tail, self.content_size.width)
