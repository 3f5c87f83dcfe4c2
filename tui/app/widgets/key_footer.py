"""The footer at 80 columns: the keys of where the focus is, then the console's own keys, which always
show (`? Help` above all). What does not fit is left out whole, marked `…` (`?` lists everything),
so a key is never cut in half or drawn over; Textual's command-palette item is not shown (ctrl+p
still opens the palette, and `?` lists it)."""
from __future__ import annotations

from collections.abc import Iterator

from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

MORE = "…"
APP_ORDER = ("app.command", "app.help", "app.quit")  # the console's keys, at the right, in this order


def key_width(key_display: str, description: str) -> int:
    """A compact FooterKey's cells (`key description`) plus its right margin."""
    return len(key_display) + (1 + len(description) if description else 0) + 1


class KeyFooter(Footer):
    """A compact footer that fits its width; recomposed when the bindings or the width change."""

    DEFAULT_CSS = """
    KeyFooter FooterLabel.-more { margin: 0 1 0 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True, show_command_palette=False)
        self.shown_width = 0

    def shown(self) -> list[ActiveBinding]:
        """The shown bindings, one per action, the focus's first and the app's last."""
        seen: set[str] = set()
        local: list[ActiveBinding] = []
        app_level: list[ActiveBinding] = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            (app_level if active.node is self.app else local).append(active)
        app_level.sort(key=lambda active: APP_ORDER.index(active.binding.id) if active.binding.id in APP_ORDER
                       else len(APP_ORDER))
        return local + app_level

    def fitted(self, width: int) -> tuple[list[ActiveBinding], bool]:
        """The bindings that fit `width`, and whether some were left out. The app's keys are kept
        whatever the width; the focus's are dropped from the end."""
        shown = self.shown()
        app_level = [active for active in shown if active.node is self.app]
        local = [active for active in shown if active.node is not self.app]
        room = width - sum(self.width_of(active) for active in app_level)
        kept: list[ActiveBinding] = []
        for index, active in enumerate(local):
            need = self.width_of(active)
            more = len(MORE) + 1 if index < len(local) - 1 else 0  # room for the mark if any come after
            if need + more > room:
                return kept + app_level, True
            kept.append(active)
            room -= need
        return kept + app_level, False

    def width_of(self, active: ActiveBinding) -> int:
        return key_width(self.app.get_key_display(active.binding), active.binding.description)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.screen.size.width
        self.shown_width = width
        for item in self.items(width):
            if item is None:
                yield FooterLabel(MORE, classes="-more")
                continue
            binding = item.binding
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not item.enabled, tooltip=item.tooltip).data_bind(compact=Footer.compact)

    def items(self, width: int) -> Iterator[ActiveBinding | None]:
        """What the footer shows in order; None is the mark where keys were left out."""
        fitted, cut = self.fitted(width)
        for active in fitted:
            if cut and active.node is self.app:
                cut = False
                yield None
            yield active
        if cut:
            yield None

    def on_resize(self) -> None:
        if self.size.width != self.shown_width and self._bindings_ready:
            self.call_after_refresh(self.recompose)

    def text(self) -> str:
        """The footer as it reads (tests, the tmux walk)."""
        return " ".join(MORE if item is None else
                        f"{self.app.get_key_display(item.binding)} {item.binding.description}".rstrip()
                        for item in self.items(self.size.width or self.screen.size.width))
