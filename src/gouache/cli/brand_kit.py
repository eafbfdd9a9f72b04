"""`gouache brand-kit`: first drafts of a brand's assets in one folder, from one seed base.

Exit status: 0 written; 1 written, but some pictures failed (stand-ins in their place; run the
same command again to make them); 2 invalid input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from gouache.cli.deck import (
    EXIT_OK,
    EXIT_PARTIAL,
    add_target_options,
    decks_missing,
    run_with_bar,
    target_kwargs,
)

EPILOG = """\
writes into --out: logos/logo-1..3.png (the name in type beside a generated mark),
  social/link-preview-1200x630.png, square-1080x1080.png, story-1080x1920.png,
  header-1500x500.png, slides/background-1..2.png (1920x1080), palette.json, palette.css,
  board.png (everything on one page). The same arguments give the same kit.
where pictures are made: as `gouache deck` (in-process by default; --endpoint for a server).
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "brand-kit",
        help="make first drafts of brand assets: logos, social images, slide backgrounds, board",
        description="Make a folder of consistent brand assets for NAME.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help="the brand's name, set in type on the logos")
    parser.add_argument(
        "--description", default="", metavar="TEXT", help="what the brand is or sells"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write the kit into")
    add_target_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        from gouache.decks import make_brand_kit
        from gouache.decks.brand_kit import asset_count
        from gouache.decks.progress import ProgressBar
    except ImportError as exc:
        return decks_missing("gouache brand-kit", exc)

    stderr = sys.stderr
    bar = ProgressBar(
        "gouache brand-kit",
        total=asset_count(),
        stream=stderr,
        enabled=not args.quiet and stderr.isatty(),
    )
    kit, status = run_with_bar(
        "gouache brand-kit",
        bar,
        lambda: make_brand_kit(
            args.name,
            args.out,
            description=args.description,
            progress=bar if bar.enabled else None,
            **target_kwargs(args),
        ),
        "pictures made so far are kept",
    )
    if kit is None:
        return status
    for path in kit.files:
        print(path)
    for asset, reason in kit.failed.items():
        print(f"gouache brand-kit: {asset}: picture not made: {reason}", file=stderr)
    return EXIT_PARTIAL if kit.failed else EXIT_OK
