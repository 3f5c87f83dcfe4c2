"""Open the console for a CLI context: the only entry the CLI imports (lazily, inside its handler)."""
from __future__ import annotations

import importlib
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode

from tui.app import forms, screens, sections, widgets
from tui.app.app import ConsoleApp
from tui.app.backend.core import CoreBackend
from tui.app.keymap import load_keymap
from tui.app.session import Session
from tui.settings.model import EnvironmentName

PARTS = (sections, screens, forms, widgets)  # where the console's bound widgets and screens live


def console_classes() -> list[type[DOMNode]]:
    """The app and every widget or screen class of ours (each module of PARTS imported first)."""
    for package in PARTS:
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    found: list[type[DOMNode]] = []
    stack: list[type[DOMNode]] = [DOMNode]
    while stack:
        for subclass in stack.pop().__subclasses__():
            if subclass not in found:
                found.append(subclass)
                stack.append(subclass)
    return [ConsoleApp, *(cls for cls in found if cls.__module__.startswith("tui.app."))]


def binding_ids() -> set[str]:
    """Every binding id a console.toml [keys] table may remap: found on the classes, so a screen
    added later is remappable without a list to keep."""
    return {binding.id for owner in console_classes() for binding in owner.__dict__.get("BINDINGS", [])
            if isinstance(binding, Binding) and binding.id}


def run_console(*, environment: EnvironmentName, config_dir, data_dir, secrets_file, operator: str,
                read_only: bool) -> int:
    session = Session(environment=environment, operator=operator, config_dir=config_dir,
                      data_dir=data_dir, secrets_file=secrets_file, read_only=read_only)
    app = ConsoleApp(session, CoreBackend(session), load_keymap(config_dir, binding_ids()))
    result = app.run()
    return result if isinstance(result, int) else 0
