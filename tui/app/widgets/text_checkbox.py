"""A checkbox whose state is in its text, `[x]` ticked and `[ ]` not, so it reads the same with
NO_COLOR (Textual's `▐X▌` differs only in colour). A Checkbox: its Changed message and CSS hold."""
from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox

TICKED, UNTICKED = "[x]", "[ ]"


class TextCheckbox(Checkbox):
    @property
    def _button(self) -> Content:
        return Content.assemble((self.state_text, self.get_visual_style("toggle--button")))

    @property
    def state_text(self) -> str:
        return TICKED if self.value else UNTICKED
