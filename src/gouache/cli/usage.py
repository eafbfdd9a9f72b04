"""`gouache usage`: operations and images per API key and end user, for abuse monitoring.

The `user` field is whatever a client sent, so the table escapes every control or invisible
formatting character (and the backslash): a crafted `user` can neither forge a row nor send escape
sequences to the operator's terminal. `--format json` prints the values exactly."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from gouache.settings import load_settings

_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float | None = None) -> int:
    """`7d`, `24h`, `30m`, an ISO date or datetime, or unix seconds."""
    now = time.time() if now is None else now
    match = _RELATIVE.match(text.strip())
    if match:
        return int(now - int(match.group(1)) * _UNITS[match.group(2)])
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--since {text!r}: use 7d, 24h, 30m, an ISO date (2026-11-01) or unix seconds"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def printable(text: str) -> str:
    """`text` with control, format, separator and unassigned characters escaped as `\\xNN`,
    `\\uNNNN` or `\\UNNNNNNNN`, and `\\` doubled, so what the terminal shows is what was sent."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(char)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return "".join(out)


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "usage",
        help="operations and images per API key and end user",
        description=(
            "Count operations and images per API key name and end user (the `user` request field)."
        ),
    )
    parser.add_argument("--data-dir", help="the server's data dir (default .gouache)")
    parser.add_argument(
        "--database", help="database URL (default: gouache.db in the data dir); see docs/deploy.md"
    )
    parser.add_argument("--since", type=parse_since, default=0, help="7d, 24h, ISO date, unix s")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    return parser


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


def run(args: argparse.Namespace) -> int:
    from gouache.errors import GouacheError

    settings = load_settings(
        overrides={"data_dir": args.data_dir, "database": getattr(args, "database", None)}
    )
    database: str | Path = settings.database
    if not database:
        database = Path(settings.data_dir) / "gouache.db"
        if not database.exists():
            print(
                f"gouache usage: no database at {database}; is --data-dir right?", file=sys.stderr
            )
            return 1
    from gouache.jobs.store import OperationStore  # SQLAlchemy: only this sub-command needs it

    try:
        # read-only use: never migrate from a report command
        store = OperationStore(database, migrate=False)
        try:
            rows = store.usage(since=args.since)
        finally:
            store.close()
    except GouacheError as exc:
        print(f"gouache usage: {exc.message}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    header = (
        "key",
        "user",
        "operations",
        "images requested",
        "images made",
        "failed",
        "first",
        "last",
    )
    table = [header] + [
        (
            printable(row["key"]) if row["key"] else "(no key)",
            printable(row["user"]) if row["user"] is not None else "(none)",
            str(row["operations"]),
            str(row["images_requested"] or 0),
            str(row["images_made"] or 0),
            str(row["failed"] or 0),
            _when(row["first"]),
            _when(row["last"]),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    if not rows:
        print("(no operations in this period)")
    return 0
