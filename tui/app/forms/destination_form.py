"""Add or edit a destination: a modal form validated as the operator types.

Two layers of checks, both live: the form's own (a number where a number goes, `Name = column`
lines), then the settings layer's, which validates the whole environment file with this destination
in it (the same check `attentive-console destinations add|edit` runs). Saving tests the credential
first and writes nothing when the test fails; it saves only the fields changed in the form, over the
destination as the file has it by then (a change to the same field made meanwhile is refused, with
both values shown). ctrl+t tests the connection without saving.

What is saved is the draft the settings check passed, never another: each check carries the draft it
checked, a check of a draft typed over since is dropped, and ctrl+s (behind every key typed before
it, see forms/base.py) saves the form as it is then once that draft's check is back.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from tui.app.backend.protocol import ConsoleBackend
from tui.app.forms.base import FormCheckbox, FormInput, FormSelect, FormTextArea, SettingsForm
from tui.app.messages import ConfigSaved, ConnectionChecked, ConnectionTestFailed, DraftChecked, EnvironmentChanged, SaveFailed
from tui.app.widgets.key_hints import KeyHints
from tui.app.workers import post_result, reported
from tui.settings.loader import IDENTIFIERS
from tui.settings.model import KIND_ENDPOINTS, Destination, Environment
from tui.settings.store import EditConflict

FLAGS = (("admin_only", "admin only"), ("allow_restricted_pii", "restricted-PII operators may use it"),
         ("verbose_logging", "verbose logging (keep per-contact details)"),
         ("subscriptions", "subscriptions (also subscribes people)"))
# Settings problems name the file's keys; this finds the field a problem is about.
FIELD_KEYS = {"description": "description", "credential": "credential", "primary_identifier": "primary",
              "endpoint": "endpoint", "identifiers": "email-column", "phone_region": "region",
              "rate_limit": "rate", "rejection_threshold": "threshold", "attributes": "attributes",
              "destination name": "name"}


class FormProblem(ValueError):
    """A field the form itself cannot read; `field` is the widget id (without `dest-`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_attributes(text: str) -> dict[str, str]:
    """One `Attribute name = column` a line; blank lines are skipped."""
    attributes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, column = line.rpartition("=")
        if not sep or not name.strip() or not column.strip():
            raise FormProblem("attributes", f"attributes line {number}: write `Attribute name = column`, "
                                            f"e.g. `Loyalty Tier = tier`")
        attributes[name.strip()] = column.strip()
    return attributes


def attributes_text(attributes: dict[str, str]) -> str:
    return "\n".join(f"{name} = {column}" for name, column in attributes.items())


def number_text(value: float) -> str:
    """Short when that reads back the same: a value the operator does not touch must not count as a change."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def parse_number(field: str, label: str, text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise FormProblem(field, f"{label}: {text!r} is not a number") from None


class DestinationForm(SettingsForm):
    STATUS = "#destination-status"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="destination_form.save"),
        Binding("ctrl+t", "test", "Test connection", id="destination_form.test"),
        Binding("escape", "cancel", "Cancel", id="destination_form.cancel"),
    ]

    def __init__(self, environment: Environment, destination: Destination | None, backend: ConsoleBackend) -> None:
        super().__init__()
        self.environment = environment
        self.backend = backend
        self.before = destination
        self.start = destination or Destination("", "", next(iter(environment.credentials), ""), "email",
                                                identifiers={"email": "email", "phone": "phone"})
        self.problems: list[str] = ["checking…"]
        self.checking: Destination | None = None  # the draft whose settings check is on its way
        self.checked: Destination | None = None   # the draft `problems` are of
        self.save_when_checked: Destination | None = None  # ctrl+s came while this draft was being checked

    def compose(self) -> ComposeResult:
        d = self.start
        credentials = [(name, name) for name in self.environment.credentials]
        verb = "Edit" if self.before else "Add"
        with Vertical(classes="modal-box", id="destination-form"):
            yield Static(f"{verb} destination in {self.environment.path.name}", classes="modal-title",
                         markup=False)
            with VerticalScroll(id="destination-fields"):
                yield from self.row("name", "Name", FormInput(d.name, compact=True, disabled=self.before is not None,
                                                              placeholder="letters, digits, . _ -"))
                yield from self.row("description", "Description", FormInput(d.description, compact=True))
                yield from self.row("credential", "Credential", FormSelect(
                    credentials, value=d.credential if d.credential in self.environment.credentials else Select.NULL,
                    allow_blank=not credentials, compact=True))
                yield from self.row("primary", "Primary id", FormSelect(
                    [(kind, kind) for kind in IDENTIFIERS], value=d.primary_identifier, allow_blank=False,
                    compact=True))
                # An event, subscriptions or segment destination's endpoint follows from its kind (edited in
                # the file, with its own table).
                fixed = d.kind in KIND_ENDPOINTS
                endpoints = ([(f"{d.endpoint} (a {d.kind} destination)", d.endpoint)] if fixed else
                             [("bulk (v2, 256 a call)", "bulk"), ("custom-attributes (v1)", "custom-attributes")])
                yield from self.row("endpoint", "Endpoint", FormSelect(
                    endpoints, value=d.endpoint, allow_blank=False, compact=True, disabled=fixed))
                yield from self.row("email-column", "Email column", FormInput(
                    d.identifiers.get("email", ""), compact=True, placeholder="source column holding emails"))
                yield from self.row("phone-column", "Phone column", FormInput(
                    d.identifiers.get("phone", ""), compact=True, placeholder="source column holding phones"))
                yield Label("Event properties, one `Property name = column` a line:" if d.sends_events else
                            "Attributes, one `Attribute name = column` a line:", classes="form-note")
                yield FormTextArea(attributes_text(d.attributes), id="dest-attributes", compact=True,
                                   show_cursor=True, highlight_cursor_line=False)
                yield from self.row("region", "Phone region", FormInput(d.phone_region, compact=True))
                yield from self.row("rate", "Rate limit", FormInput(
                    "" if d.rate_limit is None else number_text(d.rate_limit), compact=True,
                    placeholder="requests/s; blank: the endpoint's published limit"))
                yield from self.row("threshold", "Reject limit", FormInput(
                    number_text(d.rejection_threshold), compact=True, placeholder="share 0..1 that fails a run"))
                for key, label in FLAGS:
                    yield FormCheckbox(label, getattr(d, key), id=f"dest-{key.replace('_', '-')}", compact=True)
            yield Static("", id="destination-problems", markup=False)  # class `problem` only with problems
            yield Static("", id="destination-status", markup=False)
            yield KeyHints(("destination_form.save", "save (tests the credential first)"),
                           ("destination_form.test", "test"), ("destination_form.cancel", "cancel"))

    @staticmethod
    def row(key: str, label: str, widget: Widget) -> ComposeResult:
        widget.id = f"dest-{key}"
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield widget

    def on_mount(self) -> None:
        first = self.query_one("#dest-description" if self.before else "#dest-name")
        first.focus()
        self.revalidate()

    # -- reading the form ------------------------------------------------------------------------
    def value(self, key: str) -> Any:
        widget = self.query_one(f"#dest-{key}")
        if isinstance(widget, TextArea):
            return widget.text
        if not isinstance(widget, (Input, Select, Checkbox)):
            raise TypeError(f"#dest-{key} is not a field of the form")
        value = widget.value
        return value if value is not Select.NULL else None

    def draft(self) -> Destination:
        """The destination the form describes; FormProblem when a field cannot be read."""
        name = self.value("name").strip()
        if not name:
            raise FormProblem("name", "name: give the destination a name")
        credential = self.value("credential")
        if not credential:
            raise FormProblem("credential", "credential: add a credential first (section 2, a)")
        identifiers = {kind: column.strip() for kind, column in
                       (("email", self.value("email-column")), ("phone", self.value("phone-column")))
                       if column.strip()}
        threshold = parse_number("threshold", "reject limit", self.value("threshold"))
        flags = {key: self.value(key.replace("_", "-")) for key, _ in FLAGS}
        return dataclasses.replace(
            self.start, name=name, description=self.value("description").strip(), credential=credential,
            primary_identifier=self.value("primary"), endpoint=self.value("endpoint"),
            identifiers=identifiers, attributes=parse_attributes(self.value("attributes")),
            phone_region=self.value("region").strip(),
            rate_limit=parse_number("rate", "rate limit", self.value("rate")),
            rejection_threshold=self.start.rejection_threshold if threshold is None else threshold,
            **flags)

    # -- validation as the operator types ----------------------------------------------------------
    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    def changed(self) -> None:
        self.revalidate()

    def form_draft(self) -> tuple[Destination | None, list[str], set[str]]:
        """The draft to check in the settings layer, or None with the form's own problems and fields."""
        try:
            draft = self.draft()
        except FormProblem as problem:
            return None, [str(problem)], {problem.field}
        if self.before is None and draft.name in self.environment.destinations:
            return None, [f"name: {draft.name!r} already exists; choose another name"], {"name"}
        return draft, [], set()

    def revalidate(self) -> None:
        draft, problems, fields = self.form_draft()
        if draft != self.save_when_checked:
            self.cancel_pending_save()  # typed on after ctrl+s: that save was of another form
        if draft is None:
            self.checking = None  # a check still on its way is of another draft
            self.show_problems(problems, fields)
            return
        self.checking = draft
        self.problems = ["checking…"]  # no save until this draft's check is back
        self.check_draft(draft)

    @work(thread=True, name="Validate destination", group="destination-validate", exclusive=True,
          exit_on_error=False)
    def check_draft(self, draft: Destination) -> None:
        with reported(self, "Validate destination"):
            post_result(self, DraftChecked(draft, self.backend.destination_problems(self.environment.name, draft)))

    @on(DraftChecked)
    def settings_checked(self, message: DraftChecked) -> None:
        if message.draft != self.checking:
            return  # typed over since: that check says nothing of the form as it is now
        self.checking = None
        self.checked = message.draft
        problems = message.problems
        fields = {field for key, field in FIELD_KEYS.items() for problem in problems if key in problem}
        self.show_problems(problems, fields)
        if message.draft == self.save_when_checked:
            self.save_when_checked = None
            self.start_save(message.draft)

    def show_problems(self, problems: list[str], fields: set[str]) -> None:
        self.problems = problems
        for widget in self.query("#destination-fields > .form-row > *, #dest-attributes"):
            if widget.id:
                widget.set_class(widget.id.removeprefix("dest-") in fields, "-problem")
        shown = self.query_one("#destination-problems", Static)
        shown.update("\n".join(problems) or "no problems")
        shown.set_class(bool(problems), "problem")  # "no problems" is not drawn as an error

    # -- actions -----------------------------------------------------------------------------------
    def action_test(self) -> None:
        credential = self.value("credential")
        if not credential:
            self.notify("Choose a credential first.", severity="warning")
            return
        self.show_status(f"testing {credential}…")
        self.test_connection(credential)

    @work(thread=True, name="Test connection", group="destination-test", exclusive=True, exit_on_error=False)
    def test_connection(self, credential: str) -> None:
        with reported(self, f"Test connection of {credential}", ConnectionTestFailed):
            post_result(self, ConnectionChecked(self.backend.test_connection(self.environment, credential)))

    @on(ConnectionChecked)
    def connection_checked(self, message: ConnectionChecked) -> None:
        message.stop()  # the form's own test: the header and the Credentials section keep theirs
        report = message.report
        self.show_status(("OK " if report.ok else "FAILED ") + report.summary)

    @on(ConnectionTestFailed)
    def connection_not_tested(self) -> None:
        self.show_status("")

    def action_save(self) -> None:
        if self.saving:
            return
        # The form as it is now, read again rather than trusted to `changed`.
        try:
            draft = self.draft()
        except FormProblem as problem:
            self.begin_save([str(problem)], "")
            return
        if draft == self.save_when_checked:
            self.revalidate()  # asked again while its check is out: check again (a failed check never answers)
            return
        if draft == self.checked and self.checking is None:
            self.start_save(draft)
            return
        if draft != self.checking:
            self.revalidate()  # the field's Changed is still queued behind the ctrl+s that brought us here
        if draft == self.checking:
            self.save_when_checked = draft  # saved by settings_checked, if the check passes it
            self.show_status("checking the form, then saving…")
        else:
            self.begin_save(self.problems, "")

    def start_save(self, draft: Destination) -> None:
        """Only ever with the draft `problems` are of: what is saved is what was checked."""
        if self.begin_save(self.problems, f"testing {draft.credential}, then saving…"):
            self.save(draft)

    def cancel_pending_save(self) -> None:
        if self.save_when_checked is not None:
            self.save_when_checked = None
            self.show_status("not saved: the form changed while it was checked; ctrl+s again")

    @work(thread=True, name="Save destination", group="destination-save", exit_on_error=False)
    def save(self, draft: Destination) -> None:
        with reported(self, f"Save {draft.name}", SaveFailed):
            try:
                summary = self.backend.save_destination(self.environment, self.before, draft)
            except EditConflict:
                # The console's copy of the file is stale: reload it, so the form opened again starts from the file.
                self.post_message(EnvironmentChanged())
                raise
            post_result(self, ConfigSaved(summary))
