"""The console over the real core: TOML files, a secrets file and a history database in tmp_path, and
the Attentive simulator on loopback (the `simulator` fixture)."""
from __future__ import annotations

import html
import os
import re
from collections import defaultdict
from pathlib import Path

from config_kit import destination_toml, environment_toml, write_config_folder
from simulator_fixtures import FULL_KEY
from textual.message import Message

from tui.app.app import ConsoleApp
from tui.app.backend.core import CoreBackend
from tui.app.session import Session
from tui.settings.secrets import SecretsFile

# The console follows jobs on the real clock: scaled down (job_schedule.SCALE_VARIABLE), a job's first
# check comes 60 ms after its submission, not a minute.
POLL_SCALE = "0.001"


def environment_text(url: str, *, destination: str = "bulk", rate_limit: float | None = None) -> str:
    """One credential (key "secret:attentive"), alice an admin and bob restricted; with a destination
    endpoint, the loyalty-attributes destination on it."""
    extra = "" if rate_limit is None else f"rate_limit = {rate_limit}\n"
    loyalty = destination_toml(description="Loyalty tier and points", endpoint=destination, extra=extra)
    return environment_toml(url, restricted=("bob",), description="Test company", destinations=[loyalty] if destination else [])


def core_session(tmp_path: Path, url: str, *, environment: str = "sandbox", operator: str = "alice",
                 key: str = FULL_KEY, endpoint: str = "bulk", read_only: bool = False,
                 rate_limit: float | None = None) -> Session:
    """sandbox.toml with one destination, production.toml with none, both on the simulator at `url`."""
    config = write_config_folder(tmp_path / "config", environment_text(url, destination=endpoint, rate_limit=rate_limit),
                                 environment_text(url, destination=""))
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    secrets = tmp_path / "secrets.toml"
    SecretsFile(secrets).set("attentive", key)
    os.chmod(secrets, 0o600)
    return Session(environment=environment, operator=operator, config_dir=config, data_dir=data,  # type: ignore[arg-type]
                   secrets_file=secrets, read_only=read_only)


def core_app(tmp_path: Path, url: str, **options) -> ConsoleApp:
    session = core_session(tmp_path, url, **options)
    return ConsoleApp(session, CoreBackend(session))


TEXT_RUN = re.compile(r'<text[^>]*? x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', re.S)


def screen_text(app: ConsoleApp) -> str:
    """The screen's text, line by line, from the SVG export (one <text> per run of one style)."""
    lines: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for x, y, text in TEXT_RUN.findall(app.export_screenshot()):
        lines[float(y)].append((float(x), html.unescape(text).replace("\xa0", " ")))
    return "\n".join("".join(text for _, text in sorted(runs)) for _, runs in sorted(lines.items()))


class Seen(list):
    """Every message a message hook saw, once each."""

    def __call__(self, message: Message) -> None:
        if not any(message is seen for seen in self):
            self.append(message)

    def of(self, kind: type[Message]) -> list:
        return [message for message in self if isinstance(message, kind)]
