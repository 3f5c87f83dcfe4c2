"""The sync tests' fixtures, found by name from here: the CLI on sync_kit's config files (`cli_for`)
and a scripted Attentive (for answers the simulator never gives). The simulator process
(`sim_process`) comes from tests/simulator_fixtures.py."""
from fake_attentive import fake_attentive  # noqa: F401
from sync_kit import cli_for  # noqa: F401
