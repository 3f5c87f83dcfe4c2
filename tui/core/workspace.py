"""Where the files are and who acts: the one context both front ends hand to the core (the CLI
builds it from its flags, the console's Session adds the environment it shows)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.settings.access import Operator
from tui.settings.errors import SettingsError
from tui.settings.loader import did_you_mean, load_environment
from tui.settings.model import Destination, Environment, environment_name
from tui.settings.paths import history_path
from tui.sync.history import HistoryStore, RunRecord


@dataclass(frozen=True)
class Target:
    """A destination this operator may use, in its environment."""
    environment: Environment
    destination: Destination
    operator: Operator


@dataclass(frozen=True)
class Workspace:
    config_dir: Path
    data_dir: Path
    secrets_file: Path
    operator: str
    read_only: bool = False

    @property
    def history_file(self) -> Path:
        return history_path(self.data_dir)

    def load_environment(self, name: str) -> Environment:
        return load_environment(self.config_dir, environment_name(name))

    def operator_in(self, environment: Environment) -> Operator:
        return Operator.of(self.operator, environment.access, read_only=self.read_only)

    def target(self, environment: str | Environment, destination: str, action: str) -> Target:
        """The destination, checked for this operator; a missing one is named with a suggestion."""
        env = self.load_environment(environment) if isinstance(environment, str) else environment
        found = env.destinations.get(destination)
        if found is None:
            hint = did_you_mean(destination, list(env.destinations))
            known = ", ".join(env.destinations) or "none"
            raise SettingsError(f"{env.name} has no destination {destination!r}"
                                + (f"; did you mean {hint!r}?" if hint else f" (it has: {known})"))
        operator = self.operator_in(env)
        operator.require_destination(found, action)
        return Target(env, found, operator)

    def run(self, run_id: int) -> RunRecord:
        with HistoryStore(self.data_dir, readonly=True) as store:
            run = store.get_run(run_id)
        if run is None:
            raise SettingsError(f"there is no run {run_id}; list them with `attentive-console runs`")
        return run
