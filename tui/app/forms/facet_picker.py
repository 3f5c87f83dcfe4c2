"""Pick a reason or HTTP status facet (with its count) for the rejection log, or clear them.
An overlay in the key language: `esc`/`q` close it, `j`/`k` and `g`/`G` move besides the arrows."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.app.error_guard import ErrorGuard
from tui.app.widgets.key_hints import KeyHints
from tui.sync.rejections import Facets, RejectionFilter


class FacetPicker(ErrorGuard, ModalScreen[RejectionFilter | None]):
    BINDINGS = [
        Binding("escape,q", "cancel", "Cancel", id="facet.cancel"),
        Binding("j", "move('down')", "Down", id="facet.down", show=False),
        Binding("k", "move('up')", "Up", id="facet.up", show=False),
        Binding("g", "move('top')", "Top", id="facet.top", show=False),
        Binding("G", "move('bottom')", "Bottom", id="facet.bottom", show=False),
    ]

    def __init__(self, facets: Facets, current: RejectionFilter) -> None:
        super().__init__()
        self.choices: list[RejectionFilter] = [RejectionFilter(text=current.text)]
        options = [Option("all reasons and statuses (clear facets)")]
        for reason, count in sorted(facets.reasons.items(), key=lambda item: -item[1]):
            self.choices.append(RejectionFilter(text=current.text, reason=reason, status=current.status))
            options.append(Option(f"reason {reason}  ({count:,})"))
        for status, count in sorted(facets.statuses.items(), key=lambda item: -item[1]):
            if status is None:
                continue  # rejected locally, never sent: the reason facet already tells them apart
            self.choices.append(RejectionFilter(text=current.text, reason=current.reason, status=status))
            options.append(Option(f"http {status}  ({count:,})"))
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static("Show only…", classes="modal-title")
            yield OptionList(*self.options, id="facet-options")
            yield KeyHints("enter picks", ("facet.cancel", "cancels"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_move(self, where: str) -> None:
        options = self.query_one("#facet-options", OptionList)
        {"down": options.action_cursor_down, "up": options.action_cursor_up,
         "top": options.action_first, "bottom": options.action_last}[where]()

    def action_cancel(self) -> None:
        self.dismiss(None)
