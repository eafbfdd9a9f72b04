"""`gouache` entry point: one sub-command per module (serve, worker, generate, usage, db, deck, brand-kit)."""

from __future__ import annotations

import argparse
import importlib
import sys

from gouache import __version__

SUBCOMMANDS = ("serve", "worker", "generate", "usage", "db", "deck", "brand_kit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gouache",
        description="Self-hosted image generation that speaks the Azure OpenAI and OpenAI image APIs.",
    )
    parser.add_argument("--version", action="version", version=f"gouache {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"gouache.cli.{name}")
        sub = module.add_parser(commands)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
