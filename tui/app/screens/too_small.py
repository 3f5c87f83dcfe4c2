"""Below 80x24 the console's layout does not hold: this screen covers it until the terminal grows.

The app pushes it on a resize below the design size and pops it when the terminal is large enough
again; nothing underneath is lost (a send goes on, ctrl+q still asks before quitting).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static

from tui.app.widgets.key_hints import KeyHints

MIN_WIDTH, MIN_HEIGHT = 80, 24


def too_small(size: Size) -> bool:
    return size.width < MIN_WIDTH or size.height < MIN_HEIGHT


def notice(size: Size) -> str:
    return f"terminal too small: {MIN_WIDTH}x{MIN_HEIGHT} needed (now {size.width}x{size.height})"


class TooSmallScreen(Screen[None]):
    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; }
    TooSmallScreen #too-small { width: auto; max-width: 100%; height: auto; text-style: bold; }
    TooSmallScreen KeyHints { width: auto; max-width: 100%; }
    """

    def compose(self) -> ComposeResult:
        yield Static(self.text(), id="too-small", markup=False)
        yield KeyHints("make the window larger", ("app.quit", "quits"))

    def text(self) -> str:
        return notice(self.size)

    def on_resize(self) -> None:
        self.query_one("#too-small", Static).update(self.text())

    def on_screen_resume(self) -> None:
        """Back on top (a screen opened over the notice was closed): gone if the terminal grew meanwhile."""
        if not too_small(self.size):
            self.dismiss()
