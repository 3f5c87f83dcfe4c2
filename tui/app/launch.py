"""Open the console for a CLI context: the only entry the CLI imports (lazily, inside its handler)."""
from __future__ import annotations

from textual.binding import Binding

from tui.app.app import ConsoleApp
from tui.app.backend.core import CoreBackend
from tui.app.forms.credential_form import CredentialForm
from tui.app.forms.destination_form import DestinationForm
from tui.app.forms.facet_picker import FacetPicker
from tui.app.keymap import load_keymap
from tui.app.screens.choice import ChoiceScreen
from tui.app.screens.help import HelpScreen
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen
from tui.app.sections.credentials import CredentialsSection
from tui.app.sections.destinations import DestinationsSection
from tui.app.sections.history import HistorySection
from tui.app.sections.promotion import PromotionSection
from tui.app.sections.send import SendSection
from tui.app.session import Session
from tui.app.widgets.command_bar import CommandBar
from tui.app.widgets.run_detail import RunDetail
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.settings.model import EnvironmentName


def binding_ids() -> set[str]:
    """Every binding id a console.toml [keys] table may remap."""
    owners = (ConsoleApp, DestinationsSection, CredentialsSection, SendSection, HistorySection,
              PromotionSection, CommandBar, HelpScreen, MessageScreen, RunDetail, RunJobsScreen, PromptScreen,
              ChoiceScreen, FacetPicker, DestinationForm, CredentialForm)
    return {binding.id for owner in owners for binding in owner.BINDINGS
            if isinstance(binding, Binding) and binding.id}


def run_console(*, environment: EnvironmentName, config_dir, data_dir, secrets_file, operator: str,
                read_only: bool) -> int:
    session = Session(environment=environment, operator=operator, config_dir=config_dir,
                      data_dir=data_dir, secrets_file=secrets_file, read_only=read_only)
    app = ConsoleApp(session, CoreBackend(session), load_keymap(config_dir, binding_ids()))
    result = app.run()
    return result if isinstance(result, int) else 0
