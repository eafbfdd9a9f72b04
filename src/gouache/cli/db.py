"""`gouache db upgrade` and `gouache db current`: the database schema, by hand.

A server migrates at start by itself; these commands let an operator do it ahead of a rolling
upgrade, or check which revision a database is at. The database comes from `--database`, then the
`database` setting (GOUACHE_DATABASE or the config's [server] table), then gouache.db in the data
dir, exactly as the server picks it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gouache.errors import GouacheError
from gouache.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "db",
        help="migrate or inspect the database schema",
        description="Migrate the database schema to this version of gouache, or show its revision.",
    )
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    for name, help_text in (
        ("upgrade", "apply pending migrations (safe to run on several nodes at once)"),
        ("current", "print the database's schema revision"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument(
            "--database",
            metavar="URL",
            help="sqlite:///path/to/file.db or postgresql://user:password@host:5432/name "
            "(default: the database setting, else gouache.db in the data dir)",
        )
        action.add_argument(
            "--data-dir", metavar="DIR", help="the server's data dir (default .gouache)"
        )
        action.add_argument(
            "--config", type=Path, metavar="FILE", help="TOML config file with [server]"
        )
    return parser


def run(args: argparse.Namespace) -> int:
    from gouache.config import load_config
    from gouache.jobs import database, migrate

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        settings = load_settings(
            config.server, {"database": args.database, "data_dir": args.data_dir}
        )
        if settings.database:
            url = database.parse_url(settings.database)
        else:
            url = database.parse_url(database.default_url(settings.data_dir))
        shown = database.shown_url(url)
        path = database.sqlite_path(url)
        if args.db_command == "current":
            if path is not None and not path.exists():
                print(f"gouache db current: no database at {path}", file=sys.stderr)
                return 1
            return _current(database.create_database_engine(url), shown)
        if path is not None and not settings.database:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = database.create_database_engine(url)
        try:
            state = migrate.upgrade(engine)
        finally:
            engine.dispose()
    except GouacheError as exc:
        print(f"gouache db {args.db_command}: {exc.message}", file=sys.stderr)
        return 1
    if state.adopted:
        print(f"{shown}: adopted the gouache 0.1 schema as revision {migrate.ADOPTED_REVISION}")
    if state.applied:
        print(f"{shown}: applied {', '.join(state.applied)}; now at {state.after} (head)")
    else:
        print(f"{shown}: already at {state.after} (head); nothing to do")
    return 0


def _current(engine: Engine, shown: str) -> int:
    from gouache.jobs import migrate

    try:
        revision = migrate.current_revision(engine)
        if revision is None:
            what = "a gouache 0.1 schema" if migrate.has_0_1_schema(engine) else "empty"
            print(
                f"none ({shown}: {what}; `gouache db upgrade` brings it to {migrate.head_revision()})"
            )
            return 0
        migrate.check_known(engine, revision)
        head = migrate.head_revision()
        if revision == head:
            print(f"{revision} (head)")
        else:
            print(f"{revision} (head is {head}; run `gouache db upgrade`)")
        return 0
    finally:
        engine.dispose()
