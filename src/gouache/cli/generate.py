"""`gouache generate`: placeholder until the action lands (issue 4)."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return commands.add_parser("generate", help="generate images (the Generate images action)")


def run(args: argparse.Namespace) -> int:
    raise SystemExit("gouache generate is not available yet")
