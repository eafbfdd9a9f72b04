"""`gouache deck` and the options it shares with `gouache brand-kit`.

Exit status: 0 every picture made (or kept from an earlier run); 1 the deck was written but some
pictures failed (listed on stderr; run the same command again to make them); 2 invalid input
(nothing made or written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from gouache.client import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S
from gouache.errors import GouacheError, InvalidRequest

EXIT_OK, EXIT_PARTIAL, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
T = TypeVar("T")

EPILOG = """\
slides file: CSV, YAML or JSON, one row per slide: title (required), bullets, description,
  prompt, layout. Without a prompt, the description's first sentence (else the title) is drawn.
where pictures are made: as `gouache generate` (in-process on the built-in engine; --endpoint or
  AZURE_OPENAI_ENDPOINT for a gouache server or Azure OpenAI; api-version default 2024-10-21,
  the deployments route, deployment default dall-e-3).
pictures are kept in OUT-images/ beside the deck; the same command again makes only what is
  missing or changed.
exit status: 0 ok; 1 deck written, some pictures failed; 2 invalid input; 130 interrupted.
"""


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """The look and where-it-runs options shared by `deck` and `brand-kit`."""
    parser.add_argument(
        "--style", metavar="TEXT", help='style phrase for every picture (default "flat style")'
    )
    parser.add_argument(
        "--palette", metavar="#HEX,...", help="colours for every picture, e.g. #1f3a5f,#f2a541"
    )
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="seed base (default 1)")
    remote = parser.add_argument_group("remote endpoint")
    remote.add_argument("--endpoint", metavar="URL", help="e.g. https://NAME.openai.azure.com")
    remote.add_argument("--api-key", metavar="KEY", help="sent as the api-key header")
    remote.add_argument("--deployment", metavar="NAME", help="image deployment (default dall-e-3)")
    remote.add_argument("--api-version", metavar="V", help="Azure api-version (default 2024-10-21)")
    remote.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds to wait for each picture (default {DEFAULT_TIMEOUT_S:g})",
    )
    remote.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"most tries of one request (default {DEFAULT_RETRIES})",
    )
    remote.add_argument(
        "--local", action="store_true", help="in-process even if AZURE_OPENAI_ENDPOINT is set"
    )
    remote.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="pictures asked for at once (default 4 with an endpoint, 1 in-process)",
    )
    remote.add_argument("--user", metavar="ID", help="end-user id for abuse monitoring")
    parser.add_argument("--engine", default="builtin", help="in-process engine (default builtin)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def target_kwargs(args: argparse.Namespace) -> dict:
    kwargs = {
        "palette": args.palette,
        "seed": args.seed,
        "endpoint": args.endpoint,
        "api_key": args.api_key,
        "deployment": args.deployment,
        "api_version": args.api_version,
        "engine": args.engine,
        "local": args.local,
        "timeout": args.timeout,
        "retries": args.retries,
        "concurrency": args.concurrency,
        "user": args.user,
        "environ": os.environ,
    }
    if args.style is not None:
        kwargs["style"] = args.style
    return kwargs


def decks_missing(command: str, exc: ImportError) -> int:
    """The decks extra is not installed: say how to get it."""
    print(
        f"{command}: {exc}; install the decks extra: pip install 'gouache[decks]'", file=sys.stderr
    )
    return EXIT_PARTIAL


def run_with_bar(
    command: str, bar: Any, make: Callable[[], T], interrupted: str
) -> tuple[T | None, int]:
    """Run `make` under the progress bar: its result, or None and the exit status once the
    reason is said on stderr (the bar closed first, so the message stands on its own line)."""
    try:
        result = make()
    except InvalidRequest as exc:
        bar.close()
        print(f"{command}: {exc.message}", file=sys.stderr)
        return None, EXIT_INVALID
    except GouacheError as exc:
        bar.close()
        print(f"{command}: {exc.message}", file=sys.stderr)
        return None, EXIT_PARTIAL
    except KeyboardInterrupt:
        bar.close()
        print(f"{command}: interrupted; {interrupted}", file=sys.stderr)
        return None, EXIT_INTERRUPTED
    bar.close()
    return result, EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "deck",
        help="make a PowerPoint deck with one generated picture per slide",
        description="Make a .pptx from a slides file: a title slide, then one slide per row with "
        "a generated picture, the title and the bullets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("slides", metavar="SLIDES_FILE", help="a .csv, .yaml or .json file")
    parser.add_argument("--out", required=True, metavar="DECK.pptx", help="where to write the deck")
    parser.add_argument(
        "--template", metavar="BRAND.pptx", help="use this deck's layouts, fonts and colours"
    )
    parser.add_argument(
        "--title", help="the title slide's title (default: the file's, or its name)"
    )
    parser.add_argument("--subtitle", help="the title slide's subtitle")
    add_target_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        from gouache.decks import make_deck
        from gouache.decks.progress import ProgressBar
    except ImportError as exc:
        return decks_missing("gouache deck", exc)

    stderr = sys.stderr
    bar = ProgressBar(
        "gouache deck", total=1, stream=stderr, enabled=not args.quiet and stderr.isatty()
    )

    result, status = run_with_bar(
        "gouache deck",
        bar,
        lambda: make_deck(
            args.slides,
            args.out,
            template=args.template,
            title=args.title,
            subtitle=args.subtitle,
            progress=_counted(bar, args.slides) if bar.enabled else None,
            **target_kwargs(args),
        ),
        "pictures made so far are kept for the next run",
    )
    if result is None:
        return status
    made = sum(1 for s in result.slides if s.status == "made")
    reused = sum(1 for s in result.slides if s.status == "reused")
    print(
        f"{result.path}: title slide + {_count(len(result.slides), 'slide')}; pictures: {made} made, "
        f"{reused} kept from an earlier run, {len(result.failed)} failed ({result.images_dir})"
    )
    for report in result.failed:
        print(
            f"gouache deck: {report.where} {report.title!r}: picture not made: {report.error}",
            file=stderr,
        )
    if result.failed:
        print(
            "gouache deck: those slides show a stand-in; run the same command again to make "
            "only the missing pictures.",
            file=stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _counted(bar, slides_path):
    """A progress callback whose total is the number of pictures (known once the file is read)."""
    from gouache.decks.slides import read_slides

    with contextlib.suppress(InvalidRequest):  # make_deck reports it
        bar.total = len(read_slides(slides_path).slides)
    return bar
