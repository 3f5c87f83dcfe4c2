"""Only tui/app imports Textual: the core must run headless, for cron and for tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tui

PACKAGE = Path(tui.__file__).resolve().parent


def core_modules() -> list[str]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = relative.parts
        if parts[1] == "app" or parts[-1] == "__main__":  # __main__ runs a program on import
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append(".".join(parts))
    return modules


def test_core_modules_do_not_import_textual():
    modules = core_modules()
    assert "tui.attentive.client" in modules and "tui.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"textual imported by the core: {result.stdout.strip()}"
