"""The live run: a progress bar (Textual's ProgressBar), counts, sparklines of requests/s against the
rate in force and of the rate-limit headroom over the last minute (Textual's Sparkline), elapsed
time, the ETA while it runs, and a tail of rejections. All of it is drawn from `Progress` values, so
a snapshot with fixed data shows exactly this screen.

Readable without colour: the bar's done part is a heavy line and the rest a light one, the
sparklines are block heights, and each picture is labelled with its value and the limit
("requests/s 98.7 of 100"). Twelve lines with four rejections: it fits 80x24 under the Send form.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import ComposeResult
from textual.app import RenderResult as Rendered
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.renderables.bar import Bar as BarRenderable
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widgets import ProgressBar, Sparkline, Static

from tui.app.run_text import SERIES_S, Series
from tui.attentive.durations import format_clock
from tui.sync.progress import Progress

IDLE = "No send running. Choose a destination and a file above, then S to send or m for a sample."
SPARK_LABEL_WIDTH = 28


class TextBar(BarRenderable):
    """The bar with its two parts in two glyphs, so it reads without colour: ━━━━━━━────────."""

    REST = "─"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width or options.max_width
        start, end = (min(width, max(0, round(edge))) for edge in self.highlight_range)
        end = max(start, end)
        yield Text.assemble((self.REST * start, self.background_style), (self.BAR * (end - start), self.highlight_style),
                            (self.REST * (width - end), self.background_style), end="")


class RunProgressBar(ProgressBar):
    BAR_RENDERABLE = TextBar


class LimitSparkline(Sparkline):
    """A Sparkline whose scale runs from 0 to `ceiling` (the limit), not from the data's own lowest to
    highest value, so a steady 50 of 50 is a full row of blocks and 5 of 50 a low one."""

    ceiling: reactive[float] = reactive(1.0)

    def render(self) -> Rendered:
        data, ceiling = list(self.data or []), self.ceiling
        _, base = self.background_colors
        min_color = base + self.get_component_styles("sparkline--min-color").color
        max_color = base + self.get_component_styles("sparkline--max-color").color
        renderable = AnchoredSparkline if data else SparklineRenderable
        return renderable([0.0, ceiling, *data] if data else [], width=self.size.width, height=self.size.height,
                          min_color=min_color.rich_color, max_color=max_color.rich_color,
                          summary_function=self.summary_function)


class AnchoredSparkline(SparklineRenderable[float]):
    """Its first two values (0 and the ceiling) fix the scale and are not drawn."""

    @classmethod
    def _buckets(cls, data: list[float], num_buckets: int) -> Iterable[Sequence[float]]:
        return super()._buckets(data[2:], num_buckets)


def padded(values: Sequence[float], before: float) -> list[float]:
    """A minute of values, one a second, the newest on the right (the Sparkline would stretch fewer)."""
    return [before] * (SERIES_S - len(values)) + list(values)


def figure(value: float | None) -> str:
    return "?" if value is None else f"{value:,.1f}".removesuffix(".0")


def head_line(progress: Progress, destination: str) -> str:
    state = progress.state.upper().replace("_", " ")
    keys = {"running": "space pauses, +/- rate, C cancels", "paused": "space resumes, C cancels"}.get(progress.state)
    return f"run #{progress.run_id} -> {destination}   {state}" + (f"   ({keys})" if keys else "")


def rows_text(progress: Progress) -> str:
    total = f"/{progress.total_rows_estimate:,}" if progress.total_rows_estimate else ""
    return f" {progress.done_rows:,}{total} rows"


def rare_counts(progress: Progress) -> str:
    """Counts most runs never have, shown only when they do (the line keeps to 80 columns)."""
    counts = (("failed", progress.failed), ("unconfirmed", progress.unconfirmed),
              ("unchanged (job pending)", progress.skipped_pending), ("already sent", progress.skipped_already_sent),
              ("UNKNOWN", progress.unknown), ("over 12 h old", progress.stale_events))
    return "".join(f"   {name} {count:,}" for name, count in counts if count)


def counts_text(progress: Progress) -> str:
    return (f"read {progress.rows_read:,}   invalid {progress.invalid:,}   unchanged {progress.skipped_unchanged:,}"
            + rare_counts(progress) + "\n"
            f"in flight {progress.in_flight:,}   submitted {progress.submitted:,}   accepted {progress.accepted:,}   "
            f"rejected {progress.rejected:,}   retrying {progress.retrying:,}")


def requests_label(progress: Progress) -> str:
    if progress.rate_limit is None:
        return f"requests/s {figure(progress.requests_per_s)}"   # before the client is up (or a dry run)
    return f"requests/s {figure(progress.shown_requests_per_s)} of {figure(progress.rate_limit)}"


def headroom_label(progress: Progress) -> str:
    """x-ratelimit-remaining: requests left in the server's current second, of x-ratelimit-limit."""
    limit = progress.ratelimit_limit if progress.ratelimit_limit is not None else progress.endpoint_limit
    return f"headroom {figure(progress.ratelimit_remaining)} of {figure(limit)} left/s"


def times_text(progress: Progress) -> str:
    """No ETA once the run stopped (or while it is paused or cancelling: nothing is moving)."""
    limit = f"   endpoint limit {figure(progress.endpoint_limit)}/s" if progress.endpoint_limit else ""
    eta = f"   ETA {format_clock(progress.eta_s)}" if progress.state == "running" else ""
    return f"{progress.rows_per_s:,.0f} rows/s   elapsed {format_clock(progress.elapsed_s)}{eta}{limit}"


class RunPanel(Vertical, can_focus=True):
    """Focusable so the run keys (pause/resume, rate, cancel) work while it is on screen."""

    DEFAULT_CSS = f"""
    RunPanel {{ height: 1fr; }}
    RunPanel Static {{ height: auto; text-wrap: nowrap; text-overflow: ellipsis; }}
    RunPanel .run-row {{ height: 1; }}
    RunPanel RunProgressBar {{ width: auto; }}
    RunPanel RunProgressBar Bar {{ width: 40; }}
    RunPanel .spark-label {{ width: {SPARK_LABEL_WIDTH}; }}
    RunPanel LimitSparkline {{ width: 1fr; max-width: {SERIES_S}; }}
    RunPanel #run-live {{ height: auto; }}
    RunPanel #run-idle {{ text-wrap: wrap; }}
    RunPanel #run-tail {{ margin: 1 0 0 0; }}
    """

    progress: reactive[Progress | None] = reactive(None)
    tail: reactive[tuple[str, ...]] = reactive(())

    def __init__(self, destination: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.requests = Series()
        self.headroom = Series(min)          # the lowest headroom of each second
        self.run_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(IDLE, id="run-idle", markup=False)
        with Vertical(id="run-live"):
            yield Static("", id="run-head", markup=False)
            with Horizontal(classes="run-row"):
                yield RunProgressBar(show_eta=False, id="run-bar")
                yield Static("", id="run-rows", markup=False)
            yield Static("", id="run-counts", markup=False)
            with Horizontal(classes="run-row"):
                yield Static("", id="requests-label", classes="spark-label", markup=False)
                yield LimitSparkline([], id="requests-spark")
            with Horizontal(classes="run-row"):
                yield Static("", id="headroom-label", classes="spark-label", markup=False)
                yield LimitSparkline([], id="headroom-spark", summary_function=min)
            yield Static("", id="run-times", markup=False)
            yield Static("", id="run-tail", markup=False)

    def on_mount(self) -> None:
        self.show(self.progress)
        self.show_tail(self.tail)

    def watch_progress(self, progress: Progress | None) -> None:
        if self.is_mounted:
            self.show(progress)

    def watch_tail(self, tail: tuple[str, ...]) -> None:
        if self.is_mounted:
            self.show_tail(tail)

    def record(self, progress: Progress) -> None:
        """One more point of each sparkline (a new run starts them again)."""
        if progress.run_id != self.run_id:
            self.run_id, self.requests, self.headroom = progress.run_id, Series(), Series(min)
        self.requests.add(progress.elapsed_s, progress.shown_requests_per_s)
        if progress.ratelimit_remaining is not None:
            self.headroom.add(progress.elapsed_s, progress.ratelimit_remaining)

    def show(self, progress: Progress | None) -> None:
        self.query_one("#run-idle").display = progress is None
        self.query_one("#run-live").display = progress is not None
        if progress is None:
            return
        if not progress.stopped:  # the pictures show the send, not the minute after it
            self.record(progress)
        self.query_one("#run-head", Static).update(head_line(progress, self.destination))
        bar = self.query_one(RunProgressBar)
        bar.update(total=progress.total_rows_estimate or None, progress=progress.done_rows)
        self.query_one("#run-rows", Static).update(rows_text(progress))
        self.query_one("#run-counts", Static).update(counts_text(progress))
        self.query_one("#requests-label", Static).update(requests_label(progress))
        requests = self.query_one("#requests-spark", LimitSparkline)
        requests.ceiling = progress.rate_limit or max(self.requests.values, default=1.0) or 1.0
        requests.data = padded(self.requests.values, 0.0)  # nothing left before the run began
        self.query_one("#headroom-label", Static).update(headroom_label(progress))
        headroom = self.query_one("#headroom-spark", LimitSparkline)
        limit = progress.ratelimit_limit or progress.endpoint_limit
        headroom.ceiling = float(limit or max(self.headroom.values, default=1.0) or 1.0)
        headroom.data = padded(self.headroom.values, headroom.ceiling) if self.headroom.values else []
        self.query_one("#run-times", Static).update(times_text(progress))

    def show_tail(self, tail: Sequence[str]) -> None:
        self.query_one("#run-tail", Static).update("\n".join(["latest rejections:", *tail] if tail else ["no rejections yet"]))
