"""Where a run's bulk jobs are checked from: its destination's credential as configured now.

The CLI's `jobs`/`send --wait` and the console follow jobs of runs they did not start, perhaps
started by cron days ago, so the key is resolved per run from the environment files, not carried.
"""
from __future__ import annotations

from pathlib import Path
from typing import cast

from tui.settings.connection import resolve_target
from tui.settings.errors import SettingsError
from tui.settings.loader import load_environment
from tui.settings.model import Environment, EnvironmentName
from tui.sync.history import RunRecord
from tui.sync.jobs import FollowError, FollowTarget, Resolve


def follow_resolver(config_dir: Path, secrets_file: Path, data_dir: Path) -> Resolve:
    """A Resolve that loads each environment once; a missing destination or key is a FollowError
    that says what to restore."""
    environments: dict[str, Environment] = {}

    def resolve(run: RunRecord) -> FollowTarget:
        try:
            environment = environments.get(run.environment)
            if environment is None:
                # runs.environment is TEXT, but every writer records an Environment's name, a --env
                # limited to ENVIRONMENTS or "sandbox" (bench), so the value is an EnvironmentName.
                name = cast(EnvironmentName, run.environment)
                environment = environments[run.environment] = load_environment(config_dir, name)
            destination = environment.destinations.get(run.destination)
            if destination is None:
                raise FollowError(f"{run.environment} has no destination {run.destination!r} any more, so its "
                                  f"credential is unknown; restore it to follow run {run.id}'s jobs")
            target = resolve_target(environment, destination.credential, secrets_file=secrets_file,
                                    data_dir=data_dir)
        except SettingsError as exc:
            raise FollowError(str(exc)) from None
        return FollowTarget(target.base_url, target.api_key, destination)

    return resolve
