"""The README's first session, walked as an operator would: the installed console in a real terminal
(tmux) at 80x24 with NO_COLOR, on the embedded default (a copy of the shipped config), each step
checked on the screen the operator reads. Skipped where tmux is not installed."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from tmux_pane import TMUX, Pane

from tui.sync.job_schedule import SCALE_VARIABLE

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = str(Path(sys.executable).with_name("attentive-console"))


def console(tmp_path: Path, *options: str) -> Pane:
    argv = [CONSOLE, "--config", str(tmp_path / "config"), "--data-dir", str(tmp_path / "data"),
            "--secrets", str(tmp_path / "secrets.toml"), *options]
    env = {"NO_COLOR": "1", "TERM": "xterm-256color", "USER": "ops", "LOGNAME": "ops",
           "ATTENTIVE_CONSOLE_SIM_JOB_DELAY": "0s",  # the embedded simulator's jobs, done at once
           SCALE_VARIABLE: "0.001",                 # and the console's checks on them, a minute -> 60 ms
           "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    return Pane(f"first-session-{len(options)}", argv, cwd=tmp_path, env=env)


def test_the_readme_first_session_at_80x24_without_colour(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    pane = console(tmp_path)
    try:
        # 1. The sandbox on the built-in simulator.
        screen = pane.wait_for("SANDBOX", "connected: Northwind Outfitters (Sandbox)", "? Help")
        assert "PRODUCTION" not in screen.splitlines()[0]
        # 2. Test the connection.
        pane.keys("2")
        pane.wait_for("Credentials in sandbox.toml")
        pane.keys("t")
        pane.wait_for("OK Northwind Outfitters")
        # 3. The sample audience previewed, then a sample of 50 sent and (its jobs done) read back.
        pane.keys("3")
        pane.wait_for("as sent to loyalty-attributes", "m Sample", "S Send all")
        pane.keys("m")
        # 4. History: the run finishes once its job is folded; enter opens it.
        pane.keys("4")
        pane.wait_for("sample", "finished", "1 done")
        pane.keys("Enter")
        # 5. The read-back ran on its own once the job completed.
        pane.wait_for("run #1 loyalty-attributes (sandbox) finished", "read-back: matched 50/50", "0 shown (all)")
        pane.keys("Escape")
        pane.wait_for("Run ▼", absent=("read-back: matched",))
        # 6. Promote: pick the destination, every gate passes, P, type its name.
        pane.keys("5")
        pane.wait_for("Choose a sandbox destination", "Audit ledger")
        pane.keys("Enter")
        pane.wait_for("slow-demo")
        pane.keys("Down")
        pane.keys("Enter")
        screen = pane.wait_for("Every gate passed: P promotes loyalty-attributes", "new in production, as written")
        assert "subscriptions" not in screen  # only lines the promotion writes
        pane.keys("P")
        pane.wait_for("Type the destination's name")
        pane.type("loyalty-attributes")
        pane.keys("Enter")
        screen = pane.wait_for("loyalty-attributes promoted (ledger entry #")
        assert "nothing left to promote" in screen and "P promotes" not in screen
        assert "[destinations.loyalty-attributes]" in (tmp_path / "config" / "production.toml").read_text()
        pane.keys("C-q")
        pane.wait_for(absent=("SANDBOX",))
    finally:
        pane.close()

    # 7. Production: the header says so, and S asks for the destination's name before sending.
    pane = console(tmp_path, "--env", "production")
    try:
        pane.wait_for("!! PRODUCTION !!", "connected: Northwind Outfitters")
        pane.keys("3")
        pane.wait_for("as sent to loyalty-attributes")
        pane.keys("S")
        pane.wait_for("Type the destination's name")
        pane.type("loyalty-attributes")
        pane.keys("Enter")
        pane.wait_for("run #", "submitted 2,943")
        pane.keys("4")
        pane.wait_for("Run ▼", "loyalty-attributes  send ")
    finally:
        pane.close()
