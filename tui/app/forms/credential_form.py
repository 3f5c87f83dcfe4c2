"""Add a credential: name, description, and where its key lives.

The key is typed into a password input (never echoed, never shown back, never in a snapshot) and is
tested with GET /v1/me before anything is stored, as `attentive-console credentials add` does; or
the credential names an environment variable that holds the key at run time.
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from tui.app.backend.protocol import ConsoleBackend
from tui.app.forms.base import FormInput, SettingsForm
from tui.app.messages import ConfigSaved, SaveFailed
from tui.app.widgets.key_hints import KeyHints
from tui.app.workers import post_result, reported
from tui.attentive.secret import ApiKey
from tui.settings.changes import new_credential, typed_key
from tui.settings.errors import SettingsError
from tui.settings.keyref import parse_key_ref
from tui.settings.model import Credential, Environment


def key_problem(text: str) -> str | None:
    """Why a typed key cannot be stored (the message never repeats the key)."""
    try:
        typed_key(text)
    except SettingsError as error:
        return str(error)
    return None


class CredentialForm(SettingsForm):
    STATUS = "#credential-status"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="credential_form.save"),
        # priority: read when typed, so the keys behind it go to the next field (see forms/base.py)
        Binding("enter", "next_or_save", "Next field or save", id="credential_form.next_or_save", show=False,
                priority=True),
        Binding("escape", "cancel", "Cancel", id="credential_form.cancel"),
    ]

    def __init__(self, environment: Environment, backend: ConsoleBackend) -> None:
        super().__init__()
        self.environment = environment
        self.backend = backend

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="credential-form"):
            yield Static(f"Add credential to {self.environment.path.name}", classes="modal-title", markup=False)
            for key, label, widget in (
                ("name", "Name", FormInput(compact=True, placeholder="letters, digits, . _ -")),
                ("description", "Description", FormInput(compact=True, placeholder="what the key is for")),
                ("key", "API key", FormInput(compact=True, password=True, placeholder="typed, never shown")),
                ("env-var", "or env var", FormInput(compact=True, placeholder="VAR holding the key at run time")),
            ):
                widget.id = f"credential-{key}"
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield widget
            yield Static("", id="credential-problems", markup=False)  # class `problem` only with problems
            yield Static("", id="credential-status", markup=False)
            yield KeyHints(("credential_form.save", "save (tests the key first)"), ("credential_form.cancel", "cancel"))

    def on_mount(self) -> None:
        self.query_one("#credential-name", Input).focus()
        self.show_problems()

    def field(self, key: str) -> str:
        return self.query_one(f"#credential-{key}", Input).value.strip()

    def problems(self) -> list[str]:
        name, key, env_var = self.field("name"), self.query_one("#credential-key", Input).value, self.field("env-var")
        problems = []
        if not name:
            problems.append("name: give the credential a name")
        elif name in self.environment.credentials:
            problems.append(f"name: {name!r} already exists; select it and set its key with e")
        if key and env_var:
            problems.append("give the key or an environment variable, not both")
        elif not key and not env_var:
            problems.append("type the API key, or name the environment variable that holds it")
        elif key and (problem := key_problem(key)):
            problems.append(f"API key: {problem}")
        if name and not problems:
            try:
                parse_key_ref(new_credential(name, "", env_var).api_key_ref, credential=name,
                              embedded=self.environment.embedded)
            except SettingsError as error:
                problems.append(str(error))
        return problems

    @on(Input.Changed)
    def show_problems(self) -> None:
        problems = self.problems()
        shown = self.query_one("#credential-problems", Static)
        shown.update("\n".join(problems) or "no problems")
        shown.set_class(bool(problems), "problem")  # "no problems" is not drawn as an error

    def action_next_or_save(self) -> None:
        """enter moves to the next field at once, and saves once the keys typed before it are in
        their field (the field's own queue runs the check after them) and the form is complete."""
        field = self.focused
        self.focus_next()
        if field is not None:
            field.call_later(self.save_if_complete)

    def save_if_complete(self) -> None:
        if not self.problems():
            self.action_save()

    def action_save(self) -> None:
        raw = self.query_one("#credential-key", Input).value
        if self.begin_save(self.problems(), "testing the key, then saving…" if raw else "saving…"):
            credential = new_credential(self.field("name"), self.field("description"), self.field("env-var"))
            self.save(credential, typed_key(raw) if raw else None)

    @work(thread=True, name="Add credential", group="credential-save", exit_on_error=False)
    def save(self, credential: Credential, key: ApiKey | None) -> None:
        with reported(self, f"Add {credential.name}", SaveFailed):
            post_result(self, ConfigSaved(self.backend.add_credential(self.environment, credential, key)))
