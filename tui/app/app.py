"""The console application: header, five sections, command bar, footer.

Attributes down, messages up. The app holds what every section reads and hands it down as a
ConsoleView; sections post what the operator asked for (SendRequested, ConnectionTestRequested, ...);
named `@work` workers call the backend and post typed results; the `@on` handlers here tie them
together. The app runs the send (one at a time, steerable while the operator looks elsewhere), tests
connections and follows bulk jobs; it adds no logic of its own beyond presenting the core's.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import ContentSwitcher

from tui.app import messages
from tui.app.backend.job_watch import JobWatch
from tui.app.backend.protocol import ConsoleBackend
from tui.app.backend.send_runner import RunHandle
from tui.app.console_view import ConsoleView
from tui.app.error_guard import guard_callback, unexpected_text, write_error_log
from tui.app.keymap import KeymapLoad
from tui.app.run_text import QUIT_EXPLANATION, finished_text, resume_hint, send_detail, send_what
from tui.app.screens.choice import ChoiceScreen
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen, must_type
from tui.app.sections.base import Section
from tui.app.sections.credentials import CredentialsSection
from tui.app.sections.destinations import DestinationsSection
from tui.app.sections.history import HistorySection
from tui.app.sections.promotion import PromotionSection
from tui.app.sections.send import SendSection
from tui.app.session import Session
from tui.app.shell import SECTION_IDS, ConsoleShell
from tui.app.widgets.command_bar import CommandBar
from tui.app.widgets.header import ConsoleHeader
from tui.app.widgets.key_footer import KeyFooter
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.app.widgets.run_panel import RunPanel
from tui.app.workers import post_result, reported
from tui.core.sends import duration_note
from tui.settings.model import Environment
from tui.sync.history import RESUMABLE
from tui.sync.progress import Progress

FOLLOW_GROUP = "follow-jobs"   # the worker that follows bulk jobs for as long as the console is open
CANCEL_AND_QUIT = "cancel-quit"
QUIT_QUESTION = "quit-question"


class ConsoleApp(ConsoleShell):
    CSS_PATH = "console.tcss"
    TITLE = "attentive-console"
    BINDINGS = [
        *(
            Binding(str(index + 1), f"section({index})", section_id.title(), id=f"section.{section_id}",
                    show=False)
            for index, section_id in enumerate(SECTION_IDS)
        ),
        Binding("colon", "command_bar", "Command", id="app.command"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("escape,q", "back", "Back", id="app.back", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, session: Session, backend: ConsoleBackend, keymap: KeymapLoad | None = None):
        super().__init__()
        self.session = session
        self.backend = backend
        self.keymap_load = keymap or KeymapLoad()
        self.view = ConsoleView.first(session)
        self.quit_after_run = False                 # cancel and quit was chosen: exit once the run is recorded
        self.job_watch: JobWatch | None = None

    def compose(self) -> ComposeResult:
        backend, view = self.backend, self.view  # the session as it is at start
        yield ConsoleHeader(self.session, id="header")
        with ContentSwitcher(initial=SECTION_IDS[0], id="sections"):
            yield DestinationsSection(backend, view, id="destinations")
            yield CredentialsSection(backend, view, id="credentials")
            yield SendSection(backend, view, id="send")
            yield HistorySection(backend, view, id="history")
            yield PromotionSection(backend, view, id="promotion")
        yield CommandBar(id="command-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_keymap(self.keymap_load.keys)
        for problem in self.keymap_load.problems:
            self.notify(problem, title="console.toml", severity="warning", timeout=10)
        self.reload_environment()
        self.start_following()
        self.current_section.focus_main()
        self.fit_notice(self.size)

    def on_unmount(self) -> None:
        if self.job_watch is not None:
            self.job_watch.stop()  # the worker's thread closes the follower and ends

    # -- state: the environment files, the keys, the connection tests --------------------------------

    def reload_environment(self) -> None:
        """Reload the environment files (fast, local) and re-test every credential (workers)."""
        try:
            sandbox = self.backend.load_environment("sandbox")
            production = self.backend.load_environment("production")
        except Exception as error:  # a broken file is shown, the console stays up
            self.post_message(messages.WorkFailed(f"Cannot load {self.session.environment}", str(error)))
            self.refresh_sections()
            return
        environment = production if self.session.production else sandbox
        operator = self.session.operator_in(environment)
        self.view = replace(self.view, environment=environment, sandbox=sandbox, production=production,
                            operator=operator)
        self.query_one(ConsoleHeader).role = operator.role
        self.refresh_sections()
        self.load_key_views(environment)
        for credential in environment.credentials:
            self.start_connection_test(credential)

    def refresh_sections(self) -> None:
        for section in self.query(Section):
            section.show_view(self.view)

    @on(messages.ConfigSaved)
    def config_saved(self, message: messages.ConfigSaved) -> None:
        if message.summary:
            self.notify(message.summary, title="Saved", timeout=10)
            self.reload_environment()

    @on(messages.EnvironmentChanged)
    def environment_changed(self) -> None:
        self.reload_environment()

    @work(thread=True, name="Read keys", group="key-views", exclusive=True, exit_on_error=False)
    def load_key_views(self, environment: Environment) -> None:
        with reported(self, "Read keys"):
            post_result(self, messages.KeyViewsLoaded({name: self.backend.key_view(environment, name)
                                              for name in environment.credentials}))

    @on(messages.KeyViewsLoaded)
    def key_views_loaded(self, message: messages.KeyViewsLoaded) -> None:
        self.view = replace(self.view, key_views=message.views)
        self.refresh_sections()

    @on(messages.ConnectionTestRequested)
    def connection_test_requested(self, message: messages.ConnectionTestRequested) -> None:
        self.start_connection_test(message.credential)

    def start_connection_test(self, credential: str) -> None:
        environment = self.view.environment
        if environment is None:
            return
        self.query_one(ConsoleHeader).connection = f"testing {credential}…"
        # A group per credential, so the newest test of each wins (a @work group is fixed).
        self.run_worker(partial(self.test_connection, environment, credential), name="Test connection",
                        group=f"connection-{credential}", exclusive=True, thread=True, exit_on_error=False)
        self.view = replace(self.view, connections={name: report for name, report in self.view.connections.items()
                                                    if name != credential})

    def test_connection(self, environment: Environment, credential: str) -> None:
        """A thread worker (start_connection_test): GET /v1/me with the credential's key."""
        with reported(self, f"Test connection of {credential}"):
            post_result(self, messages.ConnectionChecked(self.backend.test_connection(environment, credential)))

    @on(messages.ConnectionChecked)
    def connection_checked(self, message: messages.ConnectionChecked) -> None:
        report = message.report
        self.view = replace(self.view, connections={**self.view.connections, report.credential: report})
        self.query_one(ConsoleHeader).connection = self.view.connection_text()
        if not report.ok:
            self.notify(report.summary, title=f"Connection {report.credential}", severity="error", timeout=10)
        self.refresh_sections()

    @on(messages.RunsLoaded)
    def runs_loaded(self, message: messages.RunsLoaded) -> None:
        """History reloaded (a job folded, a send running or ended): the Destinations' last run, the
        ended run's panel and an open jobs view follow it."""
        self.view = replace(self.view, runs=message.runs)
        self.query_one(DestinationsSection).show_view(self.view)
        self.query_one(SendSection).follow_history(message.runs)
        if isinstance(self.screen, RunJobsScreen):
            self.screen.action_reload()

    # -- bulk jobs: followed in the background while the console is open ----------------------------

    def start_following(self) -> None:
        """Decision: a read-only console does not follow jobs. Folding results Attentive already produced
        changes no setting and sends nothing, but it writes the history, and --read-only promises a
        console that writes nothing; it shows the jobs as stored and points to `jobs --wait`."""
        if self.session.read_only:
            return
        history = self.query_one(HistorySection)   # each round goes to History, then on up here
        self.job_watch = JobWatch(partial(self.backend.job_follower, self.session.environment), history.post_followed)
        self.follow_jobs(self.job_watch)

    @work(thread=True, name="Follow bulk jobs", group=FOLLOW_GROUP, exit_on_error=False)
    def follow_jobs(self, watch: JobWatch) -> None:
        watch.run()  # until stop(): its own event loop, so checks never hold the screen

    @on(messages.JobsFollowed)
    def jobs_followed(self, message: messages.JobsFollowed) -> None:
        if message.progress is not None:
            self.query_one(ConsoleHeader).jobs_pending = message.progress.pending

    # -- sends: the app checks and confirms, Send runs them; one at a time -----------------------------

    @property
    def run_handle(self) -> RunHandle | None:
        return self.query_one(SendSection).run_handle

    @property
    def progress(self) -> Progress | None:
        return self.query_one(SendSection).progress

    @on(messages.SendRequested)
    def send_requested(self, message: messages.SendRequested) -> None:
        environment = self.view.environment
        if environment is None or not self.send_slot_free():
            return
        what = send_what(message.destination, message.sample, anyway=message.allow_shrink)  # the details S names
        destination = environment.destinations.get(message.destination)
        detail = send_detail(message.destination, environment.name, message.source, message.rows_estimate,
                             message.constants, message.audience if message.allow_shrink else None,
                             duration_note(destination, message.rows_estimate) if destination else None)
        self.confirm_run(message, environment, what, detail, message.destination)

    @on(messages.ResendRequested)
    def resend_requested(self, message: messages.ResendRequested) -> None:
        """`attentive-console retry RUN_ID`: a new run of only the rejected and failed rows (the filter's)."""
        what = "unknown events" if message.include_unknown else "rejected rows"
        run, rows = message.run, f"the {what}" if message.count is None else f"{message.count:,} {what}"
        detail = ("No answer said whether these events reached Attentive: any that did will arrive twice.\n"
                  "They are read again from the run's file and sent as a new run." if message.include_unknown else
                  "The rejected and failed rows are read again from the run's file (fix it in place first)\n"
                  "and sent as a new run.")
        if self.send_slot_free():
            self.confirm_run(message, None, f"re-send {rows} of run #{run.run_id} to {run.destination}", detail,
                             run.destination)

    def send_slot_free(self) -> bool:
        if self.run_handle is not None:
            self.notify("A send is already running; watch it in Send (3), or cancel it there first.",
                        severity="warning")
            return False
        return True

    def confirm_run(self, order: messages.RunOrder, environment: Environment | None, what: str, detail: str, name: str) -> None:
        """Production sends ask for the destination's name to be typed."""
        if not self.session.production:
            self.start_run(order, environment)
            return
        self.push_screen(PromptScreen(f"!! PRODUCTION !! {what}", f"{detail}\nType the destination's name to go ahead:",
                                      check=must_type(name)), partial(self.run_confirmed, order, environment))

    def run_confirmed(self, order: messages.RunOrder, environment: Environment | None, value: str | None) -> None:
        if value is not None:
            self.start_run(order, environment)

    def start_run(self, order: messages.RunOrder, environment: Environment | None) -> None:
        if isinstance(order, messages.ResendRequested):
            self.show_section("send")  # asked for from a run's rejections: the run is watched in Send
        # A send asked for on Send starts where it was asked; a section key pressed since is not undone.
        self.query_one(SendSection).start_run(order, environment)

    @on(messages.RunProgressed)
    def run_progressed(self, message: messages.RunProgressed) -> None:
        self.query_one(ConsoleHeader).progress = message.progress
        self.query_one(HistorySection).run_going()  # the runs again, at most once a second

    @on(messages.RunFinished)
    def run_finished(self) -> None:
        self.query_one(ConsoleHeader).progress = None  # no send running: the header counts its jobs instead
        if self.job_watch is not None:
            self.job_watch.wake()  # its jobs are new: count them now, check them when due

    @on(messages.RunRecorded)
    def run_recorded(self, message: messages.RunRecorded) -> None:
        self.query_one(HistorySection).action_reload()
        if self.quit_after_run:  # the console outlives the run only to record it
            run = message.result.run
            resumable = f"\n{resume_hint(run)}" if run.status in RESUMABLE else ""
            self.exit(message=Text(finished_text(message.result) + resumable))

    @on(messages.SendRefused)
    @on(messages.RecordFailed)
    def keep_open(self) -> None:
        """A cancel-and-quit met an error: the console stays so it is read; ctrl+q then quits at once."""
        self.quit_after_run = False

    async def action_quit(self) -> None:
        """Without a send running, quit. During one, ask first: the send runs in a thread of this
        process, and quitting without a word left a blank screen while it went on. No "quit and keep
        it running": nothing would be left to show or steer it. Cancel and quit cancels through the
        send's control and waits for the drain (seconds: a cancel cuts short pacing and 429 back-off),
        so the run is recorded cancelled, and resumable, before the console exits."""
        handle = self.run_handle
        if handle is None:
            self.exit()
        elif self.quit_after_run:
            self.notify("Cancelling: the console quits once the run is recorded.")
        elif not any(screen.id == QUIT_QUESTION for screen in self.screen_stack):
            self.push_screen(ChoiceScreen(f"A send to {self.query_one(RunPanel).destination} is running", QUIT_EXPLANATION,
                                          [(CANCEL_AND_QUIT, "Cancel the send and quit")], id=QUIT_QUESTION),
                             partial(self.quit_answered, handle))

    def quit_answered(self, handle: RunHandle, answer: str | None) -> None:
        if answer != CANCEL_AND_QUIT:
            return
        if self.run_handle is not handle:  # it ended while the question was open
            self.exit()
            return
        self.quit_after_run = True
        handle.cancel()
        self.show_section("send")
        self.query_one(SendSection).show_status(
            "Cancelling: in-flight requests drain, the run is recorded, then the console quits.")

    # -- the guard: an unexpected error is a modal message, the console goes on --------------------

    @on(messages.WorkFailed)
    def work_failed(self, message: messages.WorkFailed) -> None:
        self.push_screen(MessageScreen(message.title, message.detail))

    @on(messages.UnexpectedError)
    def unexpected_error(self, message: messages.UnexpectedError) -> None:
        self.show_unexpected(message.error)

    def show_unexpected(self, error: Exception) -> None:
        log = write_error_log(self.session.data_dir, error)
        self.push_screen(MessageScreen("Unexpected error", unexpected_text(error, log)))

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:  # noqa: BLE001 - the app's own handlers: the last stop before a crash
            self.show_unexpected(error)

    async def _dispatch_action(self, namespace, action_name, params) -> bool:
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as error:  # noqa: BLE001 - every key and command ends up here
            self.show_unexpected(error)
            return True

    def push_screen(self, screen, callback=None, wait_for_dismiss=False):  # type: ignore[override]
        guarded = None if callback is None else guard_callback(self.show_unexpected, callback)
        return super().push_screen(screen, guarded, wait_for_dismiss=wait_for_dismiss)

    # -- navigation (the rest is the shell's: tui/app/shell.py) -----------------------------------

    @on(messages.DestinationPicked)
    def destination_picked(self, message: messages.DestinationPicked) -> None:
        self.show_section(message.section)
        if message.section == "send":
            self.query_one(SendSection).select_destination(message.destination)
        else:
            self.query_one(PromotionSection).select_destination(message.destination)
