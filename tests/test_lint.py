"""ruff over the package and the tests, with the rules pyproject.toml states ([tool.ruff])."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_code_passes_the_lint():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "tui", "tests"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
