"""The sync tests' fixtures, found by name from here: the simulator in its own process (for the CLI)
and a scripted Attentive (for answers the simulator never gives)."""
from fake_attentive import fake_attentive  # noqa: F401
from sync_kit import sim_process  # noqa: F401
