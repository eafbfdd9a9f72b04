"""`gouache generate`: the Generate images action on the command line.

A thin layer over `gouache.client`: parse flags, read the Azure environment variables, show
progress, print the operation. Exit status: 0 success; 1 the server or the engine refused or failed
(the server's code and message are printed), or an image could not be downloaded/saved; 2 invalid
input (nothing was sent); 3 timeout; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime
from typing import IO

from gouache.client import (
    DEFAULT_API_VERSION,
    DEFAULT_DEPLOYMENT,
    DEFAULT_OUT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    SIZES,
    GenerationTimeout,
    InvalidRequest,
    Operation,
    RemoteError,
)
from gouache.client.api import prepare, run_job
from gouache.errors import GouacheError

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_TIMEOUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EPILOG = f"""\
where it runs:
  no --endpoint (and no AZURE_OPENAI_ENDPOINT): in this process on the built-in engine; the
  images are saved in --out (default ./{DEFAULT_OUT}) and each url is the file's file:// URI.
  --deployment picks the rules, as on a server with the default deployments:
    dall-e-2 (default)  --size 256x256, 512x512 or 1024x1024; -n 1..5
    dall-e-3            --size 1024x1024, 1792x1024 or 1024x1792; -n 1
    gpt-image-1         --size auto, 1024x1024, 1536x1024 or 1024x1536; -n 1..10
  --endpoint: on that server. api-versions 2023-06-01-preview .. 2023-10-01-preview use the
  DALL-E 2 submit/poll API (the default is {DEFAULT_API_VERSION}); later ones the deployments
  route (--deployment, default {DEFAULT_DEPLOYMENT}). A deployment named after a model above (none
  named: dall-e-2 on submit/poll, {DEFAULT_DEPLOYMENT} on the deployments route) is checked by that
  model's rules before sending; any other name only for a size that is not WxH, -n below 1
  or an empty prompt: its own sizes and limits are for its server to check.

environment: AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, OPENAI_API_VERSION (flags win).
exit status: 0 ok; 1 server/engine error or failed download; 2 invalid input; 3 timeout.
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "generate",
        help="generate images (the Generate images action)",
        description="Generate images from a prompt and print the operation as JSON.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", metavar="PROMPT", help="what to draw (1..1000 characters)")
    parser.add_argument(
        "-n", type=int, default=1, metavar="N", help="number of images, 1..5 (see --deployment)"
    )
    parser.add_argument(
        "--size",
        metavar="WxH",
        help=f"image size: {', '.join(SIZES)} (default 1024x1024); wider with --deployment",
    )
    parser.add_argument("--user", metavar="ID", help="end-user id for abuse monitoring (<= 256)")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=f"save the images here as {{id}}-{{index}}.png (in-process default ./{DEFAULT_OUT})",
    )
    parser.add_argument("--seed", type=int, metavar="S", help="seed for repeatable images")
    parser.add_argument(
        "--deployment",
        metavar="NAME",
        help="dall-e-2 (default), dall-e-3 or gpt-image-1, whose sizes and limits apply; "
        f"remote: any deployment (deployments route default {DEFAULT_DEPLOYMENT}; on the "
        "submit route it is sent as `model`)",
    )
    remote = parser.add_argument_group("remote endpoint")
    remote.add_argument("--endpoint", metavar="URL", help="e.g. https://NAME.openai.azure.com")
    remote.add_argument("--api-key", metavar="KEY", help="sent as the api-key header")
    remote.add_argument(
        "--api-version", metavar="V", help=f"Azure api-version (default {DEFAULT_API_VERSION})"
    )
    remote.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"total seconds to wait for the images (default {DEFAULT_TIMEOUT_S:g})",
    )
    remote.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"most tries of one request on 429/5xx/network errors (default {DEFAULT_RETRIES})",
    )
    remote.add_argument(
        "--local", action="store_true", help="run in-process even if AZURE_OPENAI_ENDPOINT is set"
    )
    parser.add_argument(
        "--engine",
        default="builtin",
        help="in-process engine (default builtin; `instant` draws flat test images)",
    )
    parser.add_argument(
        "--format",
        choices=["json", "table"],
        default="json",
        help="json: the operation (default); table: a short summary",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    return parser


class ProgressLine:
    """`status  elapsed` on one redrawn stderr line, only on a terminal."""

    def __init__(self, stream: IO[str], enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.status = "starting"
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, status: str, _elapsed: float) -> None:
        self.status = status
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.start
        self.stream.write(f"\r\x1b[Kgouache generate: {self.status}  {elapsed:4.1f} s")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.is_set():
            self._draw()
            self._stop.wait(0.2)

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S} UTC"


def table(operation: Operation) -> str:
    rows = [
        ("id", operation.id or "-"),
        ("status", operation.status),
        ("created", _when(operation.created)),
        ("expires", _when(operation.expires)),
    ]
    for index, item in enumerate(operation.result.data if operation.result else []):
        rows.append((f"image {index}", item.path or item.url or json.dumps(item.error)))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def run(args: argparse.Namespace) -> int:
    stderr = sys.stderr
    progress = ProgressLine(stderr, enabled=not args.quiet and stderr.isatty())
    try:
        job = prepare(
            args.prompt,
            n=args.n,
            size=args.size,
            user=args.user,
            seed=args.seed,
            out=args.out,
            endpoint=args.endpoint,
            api_key=args.api_key,
            deployment=args.deployment,
            api_version=args.api_version,
            timeout=args.timeout,
            retries=args.retries,
            engine=args.engine,
            local=args.local,
            progress=progress,
            environ=os.environ,
        )
    except InvalidRequest as exc:
        print(f"gouache generate: {exc.message}", file=stderr)
        return EXIT_INVALID
    try:
        operation = run_job(job)
    except RemoteError as exc:
        progress.close()
        print(f"gouache generate: {exc}", file=stderr)
        return EXIT_FAILED
    except GenerationTimeout as exc:
        progress.close()
        print(f"gouache generate: timed out: {exc.message}", file=stderr)
        return EXIT_TIMEOUT
    except GouacheError as exc:
        progress.close()
        print(f"gouache generate: {exc.message}", file=stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        progress.close()
        print("gouache generate: interrupted", file=stderr)
        return EXIT_INTERRUPTED
    progress.close()
    if args.format == "table":
        print(table(operation))
    else:
        print(json.dumps(operation.to_dict(), indent=2))
    return EXIT_OK
