"""Open the console for a CLI context: the only entry the CLI imports (lazily, inside its handler)."""
from __future__ import annotations

from tui.app.app import ConsoleApp, binding_ids
from tui.app.core_backend import CoreBackend
from tui.app.keymap import load_keymap
from tui.app.session import Session
from tui.settings.model import EnvironmentName


def run_console(*, environment: EnvironmentName, config_dir, data_dir, secrets_file, operator: str,
                read_only: bool) -> int:
    session = Session(environment=environment, operator=operator, config_dir=config_dir,
                      data_dir=data_dir, secrets_file=secrets_file, read_only=read_only)
    app = ConsoleApp(session, CoreBackend(session), load_keymap(config_dir, binding_ids()))
    result = app.run()
    return result if isinstance(result, int) else 0
