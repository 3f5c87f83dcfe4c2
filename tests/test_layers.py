"""Only tui/app imports Textual: the core must run headless, for cron and for tests."""
from __future__ import annotations

import os
import shutil
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


ROOT = PACKAGE.parent
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def test_the_layer_contracts_hold():
    result = subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_a_backwards_import_breaks_the_layer_contract(tmp_path):
    # A copy of the package where the sync layer imports the CLI: the same check must fail, naming it.
    shutil.copytree(PACKAGE, tmp_path / "tui", ignore=shutil.ignore_patterns("__pycache__", "spec", "sample"))
    with open(tmp_path / "tui" / "sync" / "reasons.py", "a", encoding="utf-8") as module:
        module.write("\nimport tui.cli.send_cmd  # noqa: E402,F401\n")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([LINT_IMPORTS, "--no-cache", "--config", str(ROOT / "pyproject.toml")], cwd=tmp_path,
                            env=environment, capture_output=True, text=True)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "tui.sync.reasons -> tui.cli.send_cmd" in result.stdout, result.stdout
