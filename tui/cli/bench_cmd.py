"""Placeholder: the owning issue fills this command group in."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    print("not implemented yet")
    return 2
