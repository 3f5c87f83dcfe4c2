"""The console application: header, five sections, command bar, footer.

The app holds what every section reads (the environment, connection results, the running send) and
hands blocking work to workers; it adds no logic of its own beyond presenting the core's.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from tui.app.backend import ConnectionReport, ConsoleBackend, RunRow
from tui.app.command_bar import Command, CommandBar, section_commands
from tui.app.config_actions import ConfigActions
from tui.app.config_edits import KeyView
from tui.app.error_guard import ErrorGuard, guard_callback, unexpected_text, write_error_log
from tui.app.forms.choice import ChoiceScreen
from tui.app.forms.credential_form import CredentialForm
from tui.app.forms.destination_form import DestinationForm
from tui.app.forms.facet_picker import FacetPicker
from tui.app.forms.message import MessageScreen
from tui.app.forms.prompt import PromptScreen, must_type, not_empty
from tui.app.guard import ReadOnlyAware, is_mutating
from tui.app.header import ConsoleHeader
from tui.app.help_screen import HelpScreen
from tui.app.job_watch import JobWatch
from tui.app.keymap import KeymapLoad
from tui.app.messages import ConnectionChecked, JobsFollowed, WorkFailed
from tui.app.rejections import describe
from tui.app.run_actions import RunActions
from tui.app.sections.base import Section
from tui.app.sections.credentials import CredentialsSection
from tui.app.sections.destinations import DestinationsSection
from tui.app.sections.history import HistorySection
from tui.app.sections.promotion import PromotionSection
from tui.app.sections.send import SendSection
from tui.app.send_runner import RunHandle
from tui.app.session import Session
from tui.app.widgets.run_detail import RunDetail
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.app.workers import run_blocking
from tui.settings.access import Operator
from tui.settings.model import Environment
from tui.sync.progress import Progress
from tui.sync.rejections import RejectionFilter

SECTION_IDS = ("destinations", "credentials", "send", "history", "promotion")
FOLLOW_GROUP = "follow-jobs"   # the worker that follows bulk jobs for as long as the console is open


class ConsoleApp(RunActions, ConfigActions, ErrorGuard, ReadOnlyAware, App[int]):
    CSS_PATH = "console.tcss"
    TITLE = "attentive-console"
    BINDINGS = [
        *(
            Binding(str(index + 1), f"section({index})", section_id.title(), id=f"section.{section_id}",
                    show=False)
            for index, section_id in enumerate(SECTION_IDS)
        ),
        Binding("colon", "command_bar", "Command", id="app.command"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("escape", "back", "Back", id="app.back", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, session: Session, backend: ConsoleBackend, keymap: KeymapLoad | None = None):
        super().__init__()
        self.session = session
        self.backend = backend
        self.keymap_load = keymap or KeymapLoad()
        self.environment: Environment | None = None
        self.sandbox_environment: Environment | None = None
        self.production_environment: Environment | None = None
        self.connections: dict[str, ConnectionReport] = {}
        self.key_views: dict[str, KeyView] = {}
        self.operator = Operator(session.operator, False, True, session.read_only)  # masked until known
        self.run_handle: RunHandle | None = None
        self.quit_after_run = False                 # cancel and quit was chosen: exit once the run is recorded
        self.progress: Progress | None = None
        self.job_watch: JobWatch | None = None
        self.jobs_seen: tuple[object, ...] = ()     # what the last round of following found
        self.shown_problems: set[str] = set()       # each following problem is notified once

    def compose(self) -> ComposeResult:
        yield ConsoleHeader(self.session, id="header")
        with ContentSwitcher(initial=SECTION_IDS[0], id="sections"):
            yield DestinationsSection(id="destinations")
            yield CredentialsSection(id="credentials")
            yield SendSection(id="send")
            yield HistorySection(id="history")
            yield PromotionSection(id="promotion")
        yield CommandBar(id="command-bar")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_keymap(self.keymap_load.keys)
        for problem in self.keymap_load.problems:
            self.notify(problem, title="console.toml", severity="warning", timeout=10)
        self.reload_environment()
        self.start_following()
        self.current_section.focus_main()

    def on_unmount(self) -> None:
        if self.job_watch is not None:
            self.job_watch.stop()  # the worker's thread closes the follower and ends

    # -- state ---------------------------------------------------------------------------------

    def reload_environment(self) -> None:
        """Reload the environment files (fast, local) and re-test every credential (a worker)."""
        try:
            self.sandbox_environment = self.backend.load_environment("sandbox")
            self.production_environment = self.backend.load_environment("production")
            self.environment = (self.production_environment if self.session.production
                                else self.sandbox_environment)
        except Exception as error:  # a broken file is shown, the console stays up
            self.post_message(WorkFailed(f"Cannot load {self.session.environment}", str(error)))
            self.refresh_sections()
            return
        self.operator = Operator.of(self.session.operator, self.environment.access,
                                    read_only=self.session.read_only)
        self.query_one(ConsoleHeader).role = self.operator.role
        self.refresh_sections()
        self.load_key_views()
        for credential in self.environment.credentials:
            self.start_connection_test(credential)

    def refresh_sections(self) -> None:
        for section in self.query(Section):
            section.refresh_view()

    @property
    def current_section(self) -> Section:
        switcher = self.query_one(ContentSwitcher)
        return self.query_one(f"#{switcher.current}", Section)

    def start_connection_test(self, credential: str) -> None:
        environment = self.environment
        if environment is None:
            return
        self.query_one(ConsoleHeader).connection = f"testing {credential}…"
        run_blocking(
            self, f"Test connection of {credential}",
            lambda: self.backend.test_connection(environment, credential),
            lambda report: self.post_message(ConnectionChecked(report.credential, report.ok, report.summary)),
            group=f"connection-{credential}", exclusive=True,
        )
        self.connections.pop(credential, None)

    def on_connection_checked(self, message: ConnectionChecked) -> None:
        self.connections[message.credential] = ConnectionReport(message.credential, message.ok, message.summary)
        self.query_one(ConsoleHeader).connection = self.connection_text()
        if not message.ok:
            self.notify(message.summary, title=f"Connection {message.credential}", severity="error", timeout=10)
        self.refresh_sections()

    def connection_text(self) -> str:
        reports = list(self.connections.values())
        failed = [report.credential for report in reports if not report.ok]
        if failed:
            return f"NOT CONNECTED: {', '.join(failed)}"
        if not reports:
            return "not tested"
        return f"connected: {reports[0].summary}"

    @property
    def identifiers_masked(self) -> bool:
        return self.operator.restricted_pii

    def last_run_text(self, destination: str) -> str:
        history = self.query_one(HistorySection)
        run = next((run for run in history.runs if run.destination == destination), None)
        return "-" if run is None else f"#{run.run_id} {run.status}"

    # -- bulk jobs: followed in the background while the console is open ----------------------------

    def start_following(self) -> None:
        """Decision: a read-only console does not follow jobs. Folding results Attentive already produced
        changes no setting and sends nothing, but it writes the history, and --read-only promises a
        console that writes nothing; it shows the jobs as stored and points to `jobs --wait`."""
        if self.session.read_only:
            return
        backend, environment = self.backend, self.session.environment
        watch = self.job_watch = JobWatch(lambda: backend.job_follower(environment),
                                          lambda progress, problem: self.post_message(JobsFollowed(progress, problem)))
        self.run_worker(watch.run, name="Follow bulk jobs", group=FOLLOW_GROUP, thread=True, exit_on_error=False)

    def on_jobs_followed(self, message: JobsFollowed) -> None:
        progress = message.progress
        problem = message.problem or (progress.problem if progress is not None else None)
        if problem and problem not in self.shown_problems:
            self.shown_problems.add(problem)
            self.notify(problem, title="Following bulk jobs", severity="error" if message.problem else "warning",
                        timeout=10)
        history = self.query_one(HistorySection)
        history.show_follow(progress, problem)
        if progress is None:
            return
        self.query_one(ConsoleHeader).jobs_pending = progress.pending
        seen = (tuple(sorted(progress.jobs.items())), progress.read_backs_pending, progress.checks)
        # A read-back attempt changes its run's verdict without changing these counts: reload while any is due.
        if seen != self.jobs_seen or progress.read_backs_pending:
            self.jobs_seen = seen
            history.action_reload()
            if isinstance(self.screen, RunJobsScreen):
                self.screen.action_reload()

    def on_work_failed(self, message: WorkFailed) -> None:
        self.push_screen(MessageScreen(message.title, message.detail))

    # -- the guard: an unexpected error is a modal message, the console goes on --------------------

    def show_unexpected(self, error: Exception) -> None:
        log = write_error_log(self.session.data_dir, error)
        self.push_screen(MessageScreen("Unexpected error", unexpected_text(error, log)))

    async def _dispatch_action(self, namespace, action_name, params) -> bool:
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as error:  # noqa: BLE001 - every key and command ends up here
            self.show_unexpected(error)
            return True

    def push_screen(self, screen, callback=None, wait_for_dismiss=False):  # type: ignore[override]
        guarded = None if callback is None else guard_callback(self, callback)
        return super().push_screen(screen, guarded, wait_for_dismiss=wait_for_dismiss)

    # -- navigation ----------------------------------------------------------------------------

    def action_section(self, index: int) -> None:
        self.query_one(ContentSwitcher).current = SECTION_IDS[index]
        self.query_one(ConsoleHeader).section = index
        self.current_section.focus_main()

    def show_section(self, section_id: str) -> Section:
        self.action_section(SECTION_IDS.index(section_id))
        return self.current_section

    def action_command_bar(self) -> None:
        self.query_one(CommandBar).open(self.available_commands())

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.visible_bindings()))

    def action_back(self) -> None:
        self.current_section.go_back()

    def visible_bindings(self) -> list[tuple[str, str, str]]:
        """(key, description, binding id) of every binding the operator can use here and now."""
        rows = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description:
                continue
            if self.session.read_only and is_mutating(active.node, binding.action.split("(")[0]):
                continue
            rows.append((self.get_key_display(binding), binding.description, binding.id or ""))
        return sorted(rows, key=lambda row: row[2] == "")  # the console's own keys first

    def available_commands(self) -> dict[str, Command]:
        """Command bar words -> (command, help): the current section's actions and the sections."""
        commands = section_commands(self.current_section, self.session.read_only)
        commands.update({  # section names win over a same-named action (`:send` opens Send)
            section_id: (lambda index=index: self.action_section(index), f"go to {section_id.title()}")
            for index, section_id in enumerate(SECTION_IDS)
        })
        commands["help"] = (self.action_help, "list the keys of this screen")
        commands["quit"] = (self.action_quit, "leave the console")
        return commands

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for index, section_id in enumerate(SECTION_IDS):
            yield SystemCommand(f"Go to {section_id.title()}", f"Section {index + 1}",
                                lambda index=index: self.action_section(index))
        section = self.current_section
        for word, (command, help_text) in section_commands(section, self.session.read_only).items():
            yield SystemCommand(f"{section.TITLE}: {help_text}", f":{word}", command)
        yield SystemCommand("Keys", "List the keys of this screen", self.action_help)
        yield SystemCommand("Quit", "Leave the console", self.action_quit)

    # -- cross-section requests ------------------------------------------------------------------

    def export_rejections(self, run: RunRow, where: RejectionFilter, value: str = "") -> None:
        """Ask for the file; a file that exists is replaced only once the operator says so. Anything
        else there (a symbolic link, a folder) goes to the export, which refuses it with the reason."""
        masked = self.identifiers_masked
        title = f"Export rejections of run #{run.run_id} ({describe(where)})"

        def export(target: Path, overwrite: bool) -> None:
            run_blocking(self, "Export rejections",
                         lambda: self.backend.export_rejections(run.run_id, where, target, masked=masked,
                                                                overwrite=overwrite),
                         lambda count: self.notify(f"Wrote {count:,} rejections to {target}"
                                                   + (" (identifiers masked)" if masked else ""), markup=False))

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            if not is_regular_file(target):
                export(target, overwrite=False)
                return

            def confirmed(answer: str | None) -> None:
                if answer == "replace":
                    export(target, overwrite=True)
                else:  # Back: to the file name, to choose another
                    self.export_rejections(run, where, path)

            self.push_screen(ChoiceScreen(title, f"{target} already exists. Replace it with this export?",
                                          [("replace", "Replace the file")]), confirmed)

        self.push_screen(PromptScreen(title, "CSV file to write (asks before replacing a file):",
                                      value=value or f"rejections-run-{run.run_id}.csv",
                                      check=not_empty("the file name")), chosen)

    def confirm_promotion(self, plan) -> None:
        name = plan.destination.name

        def confirmed(value: str | None) -> None:
            if value is None:
                return
            run_blocking(self, f"Promote {name}", lambda: self.backend.promote(plan), promoted)

        def promoted(result) -> None:
            self.notify(f"{name} promoted: {result.path} written, ledger entry #{result.ledger_entry.seq}")
            self.reload_environment()

        self.push_screen(PromptScreen(
            f"!! PRODUCTION !! promote {name}",
            "Every gate passed. Type the destination's name to write it into production.toml:",
            check=must_type(name)), confirmed)

    def push_screen_message(self, title: str, detail: str) -> None:
        self.push_screen(MessageScreen(title, detail))

    def show_send(self, destination: str) -> None:
        self.show_section("send").select_destination(destination)  # type: ignore[attr-defined]

    def show_promotion(self, destination: str) -> None:
        self.show_section("promotion").select_destination(destination)  # type: ignore[attr-defined]


def is_regular_file(path: Path) -> bool:
    """lstat: a symbolic link counts as the link, never as the file it points to."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def binding_ids() -> set[str]:
    """Every binding id a console.toml [keys] table may remap."""
    owners = (ConsoleApp, DestinationsSection, CredentialsSection, SendSection, HistorySection,
              PromotionSection, CommandBar, HelpScreen, MessageScreen, RunDetail, RunJobsScreen, PromptScreen,
              ChoiceScreen, FacetPicker, DestinationForm, CredentialForm)
    return {binding.id for owner in owners for binding in owner.BINDINGS
            if isinstance(binding, Binding) and binding.id}
