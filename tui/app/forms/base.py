"""What the credential and destination forms share: one save at a time, its status line, how a
form ends (saved: dismiss with the summary; not saved: say so and allow another try; esc: None), and
keys that land where they were typed however fast they arrive.

Textual forwards each key to the widget focused when the app reads it, into that widget's queue. A
field handles a printable key there, in order; but a binding that is not `priority` runs only once
the key has bubbled from the field back up to the app, against the focus *then*. In a burst (a fast
typist, a paste of keys, a slow machine) the keys behind it have been handled meanwhile:
- `tab` (Textual binds it on the screen, not priority) moved the focus after the keys typed behind it
  had gone to the field it leaves: `name<tab>desc` put `namedesc` into Name;
- an editing key (backspace, arrows, home, end) ran after the characters typed behind it
  (`abc<backspace>20` gave `ab`), or in the next field once a tab had moved the focus.
So the forms move the focus with priority `tab`/`shift+tab` (when the app reads the key, before the
next one is forwarded), and their fields (FormInput, FormTextArea, FormSelect, FormCheckbox) run
their own bindings in their own queue, in order with the characters. Save must see every key typed
before it: `ctrl+s` is not priority and reaches the form behind those keys."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Select, Static, TextArea

from tui.app.error_guard import ErrorGuard
from tui.app.messages import ConfigSaved, SaveFailed
from tui.app.widgets.text_checkbox import TextCheckbox

# A plain mixin at run time: Textual takes a widget's CSS (type names, component classes) from its
# first DOMNode base, which must stay the field's own class.
if TYPE_CHECKING:
    _Field = Widget
else:
    _Field = object


class InOrderKeys(_Field):
    """A form field that runs its own key bindings as its keys come, in its own queue, instead of
    after the key has bubbled up to the app (when later keys have been handled and the focus may
    have moved on)."""

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and self.check_action(binding.action, ()) is not False:
                event.stop()
                event.prevent_default()
                await self.run_action(binding.action)
                return
        await super()._on_key(event)


class FormInput(InOrderKeys, Input):
    pass


class FormTextArea(InOrderKeys, TextArea):
    pass


class FormSelect(InOrderKeys, Select[str]):
    pass


class FormCheckbox(InOrderKeys, TextCheckbox):
    pass


class SettingsForm(ErrorGuard, ModalScreen[str | None]):
    """Dismisses with the save's summary (its ConfigSaved goes on to the app), or None when cancelled."""

    STATUS = ""  # the selector of the form's status line
    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field", id="form.next_field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", id="form.previous_field", show=False,
                priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saving = False

    def show_status(self, text: str) -> None:
        self.query_one(self.STATUS, Static).update(text)

    def begin_save(self, problems: list[str], status: str) -> bool:
        """Whether to start the save worker now: not while one runs, nor with problems on the form."""
        if self.saving:
            return False
        if problems:
            self.notify("Fix the problems shown first: " + problems[0], severity="error", timeout=8)
            return False
        self.show_status(status)
        self.saving = True
        return True

    @on(ConfigSaved)
    def saved(self, message: ConfigSaved) -> None:
        self.dismiss(message.summary)

    @on(SaveFailed)
    def not_saved(self) -> None:
        self.saving = False
        self.show_status("not saved")

    def action_cancel(self) -> None:
        self.dismiss(None)
