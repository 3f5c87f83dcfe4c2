"""A run's rejections by reason as text bars, for the run under History's cursor:

    run #3: 210 rejections by reason
    invalid_email        ████████████████████ 53
    attribute_type       ███████████████████▌ 52

Bars are characters and every bar ends in its count, so the chart reads the same without colour."""
from __future__ import annotations

from collections.abc import Mapping

from textual.widgets import Static

from tui.sync.terminal_text import escape_controls

BAR_WIDTH = 24
NAME_WIDTH = 22
EIGHTHS = " ▏▎▍▌▋▊▉"   # the partial block that ends a bar, so 52 and 53 differ when they round alike


def bar(count: int, top: int, width: int) -> str:
    """`count` of `top` as a bar of at most `width` cells; never empty for a count above zero."""
    eighths = max(1, round(count / top * width * 8)) if top else 0
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def reason_chart(run_id: int, reasons: Mapping[str, int], *, rows: int, bar_width: int = BAR_WIDTH) -> str:
    """A title and one bar a reason, the most frequent first; past `rows` bars, one line sums the rest."""
    total = sum(reasons.values())
    if not total:
        return f"run #{run_id}: no rejections"
    ranked = sorted(((escape_controls(name), count) for name, count in reasons.items() if count),
                    key=lambda item: (-item[1], item[0]))
    shown = ranked if len(ranked) <= rows else ranked[:max(1, rows - 1)]
    name_width = min(NAME_WIDTH, max(len(name) for name, _ in shown))
    top = ranked[0][1]
    count_width = len(f"{top:,}")
    lines = [f"run #{run_id}: {total:,} rejection{'s' if total != 1 else ''} by reason"]
    lines += [f"{cut(name, name_width):<{name_width}} {bar(count, top, bar_width):<{bar_width}} {count:>{count_width},}"
              for name, count in shown]
    rest = ranked[len(shown):]
    if rest:
        lines.append(f"… {len(rest)} more reason{'s' if len(rest) != 1 else ''}: {sum(c for _, c in rest):,}")
    return "\n".join(lines)


class ReasonChart(Static):
    """What it last drew is kept, so a new size (more or fewer bars) draws it again."""
    DEFAULT_CSS = """
    ReasonChart { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)
        self.rows = 3
        self.shown: tuple[int, Mapping[str, int]] | None = None

    def show_reasons(self, run_id: int, reasons: Mapping[str, int]) -> None:
        self.shown = (run_id, reasons)
        self.update(reason_chart(run_id, reasons, rows=self.rows))

    def show_text(self, text: str) -> None:
        self.shown = None
        self.update(text)

    def set_rows(self, rows: int) -> None:
        if rows != self.rows:
            self.rows = rows
            if self.shown is not None:
                self.show_reasons(*self.shown)
