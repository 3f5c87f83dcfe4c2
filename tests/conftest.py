"""Shared test set-up.

Snapshot SVGs live in the top-level snapshots/ folder: snap_compare looks up
pytest_textual_snapshot.SVGImageExtension when it runs, so replacing the class here redirects it.

The embedded simulator (one per process, shared by every test that uses api_url = "embedded")
completes bulk jobs at once here; its shipped 10-40 s would be real waiting. Tests that follow its
jobs scale the follower's schedule down themselves (job_schedule.SCALE_VARIABLE).

The kits every folder shares, imported by name (tests/ is on sys.path, as this file's folder):
simulator_fixtures (a simulator in this loop, a thread or a process), config_kit (environment files
and config folders), cli_kit (the CLI in this process or another).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest_textual_snapshot

os.environ["ATTENTIVE_CONSOLE_SIM_JOB_DELAY"] = "0s"
pytest_plugins = ["simulator_fixtures", "cli_kit"]  # the simulator in its three modes; cli_on

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SNAPSHOTS = ROOT / "snapshots"


class TopLevelSVGImageExtension(pytest_textual_snapshot.SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location) -> str:
        test_file = Path(test_location.filepath).resolve()
        relative = test_file.relative_to(TESTS).with_suffix("")
        return str(SNAPSHOTS / relative)


pytest_textual_snapshot.SVGImageExtension = TopLevelSVGImageExtension
