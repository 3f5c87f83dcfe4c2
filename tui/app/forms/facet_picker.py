"""Pick a reason or HTTP status facet (with its count) for the rejection log, or clear them."""
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
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="facet.cancel")]

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

    def action_cancel(self) -> None:
        self.dismiss(None)
