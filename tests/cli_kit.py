"""One way to run `attentive-console` in tests (the fixture is loaded from conftest.py).

    cli = cli_on(config)            # fixture: a factory of Cli on a config folder, data in
                                    # tmp_path/data, secrets in tmp_path/private/secrets.toml
    code, out, err = cli("send", "loyalty-attributes", "audience.csv", "--json")
    cli("credentials", "set-key", "main", stdin="k-123\\n", operator="bob", read_only=True)

Each call runs tui.cli.main in this process with `--config --data-dir --secrets` first, returns
what it printed (captured by capsys, so each call sees only its own output) and fails the test on
a traceback. For a process of its own: `subprocess.run(cli.process("send", ...))`, or
`cli_process(operator)` before arguments of one's own.
"""
from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

import pytest


def cli_process(operator: str = "tester") -> list[str]:
    """The command line of `main(ARGS, operator=operator)` in a new Python process; append ARGS."""
    return [sys.executable, "-c", f"import sys; from tui.cli import main; sys.exit(main(sys.argv[1:], operator={operator!r}))"]


class Ran(NamedTuple):
    code: int
    out: str
    err: str


@dataclass
class Cli:
    config: Path
    data: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    secrets: Path | None = None
    operator: str = "alice"

    def argv(self, *rest: str, read_only: bool = False) -> list[str]:
        secrets = ["--secrets", str(self.secrets)] if self.secrets is not None else []
        return ["--config", str(self.config), "--data-dir", str(self.data), *secrets,
                *(["--read-only"] if read_only else []), *rest]

    def __call__(self, *argv: str, operator: str | None = None, read_only: bool = False,
                 stdin: str | IO[str] | None = None) -> Ran:
        from tui.cli import main  # here, so the engine-only tests do not load every command group

        if stdin is not None:
            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin) if isinstance(stdin, str) else stdin)
        code = main(self.argv(*argv, read_only=read_only), operator=operator or self.operator)
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        return Ran(code, out, err)

    def process(self, *argv: str, operator: str | None = None) -> list[str]:
        return [*cli_process(operator or self.operator), *self.argv(*argv)]


CliOn = Callable[..., Cli]


@pytest.fixture
def cli_on(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliOn:
    def make(config: Path, *, data: Path | None = None, secrets: Path | None = None, operator: str = "alice") -> Cli:
        return Cli(config, data if data is not None else tmp_path / "data", capsys, monkeypatch,
                   secrets if secrets is not None else tmp_path / "private" / "secrets.toml", operator)

    return make
