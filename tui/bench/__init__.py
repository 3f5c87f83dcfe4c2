"""Benchmarks (`attentive-console bench client|send`): figures measured on this machine, printed as
ratios against a baseline measured in the same run."""
