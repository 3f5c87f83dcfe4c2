"""The README's pictures, taken from the real demo: the console over the real core on a copy of the
shipped config and the embedded simulator, driven as an operator would (Textual's Pilot), at 80x24.

    .venv/bin/python docs/screenshots/make.py

writes first-screen.svg, live-run.svg (slow-demo, paused mid-run) and rejection-detail.svg here.
"""
from __future__ import annotations

import asyncio
import html
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tui.app.app import ConsoleApp
from tui.app.backend.core import CoreBackend
from tui.app.session import Session
from tui.app.widgets.run_panel import RunPanel

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SIZE = (80, 24)
DEADLINE_S = 120.0


async def until(pilot, condition: Callable[[], bool], step: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"the console did not get there in time: {step}")
        await pilot.pause(0.05)


def screen_has(app: ConsoleApp, text: str) -> bool:
    """`text` on the screen: the screenshot's text runs, tags dropped, in the order drawn."""
    return text in html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace("\xa0", " ")


async def take(work: Path) -> None:
    shutil.copytree(ROOT / "config", work / "config")
    session = Session(environment="sandbox", operator="ops", config_dir=work / "config", data_dir=work / "data",
                      secrets_file=work / "secrets.toml", read_only=False)
    app = ConsoleApp(session, CoreBackend(session))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen_has(app, "connected:"), "connected:")
        app.save_screenshot(str(HERE / "first-screen.svg"))

        await pilot.press("3")
        app.query_one("#send-destination").value = "slow-demo"  # type: ignore[attr-defined]
        await until(pilot, lambda: screen_has(app, "as they will be sent to slow-demo"), "as they will be sent to slow-demo")
        await pilot.press("S")
        await until(pilot, lambda: screen_has(app, "Send the whole file"), "Send the whole file")
        await pilot.press("y")
        panel = app.query_one(RunPanel)
        await until(pilot, lambda: panel.progress is not None and panel.progress.rows_read >= 900, "900 rows read")
        await pilot.press("space")
        await until(pilot, lambda: panel.progress is not None and panel.progress.state == "paused", "paused")
        await pilot.pause(1.5)  # the run's notice fades; the picture is of the panel
        app.save_screenshot(str(HERE / "live-run.svg"))
        await pilot.press("C")
        await pilot.press("y")
        await until(pilot, lambda: panel.progress is not None and panel.progress.state == "cancelled", "cancelled")

        await pilot.press("4")
        await until(pilot, lambda: screen_has(app, "cancelled"), "cancelled")
        await pilot.press("enter")
        await until(pilot, lambda: screen_has(app, "shown (all)"), "shown (all)")
        await pilot.press("j", "j", "enter")
        await until(pilot, lambda: screen_has(app, "source row"), "source row")
        app.save_screenshot(str(HERE / "rejection-detail.svg"))


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        asyncio.run(take(Path(work)))
    print(f"written to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
